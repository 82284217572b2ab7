"""Per-member limits and the queue cap, in real Redis and in memory."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio
from tests_support import SCRATCH_REDIS_URL

from bot.limits import JobLimits, LimitReached, MemoryJobLimits, RedisJobLimits


@pytest.fixture(params=["redis", "memory"])
async def limits(request: pytest.FixtureRequest) -> JobLimits:
    settings = {"max_jobs_per_user": 2, "cooldown_seconds": 0.3, "queue_cap": 3}
    if request.param == "memory":
        return MemoryJobLimits(**settings)
    client = redis.asyncio.Redis.from_url(SCRATCH_REDIS_URL)
    await client.flushdb()
    return RedisJobLimits(client, **settings)


async def test_in_flight_cooldown_and_cap(limits: JobLimits) -> None:
    """Two jobs in flight at most, a cooldown between requests, three queued in all."""
    assert await limits.admit(1, "a") == 1
    with pytest.raises(LimitReached, match="wait"):
        await limits.admit(1, "b")
    await asyncio.sleep(0.35)
    assert await limits.admit(1, "b") == 2
    await asyncio.sleep(0.35)
    with pytest.raises(LimitReached, match="2 jobs in flight"):
        await limits.admit(1, "c")
    assert await limits.admit(2, "d") == 3
    with pytest.raises(LimitReached, match="queue is full"):
        await limits.admit(3, "e")
    await limits.release(1, "a")
    assert await limits.position("b") == 1
    assert await limits.jobs_of(1) == ["b"]
    assert await limits.admit(3, "e") == 3
