"""Prefix commands through discord.py and dpytest, on the real queue and worker."""

from __future__ import annotations

import time

import discord.ext.test as dpytest
import pytest
import redis
from discord.ext import commands
from dpytest_support import ADMIN_ID, intents_for_tests, make_settings, sent_messages
from tests_support import REDIS_URL

from bot.discord_bot import LstmuseBot
from bot.runtime import build_service


async def test_melody_posts_files_embed_and_buttons(discord_bot: LstmuseBot) -> None:
    """!melody: a status reply edited along, then MIDI + MP3 + PNG with an embed and buttons."""
    await dpytest.message(
        '!melody style=tinyfolk temp=0.9 bars=4 key=D seed="D4 E4" random_seed=77'
    )
    messages = sent_messages()
    post = messages[-1]
    names = sorted(a.filename for a in post.attachments)
    assert names == [
        "lstmuse-tinyfolk-77.mid",
        "lstmuse-tinyfolk-77.mp3",
        "lstmuse-tinyfolk-77.png",
    ]
    (embed,) = post.embeds
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Random seed"] == "77" and fields["Key"] == "D major"
    assert fields["Temperature"] == "0.9" and fields["Model"].startswith("v")
    assert "Queued" in messages[0].content or "Done" in messages[0].content


async def test_bad_option_is_answered_and_nothing_is_queued(discord_bot: LstmuseBot) -> None:
    """A bad value gets one reply naming the parameter, value and allowed range."""
    # dpytest re-raises a command's error after the bot's handler has replied.
    with pytest.raises(commands.CommandInvokeError):
        await dpytest.message("!melody temp=7")
    (reply,) = sent_messages()
    assert reply.content == "Sorry: temperature=7.0 is not allowed: a number from 0.1 to 2"
    assert await discord_bot.service.limits.jobs_of(dpytest.get_config().members[0].id) == []


async def test_retrain_is_for_admins_only(discord_bot: LstmuseBot) -> None:
    """A member without admin rights is refused politely and nothing is queued."""
    client = redis.Redis.from_url(REDIS_URL)
    queued_before = client.llen("train")
    with pytest.raises(commands.CheckFailure):
        await dpytest.message("!retrain style=tinyfolk epochs=1")
    (reply,) = sent_messages()
    assert "only the server's LSTMuse admins" in reply.content
    assert client.llen("train") == queued_before


async def test_styles_lists_the_catalogue(discord_bot: LstmuseBot) -> None:
    """!styles reads the catalogue the worker published."""
    await dpytest.message("!styles")
    (reply,) = sent_messages()
    assert "**tinyfolk**" in reply.content


async def test_queue_unreachable_is_said_quickly(tmp_path, monkeypatch) -> None:
    """With Redis down the bot answers within a few seconds and keeps running."""
    monkeypatch.chdir(tmp_path)
    settings = make_settings("redis://127.0.0.1:6399/0")
    bot = LstmuseBot(settings, build_service(settings), intents=intents_for_tests())
    await bot._async_setup_hook()
    await bot.setup_hook()  # loads the cogs (login() would, but there is no login here)
    dpytest.configure(bot)
    started = time.monotonic()
    await dpytest.message("!melody bars=2")
    elapsed = time.monotonic() - started
    (reply,) = sent_messages()
    assert "unreachable" in reply.content
    assert elapsed < 10
    with pytest.raises(commands.CommandInvokeError):  # replied to, then re-raised by dpytest
        await dpytest.message("!styles")
    assert "unreachable" in sent_messages()[0].content


async def test_admin_is_recognised(discord_bot: LstmuseBot) -> None:
    """A configured admin id passes the admin check (models lists the versions)."""
    from bot.discord_bot import is_admin

    member = dpytest.get_config().members[0]
    assert not is_admin(discord_bot.settings, member)
    assert ADMIN_ID in discord_bot.settings.admin_users
