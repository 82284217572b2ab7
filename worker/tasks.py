"""The queue's tasks: thin, named, JSON in and out; the work is in lstmuse_core.

Names, queues and payloads are the contract's (`lstmuse_core.jobs.queue`);
each task reads its payload's typed request, calls a runner of
`lstmuse_core.runners` (the ones the console runs in-process too) and
returns the typed result's ``to_json()``.

``lstmuse.generate`` (queue ``generate``) makes one request's melodies
(`MelodyResult`); ``lstmuse.harmonize`` (queue ``generate``) harmonizes and
renders a member's tune (`HarmonizeResult`); ``lstmuse.retrain`` (queue
``train``) trains a new version (`RetrainResult`); all three publish their
`Progress` as task state ``PROGRESS``;
``lstmuse.rollback`` (queue ``generate``, see `worker.app`) moves a style's
``ACTIVE`` pointer (`RollbackResult`).

Every job:

- is plain Celery: acknowledged when it ends, put back if its child dies,
  stopped by Celery's soft and hard time limits (the hard one is reported as
  "ran past its time limit" by `JobRequest`);
- on the ``generate`` queue (melodies, tunes, rollbacks), keeps its delivery fresh
  while it runs (`worker.heartbeat`), so Redis does not hand it to a second
  child after the queue's short visibility timeout;
- is not run when the bot cancelled it (`lstmuse_core.jobs.keys.cancelled_key`; the job
  ends REVOKED, like a job revoked through Celery), and a running retrain
  stops at its next epoch, writing no version;
- is idempotent by its id: a redelivered job that already finished returns the
  stored result instead of making a second set of artifacts, and a job
  delivered more than ``max_attempts`` times (it keeps killing its worker)
  fails with a clear reason instead of looping forever;
- ends done or failed whatever was raised: the runner turns its errors into
  a `JobFailed` a member may read (`lstmuse_core.runners.failures`); the task
  adds only what Celery knows, its time limits.

Each job is one task call: batching requests across jobs (celery-batches)
measured slower than one job at a time with audio on (0.89x), bypassed
Celery's time limits and lost the jobs of a killed child.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import redis
from celery import Task, signals
from celery.exceptions import Ignore, SoftTimeLimitExceeded, TimeLimitExceeded
from celery.worker import state as worker_state
from celery.worker.request import Request

from lstmuse_core.errors import JobFailed, caused_by
from lstmuse_core.jobs.artifacts import store_from_settings
from lstmuse_core.jobs.keys import CATALOGUE_KEY, attempts_key, cancelled_key, result_key
from lstmuse_core.jobs.progress import Progress
from lstmuse_core.jobs.queue import (
    GENERATE_TASK,
    HARMONIZE_TASK,
    RETRAIN_TASK,
    ROLLBACK_TASK,
    TRAIN_QUEUE,
    melody_request_from_payload,
    request_from_payload,
)
from lstmuse_core.jobs.results import JobResult
from lstmuse_core.request import HarmonizeRequest, RetrainRequest
from lstmuse_core.runners.catalogue import publish_catalogue
from lstmuse_core.runners.failures import JobCancelled
from lstmuse_core.runners.generation import run_generate_job
from lstmuse_core.runners.harmonization import run_harmonize_job
from lstmuse_core.runners.rollback import run_rollback_job
from lstmuse_core.runners.training import run_retrain_job
from lstmuse_core.settings import get_settings
from worker.app import app
from worker.heartbeat import delivery_kept_fresh
from worker.scratch import CHILD_PREFIX, WORKER_PREFIX, claim_scratch

log = logging.getLogger(__name__)
settings = get_settings()
_redis: redis.Redis | None = None


def redis_client() -> redis.Redis:
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(app.conf.broker_url)
    return _redis


class JobRequest(Request):
    """Celery's request; a hard-time-limit kill is stored as a failure a member can read.

    Celery stores ``TimeLimitExceeded`` twice (on failure, then on timeout);
    the first is what a waiting client sees and the last what a poll reads, so
    both are replaced by a `JobFailed` that says what happened.
    """

    def on_failure(
        self, exc_info: Any, send_failed_event: bool = True, return_ok: bool = False
    ) -> None:
        exc = getattr(exc_info.exception, "exc", exc_info.exception)
        if isinstance(exc, TimeLimitExceeded):
            seconds = exc.args[0] if exc.args else self.task.time_limit
            exc_info.exception = JobFailed(_time_limit_text(self.task.name, seconds))
        super().on_failure(exc_info, send_failed_event=send_failed_event, return_ok=return_ok)

    def on_timeout(self, soft: bool, timeout: float) -> None:
        if soft or worker_state.should_terminate:
            super().on_timeout(soft, timeout)
            return
        # Celery's hard-timeout handling, storing our failure instead of its own.
        worker_state.task_ready(self)
        log.error("Hard time limit (%ss) exceeded for %s[%s]", timeout, self.name, self.id)
        failure = JobFailed(_time_limit_text(self.task.name, timeout))
        self.task.backend.mark_as_failure(
            self.id, failure, request=self._context, store_result=self.store_errors
        )
        if self.task.acks_late and self.task.acks_on_failure_or_timeout:
            self.acknowledge()


def _time_limit_text(task_name: str, seconds: float) -> str:
    text = f"the job ran past its time limit ({float(seconds):g} s) and was stopped"
    if task_name == RETRAIN_TASK:
        text += "; the active model is unchanged"
    return text


def _soft_limit(task: Task) -> float:
    """The soft time limit this delivery ran under (a per-message override wins)."""
    hard, soft = (task.request.timelimit or (None, None))[:2]
    return float(soft or task.soft_time_limit or hard or task.time_limit or 0)


def _cancelled(task: Task) -> bool:
    """Whether the bot cancelled this job (Celery's revoke stops only jobs not yet
    started, and a worker forgets it on restart: the Redis mark is what counts)."""
    return bool(redis_client().exists(cancelled_key(task.request.id)))


def _end_as_revoked(task: Task, when: str) -> NoReturn:
    """End a cancelled job as REVOKED, like a job revoked through Celery."""
    log.info("%s[%s] was cancelled %s", task.name, task.request.id, when)
    task.backend.mark_as_revoked(task.request.id, "cancelled", request=task.request)
    raise Ignore()


def _not_cancelled(task: Task) -> None:
    """End the job as REVOKED, without running it, if the bot cancelled it."""
    if _cancelled(task):
        _end_as_revoked(task, "before it started; not running it")


def _first_delivery_or_stored(job_id: str) -> dict[str, Any] | None:
    """The stored result of a finished job, else count this delivery (and give up if too many)."""
    client = redis_client()
    stored = client.get(result_key(job_id))
    if stored is not None:
        return dict(json.loads(stored))
    attempts = client.incr(attempts_key(job_id))
    client.expire(attempts_key(job_id), settings.train_visibility_timeout * 2)
    if int(attempts) > settings.max_attempts:
        raise JobFailed(
            f"this job was started {int(attempts) - 1} times without finishing "
            "(it stops its worker); giving up"
        )
    return None


def _remember(job_id: str, result: JobResult) -> dict[str, Any]:
    """Store the finished job's result (for a redelivery) and return its JSON form."""
    data = result.to_json()
    redis_client().set(result_key(job_id), json.dumps(data), ex=settings.artifact_ttl_seconds)
    return data


def _published(task: Task) -> Callable[[Progress], None]:
    """Publish a runner's progress as the task state ``PROGRESS`` (its JSON form)."""

    def publish(progress: Progress) -> None:
        task.update_state(state="PROGRESS", meta=progress.to_json())

    return publish


@contextmanager
def _within_time_limit(task: Task, time_limit: str) -> Iterator[None]:
    """What only Celery knows about a job's end: its soft time limit, and a cancel.

    A runner already raises a `JobFailed` a member may read; here the soft
    time limit (also when a library re-raised it) fails the job with
    ``time_limit`` (``{limit}``: seconds), and a retrain cancelled while it
    ran ends REVOKED, like a job revoked through Celery.
    """
    try:
        yield
    except JobCancelled:
        _end_as_revoked(task, "while it ran; stopped it, nothing written")
    except Exception as error:
        if caused_by(error, (SoftTimeLimitExceeded,)):
            limit = _soft_limit(task)
            raise JobFailed(time_limit.replace("{limit}", f"{limit:g}")) from None
        raise


# What a melody's and a tune's task share: acknowledged after the work, redelivered
# if its worker dies, and the render queue's time limits.
_RENDER_TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": settings.generate_soft_time_limit,
    "time_limit": settings.generate_time_limit,
    "Request": JobRequest,
}


def _render_job(
    task: Task,
    doing: str,
    runner: Callable[..., JobResult],
    job_request: Callable[[str], Any],
) -> dict[str, Any]:
    """Run one render job once: not if cancelled, its stored result on a redelivery,
    else ``runner`` on ``job_request(job_id)`` with its heartbeat and time limit
    (``doing``: what a member is told ran past it), the result remembered."""
    job_id = task.request.id
    _not_cancelled(task)
    stored = _first_delivery_or_stored(job_id)
    if stored is not None:
        return stored
    with (
        delivery_kept_fresh(task),
        _within_time_limit(task, f"{doing} ran past its time limit ({{limit}} s) and was stopped"),
    ):
        result = runner(
            job_id,
            job_request(job_id),
            store_from_settings(settings, redis_client()),
            settings,
            _published(task),
            interrupts=(SoftTimeLimitExceeded,),
        )
    return _remember(job_id, result)


@app.task(name=GENERATE_TASK, **_RENDER_TASK_OPTIONS)
def generate(self: Task, request: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sample, render and store one request's melodies (``request``: `MelodyRequest` JSON)."""
    return _render_job(
        self,
        "generating the melody",
        run_generate_job,
        lambda job_id: melody_request_from_payload(job_id, request),
    )


@app.task(name=HARMONIZE_TASK, **_RENDER_TASK_OPTIONS)
def harmonize(self: Task, request: dict[str, Any] | None = None) -> dict[str, Any]:
    """Harmonize, render and store a member's tune (``request``: `HarmonizeRequest` JSON)."""
    return _render_job(
        self,
        "harmonizing the tune",
        run_harmonize_job,
        lambda job_id: request_from_payload(HarmonizeRequest, request),
    )


@app.task(
    bind=True,
    name=RETRAIN_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.train_soft_time_limit,
    time_limit=settings.train_time_limit,
    Request=JobRequest,
)
def retrain(
    self: Task,
    request: dict[str, Any] | None = None,
    dataset_refs: list[str] | None = None,
    dataset_dir: str | None = None,
) -> dict[str, Any]:
    """Train a new version of a style; promote it only if it is valid and not worse.

    request: `RetrainRequest` JSON; dataset_refs: uploaded music files or
    zips in the artifact store, that become the style's dataset;
    dataset_dir: a folder of music files on the worker's machine (see
    `run_retrain_job`). A retrain nobody waits for any more (cancelled, or
    the bot gave up on it) stops at its next epoch and writes no version.
    """
    job_id = self.request.id
    _not_cancelled(self)
    stored = _first_delivery_or_stored(job_id)
    if stored is not None:
        return stored
    retrain_request = request_from_payload(RetrainRequest, request)
    with _within_time_limit(
        self,
        f"retraining {retrain_request.style:.40} took longer than its time limit ({{limit}} s) "
        "and was stopped; the active model is unchanged",
    ):
        summary = run_retrain_job(
            retrain_request,
            dataset_refs or [],
            _published(self),
            lambda: _cancelled(self),
            job_id=job_id,
            store=store_from_settings(settings, redis_client()),
            settings=settings,
            dataset_dir=Path(dataset_dir) if dataset_dir else None,
            interrupts=(SoftTimeLimitExceeded,),
        )
    result = _remember(job_id, summary)  # done: a catalogue hiccup must not undo that
    _publish_catalogue()
    return result


@app.task(
    bind=True,
    name=ROLLBACK_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.generate_soft_time_limit,
    time_limit=settings.generate_time_limit,
    Request=JobRequest,
)
def rollback(
    self: Task, style: str, version: str | None = None, deadline: float | None = None
) -> dict[str, Any]:
    """Make an earlier version of ``style`` active; the catalogue is republished.

    deadline: Unix time after which the job is not run (the bot stopped
    waiting); it ends REVOKED, like a message past its ``expires``.
    """
    job_id = self.request.id
    _not_cancelled(self)
    if deadline is not None and time.time() > deadline:
        log.info("%s[%s] reached a worker after its deadline; not running it", self.name, job_id)
        self.backend.mark_as_revoked(job_id, "expired", request=self.request)
        raise Ignore()
    stored = _first_delivery_or_stored(job_id)
    if stored is not None:
        return stored
    with (
        delivery_kept_fresh(self),
        _within_time_limit(
            self, "the rollback ran past its time limit ({limit} s) and was stopped"
        ),
    ):
        result = run_rollback_job(
            job_id, style, version, settings, interrupts=(SoftTimeLimitExceeded,)
        )
    data = _remember(job_id, result)
    _publish_catalogue()
    return data


def _publish_catalogue() -> None:
    """Publish the style catalogue; a Redis error is logged (the next publish mends it)."""
    try:
        publish_catalogue(redis_client(), settings.models_dir)
    except redis.RedisError:
        log.exception("could not publish the style catalogue")


@signals.worker_ready.connect
def _publish_catalogue_at_start(**_: Any) -> None:
    _publish_catalogue()
    keeper = threading.Thread(target=_keep_catalogue_published, name="lstmuse-catalogue")
    keeper.daemon = True
    keeper.start()


def _keep_catalogue_published(every_seconds: float = 2.0) -> None:
    """Publish the catalogue again whenever it is missing (a Redis restart without
    persistence lost it, and the bot refuses every style without it).

    A thread of the worker's main process with its own client and timeouts: a
    Redis outage only makes it wait, never the worker's event loop.
    """
    client = redis.Redis.from_url(app.conf.broker_url, socket_timeout=2, socket_connect_timeout=2)
    while True:
        time.sleep(every_seconds)
        try:
            if not client.exists(CATALOGUE_KEY):
                publish_catalogue(client, settings.models_dir)
                log.info("published the style catalogue again (Redis had lost it)")
        except redis.RedisError:
            pass  # Redis is away; try again at the next tick


@signals.worker_process_init.connect
def _import_libraries_before_any_job(**_: Any) -> None:
    """Import what the jobs use in each new child, before it takes a job.

    A generation child reads the sampler's weights without Keras
    (`lstmuse_core.model.weights`) and never imports TensorFlow: it loads
    music21, the renderers and the compiled sampler here. A child that serves
    the ``train`` queue imports Keras (and TensorFlow under it) here too: that
    takes seconds, and a time limit that interrupted it inside a job left it
    half-registered, so every later job of the child failed ("Name
    tf.RaggedTensorSpec has already been registered"). After fork: TensorFlow
    is not fork-safe. ``app.py`` gives the child time for this
    (``worker_proc_alive_timeout``). The child first removes the temporary
    folder of a child killed before it (`worker.scratch`).
    """
    worker_scratch = Path(tempfile.gettempdir())
    if worker_scratch.name.startswith(WORKER_PREFIX):  # set by `worker.app` at its start
        claim_scratch(worker_scratch, CHILD_PREFIX)

    import music21  # noqa: F401
    import pretty_midi  # noqa: F401

    from lstmuse_core.model.generate import compile_sampler
    from lstmuse_core.music import render  # noqa: F401

    if TRAIN_QUEUE in app.amqp.queues.consume_from:
        import keras  # noqa: F401

    compile_sampler()  # the first job would otherwise compile it (or load numba's cache)
