"""The Celery app and its configuration; nothing else lives here.

Queues: ``generate`` (melodies, and rollbacks: short jobs) and ``train``
(retraining, long); the names and routes are the contract's
(`lstmuse_core.jobs.queue`). Rollback is routed to ``generate`` so that it never waits
behind a multi-hour retrain: generation workers share the models volume and
their jobs take seconds, and a rollback only rewrites the ``ACTIVE`` pointer.

Long-task safety, for every task:

- a job is acknowledged only when it has finished (``acks_late``) and put back
  on the queue if its worker child dies (``reject_on_worker_lost``: OOM, a
  crash in FluidSynth); a new child runs it within seconds. The tasks count
  deliveries and keep finished results, so a job runs to completion once.
- each child reserves one job at a time (``worker_prefetch_multiplier=1``), so
  a crash puts back one job, not a prefetched pile, and a child using more than
  ``LSTMUSE_MAX_MEMORY_PER_CHILD_MIB`` is replaced after its job.
- Celery's own soft and hard time limits (set per task); a hard-limit kill is
  recorded as a failure, not redelivered.
- if the whole worker vanished (an OOM kill of its main process, a host
  reboot), Redis redelivers its jobs after the *visibility timeout* of its
  queue (`redelivery_options`): seconds for ``generate`` (a running melody
  keeps its delivery fresh, `worker.heartbeat`), hours for ``train``.
- it outlives a Redis restart: it retries the broker forever and waits for it
  (`broker_connection_max_retries=None`); a supervisor restarts it anyway if
  it exits (compose's ``restart:``, the README's by-hand loop).

JSON only crosses the queue.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from celery import Celery, signals
from kombu import Queue

from lstmuse_core.jobs.queue import GENERATE_QUEUE, JSON_ONLY, QUEUES, TASK_ROUTES, TRAIN_QUEUE
from lstmuse_core.settings import Settings, get_settings
from worker.scratch import WORKER_PREFIX, claim_scratch

settings = get_settings()
broker_url = settings.redis_url or os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")

app = Celery("lstmuse", broker=broker_url, backend=broker_url, include=["worker.tasks"])
app.conf.update(
    **JSON_ONLY,
    task_queues=[Queue(name) for name in QUEUES],
    task_default_queue=GENERATE_QUEUE,
    task_routes=TASK_ROUTES,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_track_started=True,
    worker_prefetch_multiplier=1,
    # A new child imports music21 (and, serving the train queue, TensorFlow) and loads
    # the compiled sampler before it takes a job (`worker.tasks`): seconds, past
    # Celery's default of 4 s to report ready (a fresh install's first compile: ~20 s).
    worker_proc_alive_timeout=120,
    worker_max_memory_per_child=settings.max_memory_per_child_mib * 1024,  # KiB
    result_expires=settings.result_expires_seconds,
    result_extended=True,
    # Set per worker at its start, from the queue it serves (`_redeliver_by_queue`).
    broker_transport_options={},
    broker_connection_retry_on_startup=True,
    # A Redis restart: retry forever (Celery's default gives up after 100 tries,
    # and the worker exits); the running jobs keep running meanwhile.
    broker_connection_retry=True,
    broker_connection_max_retries=None,
    worker_send_task_events=True,
    task_send_sent_event=True,
)


def redelivery_options(queue: str, config: Settings) -> dict[str, Any]:
    """The Redis transport's options for a worker that serves ``queue``.

    Redis has no acknowledgements: kombu keeps every delivered job in an
    *unacked* hash (scored by delivery time in an index) until the worker
    acknowledges it, and any worker's periodic sweep puts back the jobs older
    than its ``visibility_timeout``. That timeout is the connection's, not the
    queue's, so one worker cannot hold 20 s for melodies and hours for a
    retrain; hence one worker per queue, each with its own timeout and its own
    unacked keys: a generate worker's 20 s sweep never sees a running retrain
    (it would start it a second time beside the first), and a dead generate
    worker's jobs come back within ~20 s instead of after the retrain's hours.
    The queues themselves (the lists the bot pushes to) are shared as before.
    A melody may run longer than its queue's timeout: its heartbeat keeps its
    score fresh while it runs (`worker.heartbeat`). A retrain has none (beats
    stop during a Redis outage, and it would be redelivered under itself on
    Redis's return): its timeout outlasts its hard time limit instead.
    """
    common: dict[str, Any] = {
        # Sweep every 2 s (kombu's default, 10 s x a throttle of 10, is 100 s).
        "unacked_restore_interval": 2,
        "unacked_restore_throttle": 1,
    }
    if queue == GENERATE_QUEUE:
        return {**common, "visibility_timeout": config.generate_visibility_timeout}
    if queue == TRAIN_QUEUE:
        # Longer than a retrain's hard time limit: never redelivered while it runs.
        return {
            **common,
            "visibility_timeout": max(
                config.train_visibility_timeout, config.train_time_limit + 60
            ),
            "unacked_key": "unacked_train",
            "unacked_index_key": "unacked_train_index",
            "unacked_mutex_key": "unacked_train_mutex",
        }
    raise ValueError(f"unknown queue {queue!r}")


def deployment_problem(config: Settings, queues: set[str] | None = None) -> str | None:
    """Why a queue worker must not start with these settings (None: it may).

    queues: the queues it serves (``-Q``); each worker serves exactly one
    (see `redelivery_options`).
    """
    if queues is not None and len(queues) != 1:
        served = ",".join(sorted(queues)) or "none"
        return (
            f"a worker serves one queue, not {served}: start one worker with "
            f"`-Q {GENERATE_QUEUE}` and one with `-Q {TRAIN_QUEUE}` (each queue has "
            "its own redelivery timeout: seconds for melodies, hours for retrains)"
        )
    if config.artifact_store == "local":
        return (
            "LSTMUSE_ARTIFACT_STORE=local cannot be used by a queue worker: the bot "
            "reads melodies from Redis (it may run on another machine), so every "
            "melody would fail as expired. Unset it or set LSTMUSE_ARTIFACT_STORE=redis "
            "(the local store is for the embedded console only)."
        )
    return None


@signals.worker_init.connect
def _check_deployment_and_set_redelivery(sender: Any = None, **_: Any) -> None:
    """Refuse a bad deployment; else give the broker connection its queue's redelivery,
    and take this worker's temporary folder (`worker.scratch`).

    ``worker_init`` runs after ``-Q`` is read and before the worker connects;
    a worker of another app (a test's) is left alone.
    """
    if sender is None or sender.app is not app:
        return
    queues = {queue.name for queue in app.amqp.queues.consume_from.values()}
    problem = deployment_problem(get_settings(), queues)
    if problem is not None:
        # SystemExit passes through Celery's signal dispatch (it logs Exceptions).
        raise SystemExit(f"lstmuse worker: {problem}")
    (queue,) = queues
    app.conf.broker_transport_options = redelivery_options(queue, get_settings())
    claim_scratch(Path(tempfile.gettempdir()), WORKER_PREFIX)
