"""A discord.py bot driven through dpytest (Discord's servers are the one fake)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import discord.ext.test as dpytest
import pytest
from discord import http as discord_http
from discord.ext.test import backend
from dpytest_support import SENT_PAYLOADS, make_settings, started_bot

from bot.discord_bot import LstmuseBot


@pytest.fixture(scope="session", autouse=True)
def _dpytest_keeps_text_with_files() -> Iterator[None]:
    """dpytest 0.7 drops text, embeds and views when files are attached: parse payload_json."""
    original = backend.FakeHttp.send_message

    async def send_message(self, channel_id, *, params):  # type: ignore[no-untyped-def]
        # dpytest reads `channel` from its caller's locals: keep it visible from this frame.
        channel = backend._get_higher_locs(1).get("channel")  # noqa: F841
        if params.payload is None and params.multipart:
            payload = json.loads(params.multipart[0]["value"])
            params = discord_http.MultipartParameters(
                payload=payload, multipart=params.multipart, files=params.files
            )
        SENT_PAYLOADS.append(params.payload or {})  # dpytest keeps no allowed_mentions
        return await original(self, channel_id, params=params)

    backend.FakeHttp.send_message = send_message
    yield
    backend.FakeHttp.send_message = original


@pytest.fixture
async def discord_bot(
    celery_worker_process, worker_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[LstmuseBot]:
    """The bot on the real queue (Redis + the worker process), configured for dpytest."""
    monkeypatch.chdir(tmp_path)  # dpytest writes dpytest_N.dat files here
    settings = make_settings(worker_env["LSTMUSE_REDIS_URL"])
    bot = await started_bot(settings)
    SENT_PAYLOADS.clear()
    yield bot
    await dpytest.empty_queue()
