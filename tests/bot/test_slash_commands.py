"""Slash commands that explain themselves: suggestions from the catalogue, as Discord asks.

The bot reads the catalogue from the real Redis (written here as a worker
publishes it); no worker is needed to suggest.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import discord.ext.test as dpytest
import pytest
from dpytest_support import make_settings, started_bot
from interactions_support import FakeDiscordWebhooks, autocomplete, install
from tests_support import REDIS_URL

from bot.discord_bot import LstmuseBot
from lstmuse_core.jobs.keys import CATALOGUE_KEY

AUTOCOMPLETE_RESULT = 8  # InteractionResponseType.autocomplete_result
CATALOGUE = {
    "folk": {
        "description": "folk tunes",
        "active_version": "v002",
        "versions": [
            {"version": "v001", "meters": ["2/4"], "modes": ["locrian"]},
            {"version": "v002", "meters": ["4/4", "3/4"], "modes": ["major", "dorian"]},
        ],
    },
    "irish": {
        "description": "jigs",
        "active_version": "v001",
        "versions": [{"version": "v001", "meters": ["6/8", "9/8"], "modes": ["minor"]}],
    },
}


@pytest.fixture
async def catalogue_bot(
    redis_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[LstmuseBot]:
    """The bot on the real Redis, whose published catalogue is `CATALOGUE`."""
    monkeypatch.chdir(tmp_path)  # dpytest writes dpytest_N.dat files here
    settings = make_settings(REDIS_URL)
    bot = await started_bot(settings)
    original = redis_db.get(CATALOGUE_KEY)
    redis_db.set(CATALOGUE_KEY, json.dumps(CATALOGUE))
    yield bot
    if original is None:
        redis_db.delete(CATALOGUE_KEY)
    else:
        redis_db.set(CATALOGUE_KEY, original)
    await dpytest.empty_queue()


async def _suggested(
    bot: LstmuseBot, fake: FakeDiscordWebhooks, command: str, focused: str, **typed: str
) -> list[tuple[str, str]]:
    """(label, value) of what Discord would show while ``focused`` is being typed."""
    config = dpytest.get_config()
    before = len(fake.requests)
    autocomplete(bot, config.members[0], config.channels[0], command, focused, **typed)
    requests = await fake.wait_for(
        lambda rs: any(r.payload.get("type") == AUTOCOMPLETE_RESULT for r in rs[before:])
    )
    (answer,) = [r for r in requests[before:] if r.payload.get("type") == AUTOCOMPLETE_RESULT]
    return [(choice["name"], choice["value"]) for choice in answer.payload["data"]["choices"]]


async def test_melody_suggests_the_catalogue_and_the_chosen_styles_meters_and_modes(
    catalogue_bot: LstmuseBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Styles from the catalogue; meters and modes of the style chosen in the same command."""
    bot = catalogue_bot
    fake = install(monkeypatch, bot, dpytest.get_config().channels[0])

    async def values(focused: str, **typed: str) -> list[str]:
        return [value for _, value in await _suggested(bot, fake, "melody", focused, **typed)]

    assert await values("style", style="") == ["folk", "irish"]
    assert await values("style", style="IR") == ["irish"]
    assert await values("meter", style="irish", meter="") == ["6/8", "9/8"]
    assert await values("meter", style="folk", meter="") == ["4/4", "3/4"]  # the active v002's
    assert await values("meter", style="folk", meter="3") == ["3/4"]
    assert await values("mode", style="irish", mode="") == ["minor"]
    assert await values("mode", style="Folk", mode="d") == ["dorian"]
    assert "flute" in await values("instrument", instrument="fl")


async def test_melody_suggests_keys_in_the_chosen_mode(
    catalogue_bot: LstmuseBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys are labelled in the chosen mode; without one, major and minor keys are offered."""
    bot = catalogue_bot
    fake = install(monkeypatch, bot, dpytest.get_config().channels[0])
    assert await _suggested(bot, fake, "melody", "key", mode="dorian", key="e") == [
        ("Eb dorian", "Eb"),
        ("E dorian", "E"),
    ]
    assert ("A minor", "Am") in await _suggested(bot, fake, "melody", "key", key="am")


async def test_rollback_suggests_styles_and_the_chosen_styles_versions(
    catalogue_bot: LstmuseBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/rollback (and the other admin commands) suggest styles; versions are the style's."""
    bot = catalogue_bot
    fake = install(monkeypatch, bot, dpytest.get_config().channels[0])
    assert await _suggested(bot, fake, "rollback", "style", style="f") == [("folk", "folk")]
    assert await _suggested(bot, fake, "retrain", "style", style="") == [
        ("folk", "folk"),
        ("irish", "irish"),
    ]
    versions = await _suggested(bot, fake, "rollback", "version", style="folk", version="")
    assert versions == [("v002", "v002"), ("v001", "v001")]


async def test_nothing_is_suggested_while_the_queue_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis down: an empty list (Discord shows none), not an error."""
    monkeypatch.chdir(tmp_path)
    settings = make_settings("redis://127.0.0.1:6399/0")
    bot = await started_bot(settings)
    fake = install(monkeypatch, bot, dpytest.get_config().channels[0])
    assert await _suggested(bot, fake, "melody", "style", style="") == []
    await dpytest.empty_queue()
