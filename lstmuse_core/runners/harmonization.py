"""Harmonize jobs, as the worker's ``lstmuse.harmonize`` task and the console run them.

A member's tune (read from their file by the bot, `lstmuse_core.music.tune_file`)
is harmonized and rendered in its own key, meter, pickup and register
(`lstmuse_core.harmonize_tune`), and its files put in the artifact store, as a
generated melody's are. Celery-free: the worker passes its time-limit exception
as ``interrupts``.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from lstmuse_core.jobs.artifacts import ArtifactStore
from lstmuse_core.jobs.progress import HARMONIZING, Progress
from lstmuse_core.jobs.results import HarmonizeResult
from lstmuse_core.request import HarmonizeRequest
from lstmuse_core.runners.failures import job_failures
from lstmuse_core.settings import Settings

log = logging.getLogger(__name__)
STEM = "tune"  # the files' names in the store; the bot names what it posts


def run_harmonize_job(
    job_id: str,
    request: HarmonizeRequest,
    store: ArtifactStore,
    settings: Settings,
    progress: Callable[[Progress], None] = lambda _: None,
    *,
    interrupts: tuple[type[BaseException], ...] = (),
) -> HarmonizeResult:
    """Harmonize, render and store one tune; `JobFailed` says why it could not.

    settings: the SoundFont and size cap for the files; interrupts: exceptions
    that stop the job instead of failing it (the worker's soft time limit).
    """
    progress(Progress(HARMONIZING))
    with job_failures(f"harmonize {job_id} ({request.name:.40})", interrupts=interrupts):
        from lstmuse_core.harmonize_tune import harmonize_tune
        from lstmuse_core.music.melody import Melody
        from lstmuse_core.music.render import RenderOptions
        from lstmuse_core.music.tune_file import Tune

        if not request.symbols:
            raise AssertionError("a harmonize job carries its tune (HarmonizeRequest.with_tune)")
        tune = Tune(
            melody=Melody(request.symbols, request.meter, request.key),
            bpm=request.bpm,
            part=request.part,
        )
        options = RenderOptions(
            audio_format=request.audio,
            image=request.image,
            soundfont=settings.soundfont,
            max_bytes=settings.artifact_max_bytes,
            bpm=request.tempo.quarter_bpm,
            instrument=request.instrument,
            export=request.export,
            backing=request.backing,
        )
        with tempfile.TemporaryDirectory(prefix="lstmuse-") as folder:
            harmonized = harmonize_tune(
                tune, Path(folder), stem=STEM, title=tune_title(request), options=options
            )
            files = {
                kind: store.put(job_id, path.name, path.read_bytes())
                for kind, path in harmonized.files.by_kind.items()
            }
        return HarmonizeResult(
            job_id,
            request,
            harmonized.melody.key_name,
            tuple((chord.start, chord.steps, chord.symbol) for chord in harmonized.chords),
            files,
            tuple(harmonized.files.problems),
        )
    raise AssertionError("unreachable: the block returns or raises")


def tune_title(request: HarmonizeRequest) -> str:
    """The scores' title: the file's name without its suffix, and the part."""
    name = PurePosixPath(request.name).stem or "A tune"
    return (
        f"{name} ({request.part}), harmonized by LSTMuse"
        if request.part
        else (f"{name}, harmonized by LSTMuse")
    )
