"""The bot's Celery result backend: Redis, read by polling, never by subscription.

Celery's Redis backend subscribes to every sent task's result channel; after
a Redis outage its subscriber gives up for good ("the Celery application must
be restarted") and every later command fails. The bot polls results with
plain GETs anyway (`bot.jobs.CeleryJobs.wait`), so it never subscribes, and a
Redis outage ends when Redis is back.
"""

from __future__ import annotations

from typing import Any

from celery.backends.redis import RedisBackend


class PollingRedisBackend(RedisBackend):
    def on_task_call(self, producer: Any, task_id: str) -> None:
        """Do not subscribe to the task's result channel (see the module docstring)."""


def backend_url(redis_url: str) -> str:
    """The ``result_backend`` setting that selects this backend for ``redis_url``."""
    return f"{__name__}:{PollingRedisBackend.__name__}+{redis_url}"
