"""Generation jobs as the worker (and the embedded console) runs them.

A job's ``count`` melodies are sampled as one batch, rendered, and their files
put in the artifact store. A job ends with a result or a `JobFailed`,
whatever was raised: user errors keep their message; anything unexpected is
logged with the job's context and reported with a generic message (never a
traceback to the member). Celery-free: the worker's task passes its time-limit
exception as ``interrupts`` so that it is never mistaken for a job's failure.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lstmuse_core.compose import render_composed, resolve_request, sample_request
from lstmuse_core.errors import JobFailed, LstmuseError, caused_by
from lstmuse_core.jobs.artifacts import ArtifactStore
from lstmuse_core.jobs.queue import UNEXPECTED_FAILURE
from lstmuse_core.jobs.results import GeneratedMelody, MelodyResult
from lstmuse_core.limits import MAX_RANDOM_SEED
from lstmuse_core.model.generate import MelodyGenerator, SampledMelody, load_generator
from lstmuse_core.request import MelodyRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GenerateJob:
    job_id: str
    request: MelodyRequest  # with its random seed drawn


def parse_job(job_id: str, payload: dict[str, Any]) -> GenerateJob:
    """The queue payload ``{"request": {...}}`` -> a job; bad payloads are user errors.

    A request without a random seed gets one derived from the job id, so a
    job redelivered after its worker died makes the same melodies.
    """
    try:
        request = MelodyRequest.from_json(payload["request"])
    except KeyError:
        raise JobFailed("the job has no request") from None
    except LstmuseError as error:
        raise JobFailed(str(error)) from error
    except (TypeError, ValueError, AttributeError) as error:
        raise JobFailed(f"the job's request is malformed ({error})") from error
    if request.random_seed is None:
        digest = hashlib.sha256(job_id.encode()).digest()
        request = request.replace(
            random_seed=int.from_bytes(digest[:8], "big") % (MAX_RANDOM_SEED + 1)
        )
    return GenerateJob(job_id, request)


_device_logged = False


def log_device_once() -> None:
    """Say once per process where training runs (backend, device) and that sampling is NumPy."""
    global _device_logged
    if _device_logged:
        return
    from lstmuse_core.model.train import machine_description

    log.info("training runs on %s; sampling runs compiled on the CPU", machine_description())
    _device_logged = True


def run_generate_job(
    job: GenerateJob,
    store: ArtifactStore,
    *,
    models_dir: Path | None = None,
    soundfont: Path | None = None,
    max_bytes: int | None = None,
    interrupts: tuple[type[BaseException], ...] = (),
) -> MelodyResult | JobFailed:
    """Sample, render and store one job's melodies: its result, or why it failed.

    interrupts: exceptions that stop the job instead of failing it (the
    worker's soft time limit, which the task reports itself).
    """
    stage = "sampling"
    try:
        log_device_once()
        started = time.perf_counter()
        generator = load_generator(job.request.style, models_dir)
        job = replace(job, request=resolve_request(job.request, generator))
        melodies = sample_request(generator, job.request)
        log.info(
            "sampled %d melodies of %s %s in %.3f s",
            len(melodies),
            generator.style,
            generator.version,
            time.perf_counter() - started,
        )
        stage = "rendering"
        return _render_and_store(job, melodies, generator, store, soundfont, max_bytes)
    except Exception as error:  # the job ends, whatever was raised
        if caused_by(error, interrupts):  # the limit, maybe re-raised by a library
            raise
        return _failure(error, stage, job)


def _failure(error: Exception, stage: str, job: GenerateJob) -> JobFailed:
    """A user error keeps its message; anything else is logged and reported generically."""
    if isinstance(error, LstmuseError):
        return error if isinstance(error, JobFailed) else JobFailed(str(error))
    log.error(
        "%s failed unexpectedly for job %s (style %.40r)",
        stage,
        job.job_id,
        job.request.style,
        exc_info=error,
    )
    return JobFailed(UNEXPECTED_FAILURE)


def _render_and_store(
    job: GenerateJob,
    melodies: list[SampledMelody],
    generator: MelodyGenerator,
    store: ArtifactStore,
    soundfont: Path | None,
    max_bytes: int | None,
) -> MelodyResult:
    request = job.request
    assert request.random_seed is not None
    with tempfile.TemporaryDirectory(prefix="lstmuse-") as folder:
        composed = render_composed(
            request, melodies, generator, Path(folder), "melody", soundfont, max_bytes
        )
        results = []
        for melody in composed:
            artifacts = {}
            for kind, path in melody.files.by_kind.items():
                artifacts[kind] = store.put(job.job_id, path.name, path.read_bytes())
            results.append(
                GeneratedMelody(
                    tuple(melody.symbols),
                    melody.random_seed,
                    melody.key,
                    melody.melody.meter,
                    artifacts,
                    tuple(melody.files.problems),
                )
            )
    return MelodyResult(job.job_id, generator.style, generator.version, request, tuple(results))
