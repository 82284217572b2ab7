"""Generation jobs, as the worker's ``lstmuse.generate`` task and the console run them.

A job's ``count`` melodies are sampled as one batch, rendered, and their files
put in the artifact store. Celery-free: the worker passes its time-limit
exception as ``interrupts`` so that it is never mistaken for a job's failure.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from lstmuse_core.compose import render_composed, resolve_request, sample_request
from lstmuse_core.jobs.artifacts import ArtifactStore
from lstmuse_core.jobs.progress import GENERATING, Progress
from lstmuse_core.jobs.results import GeneratedMelody, MelodyResult
from lstmuse_core.model.generate import MelodyGenerator, SampledMelody, load_generator
from lstmuse_core.request import MelodyRequest
from lstmuse_core.runners.failures import job_failures
from lstmuse_core.settings import Settings

log = logging.getLogger(__name__)


def run_generate_job(
    job_id: str,
    request: MelodyRequest,
    store: ArtifactStore,
    settings: Settings,
    progress: Callable[[Progress], None] = lambda _: None,
    *,
    interrupts: tuple[type[BaseException], ...] = (),
) -> MelodyResult:
    """Sample, render and store one job's melodies; `JobFailed` says why it could not.

    request: with its random seed drawn (a redelivered job makes the same
    melodies); settings: the models folder, SoundFont and size cap per
    melody; interrupts: exceptions that stop the job instead of failing it
    (the worker's soft time limit, which the task reports itself).
    """
    progress(Progress(GENERATING))
    with job_failures(f"generate {job_id} (style {request.style:.40})", interrupts=interrupts):
        started = time.perf_counter()
        generator = load_generator(request.style, settings.models_dir)
        request = resolve_request(request, generator)
        melodies = sample_request(generator, request)
        log.info(
            "sampled %d melodies of %s %s in %.3f s",
            len(melodies),
            generator.style,
            generator.version,
            time.perf_counter() - started,
        )
        return _render_and_store(job_id, request, melodies, generator, store, settings)
    raise AssertionError("unreachable: the block returns or raises")


def _render_and_store(
    job_id: str,
    request: MelodyRequest,
    melodies: list[SampledMelody],
    generator: MelodyGenerator,
    store: ArtifactStore,
    settings: Settings,
) -> MelodyResult:
    with tempfile.TemporaryDirectory(prefix="lstmuse-") as folder:
        composed = render_composed(
            request,
            melodies,
            generator,
            Path(folder),
            "melody",
            settings.soundfont,
            settings.artifact_max_bytes,
        )
        results = []
        for melody in composed:
            artifacts = {}
            for kind, path in melody.files.by_kind.items():
                artifacts[kind] = store.put(job_id, path.name, path.read_bytes())
            results.append(
                GeneratedMelody(
                    tuple(melody.symbols),
                    melody.random_seed,
                    melody.key,
                    melody.melody.meter,
                    artifacts,
                    tuple(melody.files.problems),
                    tuple((c.start, c.steps, c.symbol) for c in melody.chords),
                    melody.form,
                )
            )
    return MelodyResult(job_id, generator.style, generator.version, request, tuple(results))
