"""Helpers for driving the bot through dpytest."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord
import discord.ext.test as dpytest
from discord.ext import commands
from discord.ext.test import callbacks

from bot.settings import BotSettings

if TYPE_CHECKING:
    from bot.discord_bot import LstmuseBot

ADMIN_ID = 4242
SENT_PAYLOADS: list[dict] = []  # the JSON of every message the bot sent, in order


def intents_for_tests() -> discord.Intents:
    """dpytest's fake members live in the member cache, which needs the members intent."""
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    return intents


def make_settings(redis_url: str | None, **overrides: object) -> BotSettings:
    values = {
        "redis_url": redis_url,
        "admin_user_ids": str(ADMIN_ID),
        "cooldown_seconds": 0,
        "job_timeout_seconds": 120,
        "broker_timeout_seconds": 1.0,
        **overrides,
    }
    return BotSettings(discord_token=None, **values)  # type: ignore[arg-type]


def configure(bot: commands.Bot) -> None:
    """`dpytest.configure`, keeping the bot's own allowed mentions and the dynamic items
    (persistent buttons) its setup hook registered: dpytest's new state drops both."""
    allowed_mentions = bot.allowed_mentions
    dynamic_items = bot._connection._view_store._dynamic_items
    dpytest.configure(bot)
    bot._connection.allowed_mentions = allowed_mentions
    bot._connection._view_store._dynamic_items.update(dynamic_items)


async def started_bot(settings: BotSettings) -> LstmuseBot:
    """The bot with its own service on ``settings``, set up as ``login()`` would (its setup
    hooks load the cogs and register the persistent buttons) and fed by dpytest."""
    from bot.discord_bot import LstmuseBot
    from bot.runtime import build_service

    bot = LstmuseBot(settings, build_service(settings), intents=intents_for_tests())
    await bot._async_setup_hook()
    await bot.setup_hook()
    configure(bot)
    return bot


def sent_messages() -> list[discord.Message]:
    messages = []
    while not dpytest.sent_queue.empty():
        messages.append(dpytest.sent_queue.get_nowait())
    return messages


@contextmanager
def recorded_edits() -> Iterator[list[tuple[int, str]]]:
    """(message id, new content) of each message the bot edits inside the block, in order.

    discord.py returns an edited message as a new object, so the message
    dpytest queued keeps its first text: status messages are read from here.
    """
    edits: list[tuple[int, str]] = []

    async def on_edit(channel: Any, message: discord.Message, fields: Any) -> None:
        edits.append((message.id, (fields["params"].payload or {}).get("content", "")))

    callbacks.set_callback(on_edit, "edit_message")
    try:
        yield edits
    finally:
        callbacks.remove_callback("edit_message")


def midi_file(
    path: Path,
    pitches: list[int],
    ticks_per_note: int = 480,
    channel: int = 0,
    key: str | None = None,
) -> str:
    """A one-track MIDI file of ``pitches`` one after another, written with mido; its path
    as dpytest takes an attachment (``channel`` 9: General MIDI's drums; ``key``: a key
    signature, as mido names it: ``"D"``, ``"Bm"``)."""
    import mido

    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    if key is not None:
        track.append(mido.MetaMessage("key_signature", key=key, time=0))
    for pitch in pitches:
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=0, channel=channel))
        track.append(
            mido.Message("note_off", note=pitch, velocity=0, time=ticks_per_note, channel=channel)
        )
    midi.save(str(path))
    return str(path)
