"""The queue's tasks: thin, named, JSON in and out; the work is in lstmuse_core.

``lstmuse.generate`` buffers requests (celery-batches) and samples those that
arrived together as one batch. ``lstmuse.retrain`` trains a new version with
progress published as task state ``PROGRESS``.

Every job is idempotent by its id: a redelivered job that already finished
returns the stored result instead of making a second set of artifacts, and a
job delivered more than ``max_attempts`` times (it keeps killing its worker)
fails with a clear reason instead of looping forever.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import redis
from celery import signals
from celery.exceptions import SoftTimeLimitExceeded
from celery_batches import Batches, SimpleRequest

from lstmuse_core.errors import JobFailed, LstmuseError
from lstmuse_core.settings import get_settings
from worker.app import app
from worker.artifacts import store_from_settings
from worker.catalogue import publish_catalogue
from worker.generation import GenerateJob, parse_job, run_generate_jobs

log = logging.getLogger(__name__)
settings = get_settings()
JOB_PREFIX = "lstmuse:job:"
_redis: redis.Redis | None = None


def redis_client() -> redis.Redis:
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(app.conf.broker_url)
    return _redis


def _first_delivery_or_stored(job_id: str) -> dict[str, Any] | None:
    """The stored result of a finished job, else count this delivery (and give up if too many)."""
    client = redis_client()
    stored = client.get(f"{JOB_PREFIX}{job_id}:result")
    if stored is not None:
        return dict(json.loads(stored))
    attempts = client.incr(f"{JOB_PREFIX}{job_id}:attempts")
    client.expire(f"{JOB_PREFIX}{job_id}:attempts", settings.visibility_timeout * 2)
    if int(attempts) > settings.max_attempts:
        raise JobFailed(
            f"this job was started {int(attempts) - 1} times without finishing "
            "(it stops its worker); giving up"
        )
    return None


def _remember(job_id: str, result: dict[str, Any]) -> None:
    redis_client().set(
        f"{JOB_PREFIX}{job_id}:result", json.dumps(result), ex=settings.artifact_ttl_seconds
    )


@app.task(
    base=Batches,
    name="lstmuse.generate",
    flush_every=settings.batch_size,
    flush_interval=settings.batch_interval_seconds,
    acks_late=True,
    soft_time_limit=settings.generate_soft_time_limit,
    time_limit=settings.generate_time_limit,
)
def generate(requests: list[SimpleRequest]) -> None:
    """Generate melodies for every buffered request; results go to each request's id."""
    jobs: list[GenerateJob] = []
    for request in requests:
        try:
            stored = _first_delivery_or_stored(request.id)
            if stored is not None:
                app.backend.mark_as_done(request.id, stored, request=request)
                continue
            jobs.append(parse_job(request.id, dict(request.kwargs or {})))
        except JobFailed as error:
            app.backend.mark_as_failure(request.id, error, request=request)
    if not jobs:
        return
    by_id = {request.id: request for request in requests}
    for job in jobs:
        app.backend.store_result(
            job.job_id, {"stage": "generating"}, "PROGRESS", request=by_id[job.job_id]
        )
    try:
        outcomes = run_generate_jobs(
            jobs,
            store_from_settings(redis_client()),
            models_dir=settings.models_dir,
            soundfont=settings.soundfont,
            max_bytes=settings.artifact_max_bytes,
        )
    except SoftTimeLimitExceeded:
        outcomes = [JobFailed("generation took too long and was stopped")] * len(jobs)
    for job, outcome in zip(jobs, outcomes, strict=True):
        request = by_id[job.job_id]
        if isinstance(outcome, JobFailed):
            app.backend.mark_as_failure(job.job_id, outcome, request=request)
        else:
            _remember(job.job_id, outcome)
            app.backend.mark_as_done(job.job_id, outcome, request=request)


@app.task(
    bind=True,
    name="lstmuse.retrain",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.train_soft_time_limit,
    time_limit=settings.train_time_limit,
)
def retrain(
    self: Any,
    style: str,
    preset: str = "default",
    epochs: int | None = None,
    minutes: float | None = None,
    force: bool = False,
    dataset_dir: str | None = None,
    dataset_refs: list[str] | None = None,
) -> dict[str, Any]:
    """Train a new version of ``style``; promote it only if it is valid and not worse.

    dataset_refs: uploaded music files or zips in the artifact store; they
    are checked, unpacked into ``<uploads_dir>/<style>/`` and become the
    style's dataset. dataset_dir: a folder of music files on the worker's
    machine. Without either, a built-in style reads its music21 corpus.
    """
    from lstmuse_core.train import TrainingProgress
    from worker.generation import log_device_once
    from worker.training import run_retrain, unpack_uploads

    stored = _first_delivery_or_stored(self.request.id)
    if stored is not None:
        return stored

    def publish(progress: TrainingProgress) -> None:
        self.update_state(state="PROGRESS", meta={"stage": "training", **progress.to_json()})

    self.update_state(state="PROGRESS", meta={"stage": "reading the corpus"})
    try:
        if dataset_refs:
            store = store_from_settings(redis_client())
            uploads = [(ref.rsplit("/", 1)[-1], store.get(ref)) for ref in dataset_refs]
            dataset_dir = str(unpack_uploads(style, uploads, settings.uploads_dir))
        log_device_once()
        summary = run_retrain(
            style,
            preset=preset,
            epochs=epochs,
            minutes=minutes,
            force=force,
            input_dir=Path(dataset_dir) if dataset_dir else None,
            models_dir=settings.models_dir,
            cache_dir=settings.cache_dir,
            on_progress=publish,
        )
    except SoftTimeLimitExceeded:
        limits = [t for t in (self.request.timelimit or ()) if t] or [
            settings.train_soft_time_limit
        ]
        raise JobFailed(
            f"retraining {style} took longer than its time limit ({min(limits):g} s) "
            "and was stopped; the active model is unchanged"
        ) from None
    except LstmuseError as error:
        raise JobFailed(
            f"retraining {style} failed: {error}; the active model is unchanged"
        ) from error
    publish_catalogue(redis_client(), settings.models_dir)
    _remember(self.request.id, summary)
    return summary


@app.task(name="lstmuse.rollback", acks_late=True)
def rollback(style: str, version: str | None = None) -> dict[str, Any]:
    """Make an earlier version of ``style`` active; the catalogue is republished."""
    from worker.rollback import roll_back

    try:
        result = roll_back(style, version, settings.models_dir)
    except LstmuseError as error:
        raise JobFailed(str(error)) from error
    publish_catalogue(redis_client(), settings.models_dir)
    return result


@signals.worker_ready.connect
def _publish_catalogue_at_start(**_: Any) -> None:
    try:
        publish_catalogue(redis_client(), settings.models_dir)
    except redis.RedisError:
        log.exception("could not publish the style catalogue")
