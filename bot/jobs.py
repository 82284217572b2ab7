"""Where the bot's jobs run: on the Celery queue (by task name) or in this process.

Both backends offer the same coroutines, so the commands do not care. The
Celery backend never imports TensorFlow or the worker: it sends the tasks
by the contract's names (`lstmuse_core.jobs.queue`) and reads typed results
and artifacts from Redis, without blocking the event loop. The in-process
backend (embedded mode: no Redis) runs the worker's job runners
(`lstmuse_core.runners`, imported only when a job runs) in a thread, so a
job fails with the same words in both modes. ``wait(job_id, MelodyResult,
...)`` returns the result as that type; progress arrives as `Progress`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lstmuse_core.errors import JobFailed, LstmuseError
from lstmuse_core.jobs.artifacts import (
    ArtifactError,
    LocalArtifactStore,
    artifact_reference,
    checked_reference,
)
from lstmuse_core.jobs.catalogue import Catalogue, catalogue_from_json
from lstmuse_core.jobs.keys import (
    CANCEL_MARK_SECONDS,
    CATALOGUE_KEY,
    QUEUED_MARK_SECONDS,
    artifact_key,
    cancelled_key,
    queued_key,
)
from lstmuse_core.jobs.progress import Progress
from lstmuse_core.jobs.queue import (
    GENERATE_QUEUE,
    GENERATE_TASK,
    HARMONIZE_TASK,
    JSON_ONLY,
    RETRAIN_TASK,
    ROLLBACK_TASK,
    TRAIN_QUEUE,
    UNEXPECTED_FAILURE,
    generate_payload,
    harmonize_payload,
    retrain_payload,
    rollback_payload,
)
from lstmuse_core.jobs.results import (
    HarmonizeResult,
    JobResult,
    MelodyResult,
    RetrainResult,
    RollbackResult,
)
from lstmuse_core.request import HarmonizeRequest, MelodyRequest, RetrainRequest

if TYPE_CHECKING:
    from lstmuse_core.settings import Settings

log = logging.getLogger(__name__)
# Called with the job's state (Celery's: ``STARTED``, ``PROGRESS``...) and its
# progress, when it published one.
StageCallback = Callable[[str, Progress | None], Awaitable[None]]
# The result type a caller waits for (`wait`'s ``result_type``).
Result = TypeVar("Result", MelodyResult, RetrainResult, RollbackResult, HarmonizeResult)
# What a member reads when Redis restarted without the job (no persistence).
LOST_IN_RESTART = "the job was lost in a queue restart, please try again"
# How long a wait rides out Redis being unreachable (a restart) before giving up.
OUTAGE_GRACE_SECONDS = 30.0


class QueueUnavailable(LstmuseError):
    """Redis or the workers cannot be reached."""

    def __init__(self) -> None:
        super().__init__("the job queue is unreachable right now; please try again in a minute")


class CeleryJobs:
    """Jobs on the Celery queue; results, progress and files from Redis."""

    def __init__(
        self, redis_url: str, *, timeout_seconds: float = 3.0, poll_seconds: float = 0.25
    ) -> None:
        import redis.asyncio
        from celery import Celery

        from bot.result_backend import backend_url

        self.app = Celery("lstmuse-bot", broker=redis_url, backend=backend_url(redis_url))
        self.app.conf.update(
            **JSON_ONLY,
            broker_connection_timeout=timeout_seconds,
            broker_connection_retry=False,
            redis_socket_timeout=timeout_seconds,
            redis_socket_connect_timeout=timeout_seconds,
            result_backend_transport_options={"retry_policy": {"max_retries": 1}},
        )
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff

        # One quick retry: redis-py's default (3 with backoff) made every command
        # take 4+ s to say that Redis is down.
        self.redis = redis.asyncio.Redis.from_url(
            redis_url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            retry=Retry(ExponentialBackoff(cap=0.2), retries=1),
        )
        self.timeout = timeout_seconds
        self.poll = poll_seconds

    async def _call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A blocking Celery call in a thread, cut off if Redis does not answer."""
        import kombu.exceptions
        import redis

        try:
            return await asyncio.wait_for(
                asyncio.to_thread(function, *args, **kwargs), timeout=self.timeout * 2
            )
        except (
            TimeoutError,
            redis.RedisError,
            kombu.exceptions.OperationalError,
            ConnectionError,
            OSError,
        ) as error:
            raise QueueUnavailable() from error

    async def _mark_queued(self, job_id: str) -> None:
        """The job's queued mark (`queued_key`), set just before its message is sent."""
        try:
            await self.redis.set(queued_key(job_id), 1, ex=QUEUED_MARK_SECONDS)
        except Exception as error:
            raise QueueUnavailable() from error

    async def submit_melody(self, job_id: str, request: MelodyRequest) -> None:
        """``request`` with its random seed drawn (the worker would derive one from the id)."""
        await self._mark_queued(job_id)
        await self._call(
            self.app.send_task,
            GENERATE_TASK,
            kwargs=generate_payload(request),
            task_id=job_id,
            queue=GENERATE_QUEUE,
            retry=False,
        )

    async def submit_harmonize(self, job_id: str, request: HarmonizeRequest) -> None:
        """A member's tune, on the ``generate`` queue beside the melodies."""
        await self._mark_queued(job_id)
        await self._call(
            self.app.send_task,
            HARMONIZE_TASK,
            kwargs=harmonize_payload(request),
            task_id=job_id,
            queue=GENERATE_QUEUE,
            retry=False,
        )

    async def submit_retrain(
        self, job_id: str, request: RetrainRequest, dataset_refs: list[str] | None = None
    ) -> None:
        """dataset_refs: uploaded files (see `upload`) that become the style's dataset."""
        await self._mark_queued(job_id)
        await self._call(
            self.app.send_task,
            RETRAIN_TASK,
            kwargs=retrain_payload(request, dataset_refs=dataset_refs),
            task_id=job_id,
            queue=TRAIN_QUEUE,
            retry=False,
        )

    async def submit_rollback(
        self, job_id: str, style: str, version: str | None, timeout: float
    ) -> None:
        """On the short ``generate`` queue (never behind a retrain), dead after ``timeout``."""
        await self._mark_queued(job_id)
        await self._call(
            self.app.send_task,
            ROLLBACK_TASK,
            kwargs=rollback_payload(style, version, time.time() + timeout),
            task_id=job_id,
            queue=GENERATE_QUEUE,
            expires=timeout,
            retry=False,
        )

    async def wait(
        self,
        job_id: str,
        result_type: type[Result],
        on_stage: StageCallback | None = None,
        timeout: float = 300.0,
    ) -> Result:
        """Poll the result until it is ready, reporting every new stage; read it as ``result_type``.

        `JobFailed` if the job failed, was cancelled, was lost in a Redis
        restart (`LOST_IN_RESTART`, within a poll of Redis's return) or did not
        finish within ``timeout`` seconds (then it is cancelled: it must not
        run later); `QueueUnavailable` if Redis stays unreachable for
        `OUTAGE_GRACE_SECONDS` (a shorter outage, a restart, is waited out);
        `MalformedResult` if the worker's result does not match the type.
        """
        return result_type.from_json(await self._wait_json(job_id, on_stage, timeout))

    async def _wait_json(self, job_id: str, on_stage: StageCallback | None, timeout: float) -> Any:
        from celery.result import AsyncResult

        result = AsyncResult(job_id, app=self.app)
        deadline = time.monotonic() + timeout
        seen: tuple[str, str] | None = None
        unreachable_since: float | None = None
        while time.monotonic() < deadline:
            try:
                state, info = await self._call(lambda: (result.state, result.info))
                lost = state == "PENDING" and not await self._still_queued(job_id)
            except QueueUnavailable:
                unreachable_since = unreachable_since or time.monotonic()
                if time.monotonic() - unreachable_since > OUTAGE_GRACE_SECONDS:
                    raise
                await asyncio.sleep(self.poll)
                continue
            unreachable_since = None
            if lost:
                raise JobFailed(LOST_IN_RESTART)
            if state == "SUCCESS":
                return info
            if state == "FAILURE":
                raise JobFailed(_failure_text(info))
            if state == "REVOKED":
                raise JobFailed("the job was cancelled")
            marker = (
                state,
                json.dumps(info, sort_keys=True, default=str) if isinstance(info, dict) else "",
            )
            if on_stage is not None and marker != seen:
                seen = marker
                progress = Progress.from_json(info) if state == "PROGRESS" else None
                await on_stage(state, progress)
            await asyncio.sleep(self.poll)
        # Nobody waits for it any more: it must not run later, and a running
        # retrain stops at its next epoch (worker.tasks).
        await self.cancel(job_id)
        raise JobFailed(
            f"no result after {timeout:.0f} s (the workers may be busy or down); it was cancelled"
        )

    async def _still_queued(self, job_id: str) -> bool:
        """Whether the job's queued mark is still in Redis (see `queued_key`)."""
        try:
            return bool(await self.redis.exists(queued_key(job_id)))
        except Exception as error:
            raise QueueUnavailable() from error

    async def cancel(self, job_id: str) -> None:
        """Stop a queued job: a Redis mark every worker checks before it starts a job
        (it outlives worker restarts), and a revoke for the workers running now."""
        try:
            await self.redis.set(cancelled_key(job_id), 1, ex=CANCEL_MARK_SECONDS)
        except Exception as error:
            raise QueueUnavailable() from error
        await self._call(self.app.control.revoke, job_id)

    async def fetch(self, reference: str) -> bytes:
        try:
            data = await self.redis.get(artifact_key(checked_reference(reference)))
        except Exception as error:
            raise QueueUnavailable() from error
        if data is None:
            raise ArtifactError(f"the file {reference} has expired")
        return data if isinstance(data, bytes) else data.encode()  # no decode_responses: bytes

    async def upload(self, job_id: str, name: str, data: bytes, ttl_seconds: int) -> str:
        reference = artifact_reference(job_id, name)
        try:
            await self.redis.set(artifact_key(reference), data, ex=ttl_seconds)
        except Exception as error:
            raise QueueUnavailable() from error
        return reference

    async def catalogue(self) -> Catalogue:
        try:
            raw = await self.redis.get(CATALOGUE_KEY)
        except Exception as error:
            raise QueueUnavailable() from error
        return catalogue_from_json(json.loads(raw)) if raw else {}


def _failure_text(info: Any) -> str:
    if isinstance(info, LstmuseError):
        return str(info)
    name = type(info).__name__
    if "TimeLimit" in name:
        return "the job ran past its time limit and was stopped"
    return UNEXPECTED_FAILURE


def _compile_sampler() -> None:
    from lstmuse_core.model.generate import compile_sampler

    compile_sampler()


class InProcessJobs:
    """Embedded mode: the worker's job runners in a thread of this process.

    settings: the models, uploads and cache folders and the SoundFont, as the
    worker reads them. The job's files (and uploads) live in a temporary
    folder of this process, removed when it ends: the front end writes or
    posts its own copy, so the output folder holds each file once.
    """

    def __init__(self, settings: Settings) -> None:
        self._store_folder = tempfile.TemporaryDirectory(
            prefix="lstmuse-console-", ignore_cleanup_errors=True
        )
        self.store = LocalArtifactStore(Path(self._store_folder.name), 24 * 3600, 64 * 1024 * 1024)
        self.settings = settings
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lstmuse-job")
        self.futures: dict[str, Future[JobResult]] = {}
        self.progress: dict[str, Progress] = {}
        self.cancelled: set[str] = set()  # running when cancelled: stop at the next epoch
        # Compiled while the prompt waits; jobs queue behind it on the one thread.
        self.executor.submit(_compile_sampler)

    def _publisher(self, job_id: str) -> Callable[[Progress], None]:
        def publish(progress: Progress) -> None:
            self.progress[job_id] = progress

        return publish

    async def submit_melody(self, job_id: str, request: MelodyRequest) -> None:
        self.futures[job_id] = self.executor.submit(self._generate, job_id, request)

    def _generate(self, job_id: str, request: MelodyRequest) -> MelodyResult:
        from lstmuse_core.runners.generation import run_generate_job

        return run_generate_job(
            job_id,
            request.with_random_seed(),
            self.store,
            self.settings,
            self._publisher(job_id),
        )

    async def submit_harmonize(self, job_id: str, request: HarmonizeRequest) -> None:
        from lstmuse_core.runners.harmonization import run_harmonize_job

        self.futures[job_id] = self.executor.submit(
            run_harmonize_job,
            job_id,
            request,
            self.store,
            self.settings,
            self._publisher(job_id),
        )

    async def submit_retrain(
        self, job_id: str, request: RetrainRequest, dataset_refs: list[str] | None = None
    ) -> None:
        self.futures[job_id] = self.executor.submit(self._retrain, job_id, request, dataset_refs)

    def _retrain(
        self, job_id: str, request: RetrainRequest, dataset_refs: list[str] | None
    ) -> RetrainResult:
        from lstmuse_core.runners.training import run_retrain_job

        return run_retrain_job(
            request,
            dataset_refs or [],
            self._publisher(job_id),
            lambda: job_id in self.cancelled,
            job_id=job_id,
            store=self.store,
            settings=self.settings,
        )

    async def submit_rollback(
        self, job_id: str, style: str, version: str | None, timeout: float
    ) -> None:
        from lstmuse_core.runners.rollback import run_rollback_job

        self.futures[job_id] = self.executor.submit(
            run_rollback_job, job_id, style, version, self.settings
        )

    async def wait(
        self,
        job_id: str,
        result_type: type[Result],
        on_stage: StageCallback | None = None,
        timeout: float = 300.0,
    ) -> Result:
        """Wait for the job's thread, reporting every new stage; its result as ``result_type``."""
        future = self.futures[job_id]
        deadline = time.monotonic() + timeout
        seen: Progress | None = None
        try:
            while not future.done():
                if time.monotonic() > deadline:
                    await self.cancel(job_id)  # nobody waits for it any more
                    raise JobFailed(f"no result after {timeout:.0f} s; it was cancelled")
                current = self.progress.get(job_id)
                if on_stage is not None and current is not None and current != seen:
                    seen = current
                    await on_stage("PROGRESS", seen)
                await asyncio.sleep(0.1)
            if future.cancelled():
                raise JobFailed("the job was cancelled")
            error = future.exception()
            if isinstance(error, JobFailed):  # what every runner raises
                raise error
            if error is not None:  # not a runner's: a bug in this process
                log.error("job %s failed in this process", job_id, exc_info=error)
                raise JobFailed(UNEXPECTED_FAILURE) from error
            result = future.result()
            if not isinstance(result, result_type):
                raise TypeError(f"job {job_id} made a {type(result).__name__}, not {result_type}")
            return result
        finally:
            if future.done():
                self.futures.pop(job_id, None)
                self.progress.pop(job_id, None)
                self.cancelled.discard(job_id)

    async def cancel(self, job_id: str) -> None:
        """A queued job never starts; a running retrain stops at its next epoch, writing
        no version (a melody job, a second at most, runs to its end)."""
        future = self.futures.get(job_id)
        if future is not None and not future.cancel() and future.running():
            self.cancelled.add(job_id)

    async def fetch(self, reference: str) -> bytes:
        return self.store.get(reference)

    async def upload(self, job_id: str, name: str, data: bytes, ttl_seconds: int) -> str:
        return self.store.put(job_id, name, data)

    async def catalogue(self) -> Catalogue:
        from lstmuse_core.runners.catalogue import build_catalogue

        return await asyncio.to_thread(build_catalogue, self.settings.models_dir)


Jobs = CeleryJobs | InProcessJobs
