"""Per-member limits and the global queue: jobs in flight, cooldown, queue cap.

Kept in Redis when there is one (several bot processes share it), in memory
in the embedded mode. Both backends check and add a job in one indivisible
step (a Lua script in Redis; no ``await`` in between in memory), so members
racing each other, or one member racing themself, cannot slip past a limit.

A job holds its slot until ``release`` (it reached a final state) or
``refund`` (it failed before any work was queued: the cooldown it started is
lifted too). A job never released, because its bot crashed, stops counting
``job_ttl_seconds`` after its admission.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis

from bot.jobs import QueueUnavailable
from lstmuse_core.errors import LstmuseError

log = logging.getLogger(__name__)

QUEUE_KEY = "lstmuse:queue"
DEFAULT_JOB_TTL_SECONDS = 3600.0


class LimitReached(LstmuseError):
    """A member (or everyone) must wait; the message says how long or why."""


class JobLimits:
    """The limits themselves; subclasses store the jobs."""

    def __init__(
        self,
        max_jobs_per_user: int,
        cooldown_seconds: float,
        queue_cap: int,
        job_ttl_seconds: float = DEFAULT_JOB_TTL_SECONDS,
    ) -> None:
        self.max_jobs = max_jobs_per_user
        self.cooldown = cooldown_seconds
        self.queue_cap = queue_cap
        self.job_ttl = job_ttl_seconds

    async def admit(self, user_id: int, job_id: str) -> int:
        """Register a job or raise `LimitReached`; returns its 1-based queue position."""
        raise NotImplementedError

    async def release(self, user_id: int, job_id: str) -> None:
        """The job reached a final state: free its slot and queue place (the cooldown runs on)."""
        raise NotImplementedError

    async def refund(self, user_id: int, job_id: str) -> None:
        """The request failed before any work was queued: release it and lift its cooldown."""
        raise NotImplementedError

    async def jobs_of(self, user_id: int) -> list[str]:
        """The member's jobs in flight, oldest first."""
        raise NotImplementedError

    async def position(self, job_id: str) -> int | None:
        """The job's 1-based place in the queue, None once it left."""
        raise NotImplementedError

    def _refusal(self, limit: str, number: float) -> LimitReached:
        """The member-facing reason; `number` is the member's job count or seconds left."""
        if limit == "jobs":
            return LimitReached(
                f"you have {number:.0f} jobs in flight (the limit is "
                f"{self.max_jobs}); wait for one to finish or `cancel` one"
            )
        if limit == "cooldown":
            # Rounded up: "wait 0 more seconds" would invite an instant retry that fails.
            return LimitReached(
                f"please wait {math.ceil(number)} more seconds before your next request"
            )
        return LimitReached("the queue is full right now; please try again in a minute")


# Scores are server seconds (redis TIME), so bots with skewed clocks agree.
# A member key of the older plain-set layout is dropped rather than failing
# every command of that member with WRONGTYPE until it expires.
_PRUNE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local oldest = now - tonumber(ARGV[1])
if redis.call('TYPE', KEYS[2]).ok == 'set' then redis.call('DEL', KEYS[2]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. oldest)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. oldest)
"""

# KEYS: queue, member's jobs, member's cooldown.
# ARGV: job TTL s, job id, max jobs per member, cooldown ms, queue cap.
# Returns {limit, number} on refusal, {'admitted', position} otherwise.
_ADMIT = (
    _PRUNE
    + """
local mine = redis.call('ZCARD', KEYS[2])
if mine >= tonumber(ARGV[3]) then return {'jobs', mine} end
-- A front end without a cooldown (the console) is not held by another's on the same Redis.
if tonumber(ARGV[4]) > 0 then
  local wait = redis.call('PTTL', KEYS[3])
  if wait > 0 then return {'cooldown', wait} end
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[5]) then return {'queue', 0} end
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[2])
redis.call('PEXPIRE', KEYS[2], math.ceil(tonumber(ARGV[1]) * 1000))
if tonumber(ARGV[4]) > 0 then
  -- The value names the job, so that only its own refund lifts it.
  redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[4])
end
return {'admitted', redis.call('ZRANK', KEYS[1], ARGV[2]) + 1}
"""
)

# KEYS: queue, member's jobs. ARGV: job TTL s.
_JOBS_OF = _PRUNE + "return redis.call('ZRANGE', KEYS[2], 0, -1)"

# KEYS: queue, member's jobs, member's cooldown. ARGV: job id, '1' to lift its cooldown.
_RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] == '1' and redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
return 0
"""


@contextmanager
def queue_reachable(action: str) -> Iterator[None]:
    """Any Redis failure (down, timeout, out of memory) is the member's "queue unreachable"."""
    try:
        yield
    except (redis.RedisError, OSError) as error:
        log.warning("job limits: %s failed, Redis error: %s", action, error)
        raise QueueUnavailable() from error


class RedisJobLimits(JobLimits):
    """Limits in Redis: sorted sets (by admission time) for the queue and each member's
    jobs, and a cooldown key per member."""

    def __init__(self, client: Any, **limits: Any) -> None:
        super().__init__(**limits)
        self.client = client
        self._admit = client.register_script(_ADMIT)
        self._jobs_of = client.register_script(_JOBS_OF)
        self._release = client.register_script(_RELEASE)

    @staticmethod
    def _keys(user_id: int) -> list[str]:
        member = f"lstmuse:user:{user_id}"
        return [QUEUE_KEY, f"{member}:jobs", f"{member}:cooldown"]

    async def admit(self, user_id: int, job_id: str) -> int:
        cooldown_ms = math.ceil(self.cooldown * 1000) if self.cooldown > 0 else 0
        args = [self.job_ttl, job_id, self.max_jobs, cooldown_ms, self.queue_cap]
        with queue_reachable(f"admitting {job_id}"):
            outcome, number = await self._admit(keys=self._keys(user_id), args=args)
        outcome = outcome.decode() if isinstance(outcome, bytes) else outcome
        if outcome == "admitted":
            return int(number)
        raise self._refusal(outcome, number / 1000 if outcome == "cooldown" else number)

    async def release(self, user_id: int, job_id: str) -> None:
        await self._free(user_id, job_id, lift_cooldown=False)

    async def refund(self, user_id: int, job_id: str) -> None:
        await self._free(user_id, job_id, lift_cooldown=True)

    async def _free(self, user_id: int, job_id: str, *, lift_cooldown: bool) -> None:
        try:
            await self._release(keys=self._keys(user_id), args=[job_id, int(lift_cooldown)])
        except (redis.RedisError, OSError) as error:
            # Best effort: the job stops counting after the job TTL anyway.
            log.warning(
                "job limits: could not %s job %s of member %s (it expires in %g s): %s",
                "refund" if lift_cooldown else "release",
                job_id,
                user_id,
                self.job_ttl,
                error,
            )

    async def jobs_of(self, user_id: int) -> list[str]:
        with queue_reachable(f"listing the jobs of member {user_id}"):
            members = await self._jobs_of(keys=self._keys(user_id)[:2], args=[self.job_ttl])
        return [m.decode() if isinstance(m, bytes) else m for m in members]

    async def position(self, job_id: str) -> int | None:
        with queue_reachable(f"finding the queue position of {job_id}"):
            rank = await self.client.zrank(QUEUE_KEY, job_id)
        return None if rank is None else int(rank) + 1


class MemoryJobLimits(JobLimits):
    """The same limits in this process (embedded mode).

    Every method runs without an ``await``, so on one event loop each is atomic.
    Times are `time.monotonic()` seconds; dicts keep admission order.
    """

    def __init__(self, **limits: Any) -> None:
        super().__init__(**limits)
        self.queue: dict[str, float] = {}  # job id -> admission time
        self.jobs: dict[int, dict[str, float]] = {}  # member -> job id -> admission time
        self.cooldowns: dict[int, tuple[float, str]] = {}  # member -> (until, job that set it)

    def _prune(self, now: float) -> None:
        oldest = now - self.job_ttl
        self.queue = {job: at for job, at in self.queue.items() if at >= oldest}
        for member, mine in list(self.jobs.items()):
            self.jobs[member] = {job: at for job, at in mine.items() if at >= oldest}
            if not self.jobs[member]:
                del self.jobs[member]

    async def admit(self, user_id: int, job_id: str) -> int:
        now = time.monotonic()
        self._prune(now)
        mine = self.jobs.setdefault(user_id, {})
        if len(mine) >= self.max_jobs:
            raise self._refusal("jobs", len(mine))
        until, _ = self.cooldowns.get(user_id, (now, ""))
        if until > now:
            raise self._refusal("cooldown", until - now)
        if len(self.queue) >= self.queue_cap:
            raise self._refusal("queue", 0)
        mine[job_id] = self.queue[job_id] = now
        if self.cooldown > 0:
            self.cooldowns[user_id] = (now + self.cooldown, job_id)
        return list(self.queue).index(job_id) + 1

    async def release(self, user_id: int, job_id: str) -> None:
        self.jobs.get(user_id, {}).pop(job_id, None)
        self.queue.pop(job_id, None)

    async def refund(self, user_id: int, job_id: str) -> None:
        await self.release(user_id, job_id)  # no suspension: release never awaits
        if self.cooldowns.get(user_id, (0.0, ""))[1] == job_id:
            del self.cooldowns[user_id]

    async def jobs_of(self, user_id: int) -> list[str]:
        self._prune(time.monotonic())
        return list(self.jobs.get(user_id, {}))

    async def position(self, job_id: str) -> int | None:
        return list(self.queue).index(job_id) + 1 if job_id in self.queue else None
