"""/melody and the buttons through faked interactions, on the real queue and worker."""

from __future__ import annotations

import re

import discord.ext.test as dpytest
import pytest
from dpytest_support import started_bot
from interactions_support import click, install, slash

from bot.cogs.melody import EXPIRED
from bot.discord_bot import LstmuseBot
from bot.posts import POST_KEY

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


async def _posted_melody(discord_bot: LstmuseBot, monkeypatch, channel, owner):
    """``/melody`` by ``owner``, answered: (the faked Discord, the posted message, its
    buttons' custom ids by label)."""
    fake = install(monkeypatch, discord_bot, channel)
    slash(discord_bot, owner, channel, "melody", style="tinyfolk", bars=2, random_seed=5)
    await fake.wait_for(lambda requests: len([r for r in requests if r.files]) == 1)
    (post,) = fake.posts_with_files()
    message = next(m for m in fake.messages.values() if m["attachments"])
    return fake, message, _button_ids(post)


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
    fake, message, buttons = await _posted_melody(discord_bot, monkeypatch, channel, owner)

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


async def _restarted(bot: LstmuseBot) -> LstmuseBot:
    """A new bot process on the same Redis: new service, post store and cogs, no old views
    (dpytest now feeds the new one; the old one, which cannot log out here, hears nothing)."""
    return await started_bot(bot.settings)


async def test_buttons_work_after_a_restart_and_say_when_expired(
    discord_bot: LstmuseBot, monkeypatch, channel_and_members, redis_db
) -> None:
    """A button pressed after the bot restarted re-rolls its melody; once the melody is no
    longer kept, the press gets a short private answer."""
    channel, owner, _ = channel_and_members
    fake, message, buttons = await _posted_melody(discord_bot, monkeypatch, channel, owner)

    bot = await _restarted(discord_bot)
    config = dpytest.get_config()
    channel = config.channels[0]
    owner = dpytest.backend.make_member(
        dpytest.backend.make_user(owner.name, "0001", id_num=owner.id), config.guilds[0]
    )
    fake = install(monkeypatch, bot, channel)
    click(bot, owner, channel, message, buttons["Re-roll"])
    await fake.wait_for(lambda requests: any(r.files for r in requests))
    rerolled = fake.posts_with_files()[-1]
    assert _embed_fields(rerolled)["Style"] == "tinyfolk"
    assert _embed_fields(rerolled)["Random seed"] != "5"
    assert set(_button_ids(rerolled)) == {"Re-roll", "Variation", "Continue", "Info"}

    post_id = buttons["Variation"].split(":")[2]
    redis_db.delete(POST_KEY.format(post_id))  # its time (LSTMUSE_BUTTON_TIMEOUT_SECONDS) is up
    click(bot, owner, channel, message, buttons["Variation"])
    answer = (
        await fake.wait_for(lambda rs: rs[-1].is_callback and rs[-1].payload.get("type") == 4)
    )[-1]
    assert answer.payload["data"]["content"] == EXPIRED
    assert answer.payload["data"]["flags"] == EPHEMERAL


async def test_files_follow_the_upload_limit_where_they_are_posted(
    discord_bot: LstmuseBot, monkeypatch, channel_and_members
) -> None:
    """Where Discord allows 4 KiB a message, the MIDI file is posted and the audio and
    picture, each larger, are named as left out."""
    channel, owner, _ = channel_and_members
    fake = install(monkeypatch, discord_bot, channel)
    slash(discord_bot, owner, channel, "melody", upload_limit=4096, style="tinyfolk", bars=2)
    requests = await fake.wait_for(
        lambda rs: any("Left out" in (r.payload.get("content") or "") for r in rs)
    )
    (post,) = fake.posts_with_files()
    assert [name.rsplit(".", 1)[1] for name in post.files] == ["mid"]
    assert post.payload["embeds"]  # the melody's facts and buttons come with what fits
    (note,) = [r for r in requests if "Left out" in (r.payload.get("content") or "")]
    assert ".mp3 (" in note.payload["content"] and ".png (" in note.payload["content"]
    assert "over the upload limit here (4 KiB)" in note.payload["content"]
