"""The Celery app and its configuration; nothing else lives here.

Queues: ``generate`` (melodies, batched; GPU machines in production) and
``train`` (retraining, long). Long-task safety: a job is acknowledged only
when it has finished (``acks_late``), re-queued if its worker process dies
(``reject_on_worker_lost``), and redelivered from Redis after
``visibility_timeout`` if the whole worker vanished, so it must exceed the
longest task. JSON only crosses the queue.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

from lstmuse_core.settings import get_settings

settings = get_settings()
broker_url = settings.redis_url or os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")

app = Celery("lstmuse", broker=broker_url, backend=broker_url, include=["worker.tasks"])
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_queues=[Queue("generate"), Queue("train")],
    task_default_queue="generate",
    task_routes={
        "lstmuse.generate": {"queue": "generate"},
        "lstmuse.retrain": {"queue": "train"},
        "lstmuse.rollback": {"queue": "train"},
    },
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_track_started=True,
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
