"""Retraining jobs, as the worker's ``lstmuse.retrain`` task and the console run them.

Uploaded datasets are staged per job, in ``<uploads_dir>/<style>/<job id>/``,
so two retrains of one style never write into each other's files. The folder
is removed when the retrain ends, failed or not: the uploaded files stay in
the artifact store (until their TTL) for anyone who needs to look at them,
and a style that keeps failing must not fill the disk.
"""

from __future__ import annotations

import logging
import re
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.jobs.artifacts import ArtifactStore, file_name
from lstmuse_core.jobs.progress import READING_THE_CORPUS, TRAINING, EpochProgress, Progress
from lstmuse_core.jobs.results import RetrainResult
from lstmuse_core.request import RetrainRequest
from lstmuse_core.runners.failures import JobCancelled, job_failures
from lstmuse_core.settings import Settings

if TYPE_CHECKING:
    from lstmuse_core.model.train import TrainingProgress

_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
_UNCHANGED = "; the active model is unchanged"

log = logging.getLogger(__name__)
_device_logged = False


def log_device_once() -> None:
    """Say once per process where training runs (backend, device) and where sampling runs.

    Asked by the first retrain, not at start-up: naming the device imports Keras,
    which generation never does.
    """
    global _device_logged
    if _device_logged:
        return
    from lstmuse_core.model.train import machine_description

    log.info("training runs on %s; sampling runs compiled on the CPU", machine_description())
    _device_logged = True


def run_retrain_job(
    request: RetrainRequest,
    uploads: Sequence[str],
    progress: Callable[[Progress], None],
    cancelled: Callable[[], bool],
    *,
    job_id: str,
    store: ArtifactStore,
    settings: Settings,
    dataset_dir: Path | None = None,
    interrupts: tuple[type[BaseException], ...] = (),
) -> RetrainResult:
    """Train, evaluate, write a bundle, promote if not worse; what became of it.

    uploads: artifact references of uploaded music files or zips, checked
    and unpacked into this job's own folder (see `staged_uploads`), that
    become the style's dataset; dataset_dir: a folder of music files on this
    machine; neither: a built-in style reads its music21 corpus. progress:
    called at each stage and after each epoch; cancelled: asked after each
    epoch, and a cancelled retrain stops there, writing no version
    (`JobCancelled`). settings: the models, uploads and cache folders.
    Anything else that goes wrong is a `JobFailed` that says the active
    model is unchanged.
    """
    style = request.style

    def each_epoch(trained: TrainingProgress) -> None:
        if cancelled():
            raise JobCancelled(f"retraining {style} was cancelled{_UNCHANGED}")
        progress(Progress(TRAINING, _epoch_progress(trained)))

    progress(Progress(READING_THE_CORPUS))
    with (
        job_failures(
            f"retrain {job_id} (style {style:.40})",
            user_error=f"retraining {style:.40} failed: {{error}}{_UNCHANGED}",
            cancelled=f"retraining {style} was cancelled{_UNCHANGED}",
            interrupts=interrupts,
        ),
        ExitStack() as staging,
    ):
        if uploads:
            files = [(file_name(reference), store.get(reference)) for reference in uploads]
            folder = staged_uploads(style, files, settings.uploads_dir, job_id)
            dataset_dir = staging.enter_context(folder)
        log_device_once()
        return _retrain(request, dataset_dir, settings, each_epoch)
    raise AssertionError("unreachable: the block returns or raises")


def _retrain(
    request: RetrainRequest,
    dataset_dir: Path | None,
    settings: Settings,
    each_epoch: Callable[[TrainingProgress], None],
) -> RetrainResult:
    from lstmuse_core.model.train import train_style

    result = train_style(
        request.style,
        preset_name=request.preset,
        max_epochs=request.epochs,
        max_minutes=request.minutes,
        input_dir=dataset_dir,
        models_dir=settings.models_dir,
        cache_dir=settings.cache_dir,
        force=request.force,
        on_progress=each_epoch,
    )
    metrics = result.bundle.metrics
    return RetrainResult(
        style=request.style,
        version=result.bundle.version,
        promoted=result.promoted,
        note=result.promotion_note,
        epochs=result.trained.epochs,
        stopped_by=result.trained.stopped_by,
        test_bits_per_symbol=float(metrics["test"]["bits_per_symbol"]),
        test_accuracy=float(metrics["test"]["accuracy"]),
        ngram_bits_per_symbol=metrics.get("ngram", {}).get("bits_per_symbol"),
    )


def _epoch_progress(trained: TrainingProgress) -> EpochProgress:
    return EpochProgress(
        epoch=trained.epoch,
        max_epochs=trained.max_epochs,
        loss_bits=trained.loss_bits,
        val_loss_bits=trained.val_loss_bits,
        best_val_loss_bits=trained.best_val_loss_bits,
        eta_seconds=trained.eta_seconds,
        device=trained.device,
    )


def unpack_uploads(
    style: str, uploads: list[tuple[str, bytes]], uploads_dir: Path, job_id: str | None = None
) -> Path:
    """Check and write uploaded files into ``<uploads_dir>/<style>/<job id>/``.

    A redelivered job starts again from an empty folder. Without a job id the
    folder gets a fresh one; the caller removes the folder (see `staged_uploads`).
    """
    from lstmuse_core.music.uploads import save_uploads
    from lstmuse_core.names import check_style_name

    check_style_name(style)
    job_id = job_id or uuid.uuid4().hex
    if not _JOB_ID.fullmatch(job_id):
        raise InvalidParameter("job id", job_id, "letters, digits, '-' or '_' (at most 80)")
    folder = uploads_dir / style / job_id
    shutil.rmtree(folder, ignore_errors=True)
    try:
        save_uploads(uploads, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


@contextmanager
def staged_uploads(
    style: str, uploads: list[tuple[str, bytes]], uploads_dir: Path, job_id: str
) -> Iterator[Path]:
    """The job's own staging folder (see `unpack_uploads`), removed when the block ends."""
    folder = unpack_uploads(style, uploads, uploads_dir, job_id)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
