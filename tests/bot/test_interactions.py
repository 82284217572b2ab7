"""/melody and the buttons through faked interactions, on the real queue and worker."""

from __future__ import annotations

import re

import discord.ext.test as dpytest
import pytest
from interactions_support import click, install, slash

from bot.discord_bot import LstmuseBot

DEFERRED = 5  # InteractionResponseType.deferred_channel_message
EPHEMERAL = 64


def _embed_fields(record) -> dict[str, str]:
    (embed,) = record.payload["embeds"]
    return {field["name"]: field["value"] for field in embed["fields"]}


def _button_ids(record) -> dict[str, str]:
    return {
        button["label"]: button["custom_id"]
        for row in record.payload["components"]
        for button in row["components"]
    }


@pytest.fixture
def channel_and_members(discord_bot: LstmuseBot):
    config = dpytest.get_config()
    guild = config.guilds[0]
    owner = config.members[0]
    other = dpytest.backend.make_member(dpytest.backend.make_user("Other", "0002"), guild)
    return config.channels[0], owner, other


async def test_slash_melody_defers_then_posts_files(
    discord_bot: LstmuseBot, monkeypatch, channel_and_members
) -> None:
    """/melody defers at once, then a follow-up carries MIDI, MP3, PNG, embed and buttons."""
    channel, owner, _ = channel_and_members
    fake = install(monkeypatch, discord_bot, channel)
    slash(
        discord_bot,
        owner,
        channel,
        "melody",
        style="tinyfolk",
        bars=4,
        random_seed=21,
        key="G",
        mode="dorian",
        meter="6/8",
    )
    await fake.wait_for(lambda requests: any(r.files for r in requests))
    first = fake.requests[0]
    assert first.is_callback and first.payload["type"] == DEFERRED
    (post,) = fake.posts_with_files()
    stem = sorted(post.files)[0].rsplit(".", 1)[0]
    assert re.fullmatch(r"tinyfolk-21-t0_8-[0-9a-f]{6}", stem), post.files  # its own temperature
    assert sorted(post.files) == [f"{stem}.mid", f"{stem}.mp3", f"{stem}.png"]
    fields = _embed_fields(post)
    assert fields["Key"] == "G dorian" and fields["Length"].startswith("4 bars of 6/8")
    assert set(_button_ids(post)) == {"Re-roll", "Variation", "Continue", "Info"}


async def test_buttons_reroll_for_owner_and_refuse_others(
    discord_bot: LstmuseBot, monkeypatch, channel_and_members
) -> None:
    """Re-roll makes a new melody for the requester; another member is refused; Info answers."""
    channel, owner, other = channel_and_members
    fake = install(monkeypatch, discord_bot, channel)
    slash(discord_bot, owner, channel, "melody", style="tinyfolk", bars=2, random_seed=5)
    await fake.wait_for(lambda requests: len([r for r in requests if r.files]) == 1)
    (post,) = fake.posts_with_files()
    message = next(m for m in fake.messages.values() if m["attachments"])
    buttons = _button_ids(post)

    click(discord_bot, other, channel, message, buttons["Re-roll"])
    refusal = (await fake.wait_for(lambda rs: rs[-1].is_callback and rs[-1].payload["type"] == 4))[
        -1
    ]
    assert refusal.payload["data"]["flags"] == EPHEMERAL
    assert "Only the member who asked" in refusal.payload["data"]["content"]

    click(discord_bot, owner, channel, message, buttons["Re-roll"])
    await fake.wait_for(lambda requests: len([r for r in requests if r.files]) == 2)
    rerolled = fake.posts_with_files()[-1]
    assert _embed_fields(rerolled)["Random seed"] != "5"
    assert _embed_fields(rerolled)["Style"] == "tinyfolk"

    click(discord_bot, other, channel, message, buttons["Info"])
    info = (
        await fake.wait_for(
            lambda rs: (
                rs[-1].is_callback
                and "Symbols" in rs[-1].payload.get("data", {}).get("content", "")
            )
        )
    )[-1]
    assert info.payload["data"]["flags"] == EPHEMERAL
