"""Slash commands and button clicks without Discord's servers.

discord.py answers interactions through its webhook adapter; this fake
records every request (route, JSON payload, file names) and answers like
Discord would, so the bot's real code runs. Interactions are fed to
``ConnectionState.parse_interaction_create`` as Discord's gateway would.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord
from discord.webhook.async_ import AsyncWebhookAdapter

APPLICATION_ID = 900_000_000_000_000_001
_ids = itertools.count(910_000_000_000_000_000)


@dataclass
class Recorded:
    method: str
    path: str
    payload: dict[str, Any]
    files: list[str]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def is_callback(self) -> bool:
        return self.path.endswith("/callback")


class FakeDiscordWebhooks:
    """Stands in for Discord's HTTP API for interaction responses and follow-ups."""

    def __init__(self, channel: discord.abc.GuildChannel, bot_user: discord.ClientUser) -> None:
        self.channel = channel
        self.bot_user = bot_user
        self.requests: list[Recorded] = []
        self.messages: dict[int, dict[str, Any]] = {}

    async def request(
        self,
        route: Any,
        session: Any = None,
        *,
        payload: Any = None,
        multipart: Any = None,
        files: Any = None,
        params: Any = None,
        **_: Any,
    ) -> Any:
        if payload is None and multipart:
            payload = json.loads(multipart[0]["value"])
        record = Recorded(
            route.method,
            route.path,
            payload or {},
            [f.filename for f in files or []],
            dict(params or {}),
        )
        self.requests.append(record)
        if record.is_callback:  # discord.py asks for the callback's outcome (with_response=1)
            interaction_id = route.url.split("/interactions/")[1].split("/")[0]
            return {
                "interaction": {"id": interaction_id, "type": record.payload.get("type", 0)},
                "resource": {"type": record.payload.get("type", 0)},
            }
        return self._message(record)

    def _message(self, record: Recorded) -> dict[str, Any]:
        message_id = next(_ids)
        data = {
            "id": str(message_id),
            "channel_id": str(self.channel.id),
            "type": 0,
            "content": record.payload.get("content") or "",
            "tts": False,
            "author": {
                "id": str(self.bot_user.id),
                "username": self.bot_user.name,
                "discriminator": "0000",
                "avatar": None,
                "bot": True,
            },
            "attachments": [
                {
                    "id": str(next(_ids)),
                    "filename": name,
                    "size": 1,
                    "url": f"https://example.invalid/{name}",
                    "proxy_url": f"https://example.invalid/{name}",
                }
                for name in record.files
            ],
            "embeds": record.payload.get("embeds") or [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "timestamp": "2026-11-25T00:00:00+00:00",
            "edited_timestamp": None,
            "flags": 0,
            "components": record.payload.get("components") or [],
        }
        self.messages[message_id] = data
        return data

    def posts_with_files(self) -> list[Recorded]:
        return [r for r in self.requests if r.files]

    async def wait_for(self, predicate: Any, timeout: float = 120.0) -> list[Recorded]:
        """Wait until the recorded requests satisfy ``predicate`` (the bot works in tasks)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate(self.requests):
            if loop.time() > deadline:
                raise AssertionError(f"timed out; requests so far: {self.requests}")
            await asyncio.sleep(0.05)
        return self.requests


def install(monkeypatch: Any, bot: discord.Client, channel: Any) -> FakeDiscordWebhooks:
    fake = FakeDiscordWebhooks(channel, bot.user)  # type: ignore[arg-type]
    monkeypatch.setattr(
        AsyncWebhookAdapter,
        "request",
        lambda self, route, session=None, **kw: fake.request(route, session, **kw),
    )
    bot._connection._command_tree = bot.tree  # dpytest swapped the state the tree was bound to
    return fake


def _member_payload(member: discord.Member) -> dict[str, Any]:
    return {
        "user": {
            "id": str(member.id),
            "username": member.name,
            "discriminator": "0001",
            "avatar": None,
            "global_name": None,
        },
        "roles": [],
        "joined_at": "2026-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "permissions": "0",
        "flags": 0,
    }


def feed_interaction(
    bot: discord.Client,
    member: discord.Member,
    channel: Any,
    *,
    kind: int,
    data: dict[str, Any],
    message: dict[str, Any] | None = None,
    upload_limit: int = 25 * 1024 * 1024,
) -> None:
    """An INTERACTION_CREATE event, as the gateway would deliver it.

    ``upload_limit``: the bytes of files a message may carry there, as Discord
    tells each interaction (``attachment_size_limit``).
    """
    payload: dict[str, Any] = {
        "id": str(next(_ids)),
        "application_id": str(APPLICATION_ID),
        "type": kind,
        "token": f"token-{next(_ids)}",
        "version": 1,
        "guild_id": str(channel.guild.id),
        "channel_id": str(channel.id),
        "channel": {
            "id": str(channel.id),
            "type": 0,
            "guild_id": str(channel.guild.id),
            "name": channel.name,
            "position": 0,
        },
        "member": _member_payload(member),
        "data": data,
        "attachment_size_limit": upload_limit,
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {},
        "app_permissions": "0",
        "context": 0,
    }
    if message is not None:
        payload["message"] = message
    bot._connection.parse_interaction_create(payload)  # type: ignore[attr-defined]


_KINDS = {str: 3, int: 4, bool: 5, float: 10}
ATTACHMENT = 11  # AppCommandOptionType.attachment


def slash(
    bot: discord.Client,
    member: discord.Member,
    channel: Any,
    name: str,
    upload_limit: int = 25 * 1024 * 1024,
    **options: Any,
) -> None:
    """``/name`` with ``options``; a `Path` value is an attached file, resolved as Discord
    resolves one (dpytest's HTTP reads its URL as a local path when the bot downloads it)."""
    resolved: dict[str, Any] = {}
    values = []
    for option, value in options.items():
        if isinstance(value, Path):
            attachment_id = str(next(_ids))
            resolved[attachment_id] = {
                "id": attachment_id,
                "filename": value.name,
                "size": value.stat().st_size,
                "url": str(value),
                "proxy_url": str(value),
            }
            values.append({"name": option, "type": ATTACHMENT, "value": attachment_id})
        else:
            values.append({"name": option, "type": _KINDS[type(value)], "value": value})
    data: dict[str, Any] = {"id": str(next(_ids)), "name": name, "type": 1, "options": values}
    if resolved:
        data["resolved"] = {"attachments": resolved}
    feed_interaction(bot, member, channel, kind=2, upload_limit=upload_limit, data=data)


def autocomplete(
    bot: discord.Client,
    member: discord.Member,
    channel: Any,
    name: str,
    focused: str,
    **options: Any,
) -> None:
    """A member typing in ``focused`` (its text so far in ``options``) of ``/name``."""
    feed_interaction(
        bot,
        member,
        channel,
        kind=4,  # APPLICATION_COMMAND_AUTOCOMPLETE
        data={
            "id": str(next(_ids)),
            "name": name,
            "type": 1,
            "options": [
                {"name": k, "type": _KINDS[type(v)], "value": v, "focused": k == focused}
                for k, v in options.items()
            ],
        },
    )


def click(
    bot: discord.Client,
    member: discord.Member,
    channel: Any,
    message: dict[str, Any],
    custom_id: str,
) -> None:
    feed_interaction(
        bot,
        member,
        channel,
        kind=3,
        message=message,
        data={"custom_id": custom_id, "component_type": 2},
    )
