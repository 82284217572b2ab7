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
- if the whole worker vanished, Redis redelivers after ``visibility_timeout``,
  so it must exceed the longest task.

JSON only crosses the queue.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, signals
from kombu import Queue

from lstmuse_core.jobs.queue import GENERATE_QUEUE, JSON_ONLY, QUEUES, TASK_ROUTES
from lstmuse_core.settings import Settings, get_settings

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
    broker_transport_options={
        "visibility_timeout": settings.visibility_timeout,
        # Restore unacknowledged jobs of a vanished worker soon after they time out.
        "unacked_restore_interval": 2,
    },
    result_backend_transport_options={"visibility_timeout": settings.visibility_timeout},
    broker_connection_retry_on_startup=True,
    worker_send_task_events=True,
    task_send_sent_event=True,
)


def deployment_problem(config: Settings) -> str | None:
    """Why a queue worker must not start with these settings (None: it may)."""
    if config.artifact_store == "local":
        return (
            "LSTMUSE_ARTIFACT_STORE=local cannot be used by a queue worker: the bot "
            "reads melodies from Redis (it may run on another machine), so every "
            "melody would fail as expired. Unset it or set LSTMUSE_ARTIFACT_STORE=redis "
            "(the local store is for the embedded console only)."
        )
    return None


@signals.worker_init.connect
def _refuse_bad_deployment(**_: Any) -> None:
    problem = deployment_problem(get_settings())
    if problem is not None:
        # SystemExit passes through Celery's signal dispatch (it logs Exceptions).
        raise SystemExit(f"lstmuse worker: {problem}")
