"""Keep a running melody job's delivery fresh, so Redis does not hand it out again.

Redis has no acknowledgements: kombu's Redis transport emulates them
(``kombu/transport/redis.py``, ``QoS``). ``QoS.append`` stores each delivered
message in the ``unacked`` hash and scores its delivery tag with the delivery
time in the ``unacked_index`` sorted set; ``QoS.restore_visible`` (every
worker's periodic sweep) puts back on its queue every tag whose score is older
than ``time() - visibility_timeout`` (``ZRANGE unacked_index ceil 0 BYSCORE
REV``, then ``restore_by_tag``); ``ack`` removes both entries.

So a melody job that ran longer than the generate queue's visibility timeout
(``LSTMUSE_GENERATE_VISIBILITY_TIMEOUT``, seconds; its hard time limit is
longer) was delivered a second time beside itself. While the job runs, a
daemon thread of its worker child rewrites the tag's score with the current
time every third of the timeout (``ZADD XX``: never re-adding a tag that was
acknowledged or restored meanwhile). A worker that dies stops beating, so its
jobs are still redelivered one timeout after its last beat. Retrains get no
heartbeat: beats stop during a Redis outage, and a retrain put back on Redis's
return would run twice; their timeout outlasts their hard time limit instead
(`worker.app.redelivery_options`). The same holds, less often, for a melody:
after an outage longer than the timeout less a beat, the first sweep may put
it back before its next beat (a failed beat is retried every 0.5 s).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import redis
from celery import Task
from kombu.transport.redis import Channel

log = logging.getLogger(__name__)
_broker: redis.Redis | None = None

# A beat that failed (Redis away) is tried again this soon (seconds): on Redis's
# return the score must be fresh before the next sweep (every 2 s) looks at it.
RETRY_SECONDS = 0.5


@contextmanager
def delivery_kept_fresh(task: Task) -> Iterator[None]:
    """Beat for ``task``'s delivery while the block runs (nothing to beat for when the task
    was not delivered through Redis: called in-process, no delivery tag)."""
    tag = (task.request.properties or {}).get("delivery_tag")
    if not tag:
        yield
        return
    options: Mapping[str, Any] = task.app.conf.broker_transport_options or {}
    visibility_timeout = float(options.get("visibility_timeout", Channel.visibility_timeout))
    index_key = str(options.get("unacked_index_key", Channel.unacked_index_key))
    stopped = threading.Event()
    beater = threading.Thread(
        target=_beat,
        args=(_broker_of(task), index_key, str(tag), visibility_timeout / 3, stopped),
        name=f"lstmuse-heartbeat-{task.request.id}",
        daemon=True,
    )
    beater.start()
    try:
        yield
    finally:
        stopped.set()
        beater.join(timeout=1)


def _broker_of(task: Task) -> redis.Redis:
    """This process's client of the broker, with timeouts: a Redis outage only delays a beat."""
    global _broker
    if _broker is None:
        _broker = redis.Redis.from_url(
            task.app.conf.broker_url, socket_timeout=2, socket_connect_timeout=2
        )
    return _broker


def _beat(
    broker: redis.Redis, index_key: str, tag: str, every_seconds: float, stopped: threading.Event
) -> None:
    """Score ``tag`` with the current time every ``every_seconds`` until ``stopped``."""
    wait = every_seconds
    while not stopped.wait(wait):
        try:
            broker.zadd(index_key, {tag: time.time()}, xx=True)
            wait = every_seconds
        except redis.RedisError as error:
            log.warning("could not refresh delivery %s (%s); trying again", tag, error)
            wait = min(RETRY_SECONDS, every_seconds)
