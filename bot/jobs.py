"""Where the bot's jobs run: on the Celery queue (by task name) or in this process.

Both backends offer the same coroutines, so the commands do not care. The
Celery backend never imports TensorFlow or the worker's tasks: it sends
``lstmuse.generate`` / ``lstmuse.retrain`` by name and reads results and
artifacts from Redis, without blocking the event loop. The in-process
backend (embedded mode: no Redis) runs the same job code in a thread.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lstmuse_core.errors import JobFailed, LstmuseError
from lstmuse_core.request import MelodyRequest

StageCallback = Callable[[str, dict[str, Any]], Awaitable[None]]
CANCEL_MARK_SECONDS = 24 * 3600  # as long as a queued job could still be waiting


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
            task_serializer="json",
            result_serializer="json",
            accept_content=["json"],
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

    async def submit_melody(self, job_id: str, request: MelodyRequest) -> None:
        await self._call(
            self.app.send_task,
            "lstmuse.generate",
            kwargs={"request": request.to_json()},
            task_id=job_id,
            queue="generate",
            retry=False,
        )

    async def submit_retrain(self, job_id: str, **kwargs: Any) -> None:
        await self._call(
            self.app.send_task,
            "lstmuse.retrain",
            kwargs=kwargs,
            task_id=job_id,
            queue="train",
            retry=False,
        )

    async def submit_rollback(
        self, job_id: str, style: str, version: str | None, timeout: float
    ) -> None:
        """On the short ``generate`` queue (never behind a retrain), dead after ``timeout``."""
        await self._call(
            self.app.send_task,
            "lstmuse.rollback",
            kwargs={"style": style, "version": version, "deadline": time.time() + timeout},
            task_id=job_id,
            queue="generate",
            expires=timeout,
            retry=False,
        )

    async def wait(
        self, job_id: str, on_stage: StageCallback | None = None, timeout: float = 300.0
    ) -> dict[str, Any]:
        """Poll the result until it is ready; report every new stage."""
        from celery.result import AsyncResult

        result = AsyncResult(job_id, app=self.app)
        deadline = time.monotonic() + timeout
        seen: tuple[str, str] | None = None
        while time.monotonic() < deadline:
            state, info = await self._call(lambda: (result.state, result.info))
            if state == "SUCCESS":
                return dict(info)
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
                await on_stage(state, info if isinstance(info, dict) else {})
            await asyncio.sleep(self.poll)
        await self.cancel(job_id)  # nobody waits for it any more: it must not run later
        raise JobFailed(f"no result after {timeout:.0f} s; the workers may be busy or down")

    async def cancel(self, job_id: str) -> None:
        """Stop a queued job: a Redis mark every worker checks before it starts a job
        (it outlives worker restarts), and a revoke for the workers running now."""
        from worker.keys import cancelled_key

        try:
            await self.redis.set(cancelled_key(job_id), 1, ex=CANCEL_MARK_SECONDS)
        except Exception as error:
            raise QueueUnavailable() from error
        await self._call(self.app.control.revoke, job_id)

    async def fetch(self, reference: str) -> bytes:
        from worker.artifacts import KEY_PREFIX, ArtifactError

        try:
            data = await self.redis.get(KEY_PREFIX + reference)
        except Exception as error:
            raise QueueUnavailable() from error
        if data is None:
            raise ArtifactError(f"the file {reference} has expired")
        return bytes(data)

    async def upload(self, job_id: str, name: str, data: bytes, ttl_seconds: int) -> str:
        from worker.artifacts import KEY_PREFIX, artifact_reference

        reference = artifact_reference(job_id, name)
        try:
            await self.redis.set(KEY_PREFIX + reference, data, ex=ttl_seconds)
        except Exception as error:
            raise QueueUnavailable() from error
        return reference

    async def catalogue(self) -> dict[str, Any]:
        from worker.catalogue import CATALOGUE_KEY

        try:
            raw = await self.redis.get(CATALOGUE_KEY)
        except Exception as error:
            raise QueueUnavailable() from error
        return dict(json.loads(raw)) if raw else {}


def _failure_text(info: Any) -> str:
    if isinstance(info, LstmuseError):
        return str(info)
    name = type(info).__name__
    if "TimeLimit" in name:
        return "the job ran past its time limit and was stopped"
    return "the job failed in the worker (the operators can see why in its log)"


class InProcessJobs:
    """Embedded mode: the same job code in a worker thread of this process."""

    def __init__(
        self, output_dir: Path, *, models_dir: Path | None = None, soundfont: Path | None = None
    ) -> None:
        from worker.artifacts import LocalArtifactStore

        self.store = LocalArtifactStore(output_dir / ".artifacts", 24 * 3600, 64 * 1024 * 1024)
        self.models_dir = models_dir
        self.soundfont = soundfont
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lstmuse-job")
        self.futures: dict[str, Future[Any]] = {}
        self.progress: dict[str, dict[str, Any]] = {}

    async def submit_melody(self, job_id: str, request: MelodyRequest) -> None:
        self.futures[job_id] = self.executor.submit(self._generate, job_id, request)

    def _generate(self, job_id: str, request: MelodyRequest) -> dict[str, Any]:
        from worker.generation import GenerateJob, run_generate_jobs

        self.progress[job_id] = {"stage": "generating"}
        (outcome,) = run_generate_jobs(
            [GenerateJob(job_id, request.with_random_seed())],
            self.store,
            models_dir=self.models_dir,
            soundfont=self.soundfont,
        )
        if isinstance(outcome, JobFailed):
            raise outcome
        return outcome

    async def submit_retrain(self, job_id: str, **kwargs: Any) -> None:
        self.futures[job_id] = self.executor.submit(self._retrain, job_id, **kwargs)

    def _retrain(
        self, job_id: str, style: str, dataset_refs: list[str] | None = None, **options: Any
    ) -> dict[str, Any]:
        from lstmuse_core.settings import get_settings
        from worker.training import run_retrain, staged_uploads

        def publish(progress: Any) -> None:
            self.progress[job_id] = {"stage": "training", **progress.to_json()}

        if not dataset_refs:
            return run_retrain(style, models_dir=self.models_dir, on_progress=publish, **options)
        uploads = [(r.rsplit("/", 1)[-1], self.store.get(r)) for r in dataset_refs]
        with staged_uploads(style, uploads, get_settings().uploads_dir, job_id) as input_dir:
            return run_retrain(
                style,
                input_dir=input_dir,
                models_dir=self.models_dir,
                on_progress=publish,
                **options,
            )

    async def submit_rollback(
        self, job_id: str, style: str, version: str | None, timeout: float
    ) -> None:
        from worker.rollback import roll_back

        self.futures[job_id] = self.executor.submit(roll_back, style, version, self.models_dir)

    async def wait(
        self, job_id: str, on_stage: StageCallback | None = None, timeout: float = 300.0
    ) -> dict[str, Any]:
        future = self.futures[job_id]
        deadline = time.monotonic() + timeout
        seen: dict[str, Any] | None = None
        try:
            while not future.done():
                if time.monotonic() > deadline:
                    future.cancel()  # not started yet: it never will be
                    raise JobFailed(f"no result after {timeout:.0f} s")
                current = self.progress.get(job_id)
                if on_stage is not None and current is not None and current != seen:
                    seen = dict(current)
                    await on_stage("PROGRESS", seen)
                await asyncio.sleep(0.1)
            if future.cancelled():
                raise JobFailed("the job was cancelled")
            error = future.exception()
            if isinstance(error, LstmuseError):
                raise JobFailed(str(error))
            if error is not None:
                raise JobFailed("the job failed (see the log)") from error
            return dict(future.result())
        finally:
            if future.done():
                self.futures.pop(job_id, None)
                self.progress.pop(job_id, None)

    async def cancel(self, job_id: str) -> None:
        future = self.futures.get(job_id)
        if future is not None:
            future.cancel()

    async def fetch(self, reference: str) -> bytes:
        return self.store.get(reference)

    async def upload(self, job_id: str, name: str, data: bytes, ttl_seconds: int) -> str:
        return self.store.put(job_id, name, data)

    async def catalogue(self) -> dict[str, Any]:
        from worker.catalogue import build_catalogue

        return await asyncio.to_thread(build_catalogue, self.models_dir)


Jobs = CeleryJobs | InProcessJobs
