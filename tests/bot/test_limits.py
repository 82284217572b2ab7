"""Per-member limits and the queue cap, in real Redis and in memory."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from tests_support import SCRATCH_REDIS_URL

from bot.jobs import QueueUnavailable
from bot.limits import JobLimits, LimitReached, MemoryJobLimits, RedisJobLimits

MakeLimits = Callable[..., JobLimits]


@pytest.fixture
async def redis_limits() -> AsyncIterator[MakeLimits]:
    """Builds `RedisJobLimits`, each on a client (and connection pool) of its own."""
    clients: list[Any] = []

    def make(**settings: Any) -> JobLimits:
        client = redis.asyncio.Redis.from_url(SCRATCH_REDIS_URL)
        clients.append(client)
        return RedisJobLimits(client, **settings)

    flusher = redis.asyncio.Redis.from_url(SCRATCH_REDIS_URL)
    await flusher.flushdb()
    yield make
    await flusher.flushdb()
    for client in [*clients, flusher]:
        await client.aclose()


@pytest.fixture(params=["redis", "memory"])
async def make_limits(request: pytest.FixtureRequest, redis_limits: MakeLimits) -> MakeLimits:
    """Both backends; the memory one is a single instance, as in console mode."""
    if request.param == "redis":
        return redis_limits
    return lambda **settings: MemoryJobLimits(**settings)


async def test_in_flight_cooldown_and_cap(make_limits: MakeLimits) -> None:
    """Two jobs in flight at most, a cooldown between requests, three queued in all."""
    limits = make_limits(max_jobs_per_user=2, cooldown_seconds=0.3, queue_cap=3)
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


async def _admit_all(callers: list[tuple[JobLimits, int, str]]) -> list[int | BaseException]:
    return await asyncio.gather(
        *(limits.admit(user, job) for limits, user, job in callers), return_exceptions=True
    )


async def test_concurrent_requests_of_one_member_respect_the_job_limit(
    redis_limits: MakeLimits,
) -> None:
    """20 simultaneous requests from one member over 20 connections: exactly 2 admitted."""
    settings = {"max_jobs_per_user": 2, "cooldown_seconds": 0, "queue_cap": 100}
    callers = [(redis_limits(**settings), 7, f"job-{n}") for n in range(20)]
    outcomes = await _admit_all(callers)
    admitted = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, LimitReached)]
    assert sorted(admitted) == [1, 2]
    assert len(refused) == 18
    assert len(await callers[0][0].jobs_of(7)) == 2


async def test_concurrent_members_respect_the_queue_cap(redis_limits: MakeLimits) -> None:
    """30 members at once over 30 connections against a cap of 5: exactly 5 admitted."""
    settings = {"max_jobs_per_user": 2, "cooldown_seconds": 0, "queue_cap": 5}
    callers = [(redis_limits(**settings), member, f"job-{member}") for member in range(30)]
    outcomes = await _admit_all(callers)
    assert sorted(o for o in outcomes if isinstance(o, int)) == [1, 2, 3, 4, 5]
    refused = [o for o in outcomes if isinstance(o, LimitReached)]
    assert len(refused) == 25
    assert all("queue is full" in str(error) for error in refused)


async def test_refund_frees_the_slot_and_clears_its_cooldown(make_limits: MakeLimits) -> None:
    """A refunded request leaves neither a job in flight nor a cooldown behind."""
    limits = make_limits(max_jobs_per_user=1, cooldown_seconds=60, queue_cap=5)
    assert await limits.admit(1, "a") == 1
    await limits.refund(1, "a")
    assert await limits.jobs_of(1) == []
    assert await limits.position("a") is None
    assert await limits.admit(1, "b") == 1


async def test_refund_keeps_a_cooldown_set_by_a_later_job(make_limits: MakeLimits) -> None:
    """Refunding an old job does not lift the cooldown its successor started."""
    limits = make_limits(max_jobs_per_user=3, cooldown_seconds=0.5, queue_cap=5)
    await limits.admit(1, "a")
    await asyncio.sleep(0.6)
    await limits.admit(1, "b")
    await limits.refund(1, "a")
    with pytest.raises(LimitReached, match="wait"):
        await limits.admit(1, "c")


async def test_release_frees_the_slot_but_keeps_the_cooldown(make_limits: MakeLimits) -> None:
    """A finished job frees its slot and queue place; its cooldown still runs."""
    limits = make_limits(max_jobs_per_user=1, cooldown_seconds=60, queue_cap=5)
    await limits.admit(1, "a")
    await limits.admit(2, "b")
    await limits.release(1, "a")
    assert await limits.jobs_of(1) == []
    assert await limits.position("a") is None
    assert await limits.position("b") == 1
    with pytest.raises(LimitReached, match="wait"):
        await limits.admit(1, "c")

    no_cooldown = make_limits(max_jobs_per_user=1, cooldown_seconds=0, queue_cap=5)
    await no_cooldown.admit(3, "d")
    with pytest.raises(LimitReached, match="1 jobs in flight"):
        await no_cooldown.admit(3, "e")
    await no_cooldown.release(3, "d")
    await no_cooldown.admit(3, "e")
    assert await no_cooldown.jobs_of(3) == ["e"]


async def test_stale_jobs_expire_from_the_members_set(make_limits: MakeLimits) -> None:
    """A job older than the job TTL stops counting, even while the member keeps asking."""
    limits = make_limits(max_jobs_per_user=2, cooldown_seconds=0, queue_cap=5, job_ttl_seconds=1)
    await limits.admit(1, "lost")  # its bot crashed: never released
    await asyncio.sleep(0.6)
    await limits.admit(1, "fresh")  # a new job must not keep "lost" alive
    await asyncio.sleep(0.6)
    assert await limits.jobs_of(1) == ["fresh"]
    assert await limits.admit(1, "next") == 2


async def test_redis_unreachable_is_queue_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    """No Redis: admit, jobs_of and position say "queue unreachable" quickly; release logs."""
    # One quick retry: redis-py's default (3, backing off up to seconds) is the client's
    # choice, not the limits'.
    client = redis.asyncio.Redis(
        host="127.0.0.1",
        port=6399,
        socket_connect_timeout=1,
        socket_timeout=1,
        retry=Retry(ExponentialBackoff(cap=0.2), retries=1),
    )
    limits = RedisJobLimits(client, max_jobs_per_user=2, cooldown_seconds=0, queue_cap=5)
    calls = [lambda: limits.admit(1, "a"), lambda: limits.jobs_of(1), lambda: limits.position("a")]
    for call in calls:
        started = time.monotonic()
        with pytest.raises(QueueUnavailable):
            await call()
        assert time.monotonic() - started < 3
    with caplog.at_level(logging.WARNING, logger="bot.limits"):
        await limits.release(7, "job-released")
        await limits.refund(7, "job-refunded")
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    released = [m for m in messages if "release job job-released of member 7" in m]
    refunded = [m for m in messages if "refund job job-refunded of member 7" in m]
    assert len(released) == len(refunded) == 1, messages
    assert "6399" in released[0] and "6399" in refunded[0]  # the Redis error, as raised
    await client.aclose()
