"""Per-member limits and the global queue: jobs in flight, cooldown, queue cap.

Kept in Redis when there is one (several bot processes share it), in memory
in the embedded mode. The checks are the same; only the storage differs.
"""

from __future__ import annotations

import time
from typing import Any

from lstmuse_core.errors import LstmuseError

QUEUE_KEY = "lstmuse:queue"


class LimitReached(LstmuseError):
    """A member (or everyone) must wait; the message says how long or why."""


class JobLimits:
    def __init__(self, max_jobs_per_user: int, cooldown_seconds: float, queue_cap: int) -> None:
        self.max_jobs = max_jobs_per_user
        self.cooldown = cooldown_seconds
        self.queue_cap = queue_cap

    async def admit(self, user_id: int, job_id: str) -> int:
        """Register a job or raise `LimitReached`; returns its 1-based queue position."""
        mine = await self.jobs_of(user_id)
        if len(mine) >= self.max_jobs:
            raise LimitReached(
                f"you have {len(mine)} jobs in flight (the limit is "
                f"{self.max_jobs}); wait for one to finish or `cancel` one"
            )
        wait = await self._cooldown_left(user_id)
        if wait > 0:
            raise LimitReached(f"please wait {wait:.0f} more seconds before your next request")
        if await self._queue_length() >= self.queue_cap:
            raise LimitReached("the queue is full right now; please try again in a minute")
        await self._add(user_id, job_id)
        return await self.position(job_id) or 1

    async def jobs_of(self, user_id: int) -> list[str]:
        raise NotImplementedError

    async def position(self, job_id: str) -> int | None:
        raise NotImplementedError

    async def release(self, user_id: int, job_id: str) -> None:
        raise NotImplementedError

    async def _cooldown_left(self, user_id: int) -> float:
        raise NotImplementedError

    async def _queue_length(self) -> int:
        raise NotImplementedError

    async def _add(self, user_id: int, job_id: str) -> None:
        raise NotImplementedError


class RedisJobLimits(JobLimits):
    """Limits in Redis: a sorted set for the queue, a set and a cooldown key per member."""

    def __init__(self, client: Any, *, job_ttl_seconds: int = 3600, **limits: Any) -> None:
        super().__init__(**limits)
        self.client = client
        self.job_ttl = job_ttl_seconds

    async def admit(self, user_id: int, job_id: str) -> int:
        import redis

        from bot.jobs import QueueUnavailable

        try:
            return await super().admit(user_id, job_id)
        except (redis.RedisError, OSError) as error:
            raise QueueUnavailable() from error

    async def release(self, user_id: int, job_id: str) -> None:
        import redis

        try:
            await self.client.srem(f"lstmuse:user:{user_id}:jobs", job_id)
            await self.client.zrem(QUEUE_KEY, job_id)
        except (redis.RedisError, OSError):
            pass  # the entries expire with their TTL

    async def jobs_of(self, user_id: int) -> list[str]:
        members = await self.client.smembers(f"lstmuse:user:{user_id}:jobs")
        return sorted(m.decode() if isinstance(m, bytes) else m for m in members)

    async def position(self, job_id: str) -> int | None:
        rank = await self.client.zrank(QUEUE_KEY, job_id)
        return None if rank is None else int(rank) + 1

    async def _cooldown_left(self, user_id: int) -> float:
        milliseconds = await self.client.pttl(f"lstmuse:user:{user_id}:cooldown")
        return max(0.0, milliseconds / 1000)

    async def _queue_length(self) -> int:
        # Jobs older than the TTL were lost with a crashed bot: forget them.
        await self.client.zremrangebyscore(QUEUE_KEY, 0, time.time() - self.job_ttl)
        return int(await self.client.zcard(QUEUE_KEY))

    async def _add(self, user_id: int, job_id: str) -> None:
        jobs_key = f"lstmuse:user:{user_id}:jobs"
        await self.client.sadd(jobs_key, job_id)
        await self.client.expire(jobs_key, self.job_ttl)
        await self.client.zadd(QUEUE_KEY, {job_id: time.time()})
        if self.cooldown > 0:
            await self.client.set(
                f"lstmuse:user:{user_id}:cooldown", 1, px=max(1, int(self.cooldown * 1000))
            )


class MemoryJobLimits(JobLimits):
    """The same limits in this process (embedded mode)."""

    def __init__(self, **limits: Any) -> None:
        super().__init__(**limits)
        self.queue: dict[str, float] = {}
        self.jobs: dict[int, set[str]] = {}
        self.last_request: dict[int, float] = {}

    async def jobs_of(self, user_id: int) -> list[str]:
        return sorted(self.jobs.get(user_id, set()))

    async def position(self, job_id: str) -> int | None:
        order = sorted(self.queue, key=self.queue.__getitem__)
        return order.index(job_id) + 1 if job_id in self.queue else None

    async def release(self, user_id: int, job_id: str) -> None:
        self.jobs.get(user_id, set()).discard(job_id)
        self.queue.pop(job_id, None)

    async def _cooldown_left(self, user_id: int) -> float:
        return self.last_request.get(user_id, -1e9) + self.cooldown - time.monotonic()

    async def _queue_length(self) -> int:
        return len(self.queue)

    async def _add(self, user_id: int, job_id: str) -> None:
        self.jobs.setdefault(user_id, set()).add(job_id)
        self.queue[job_id] = time.time()
        self.last_request[user_id] = time.monotonic()
