"""Retraining jobs as the worker (or the embedded console) runs them.

Uploaded datasets are staged per job, in ``<uploads_dir>/<style>/<job id>/``,
so two retrains of one style never write into each other's files. The folder
is removed when the retrain ends, failed or not: the uploaded files stay in
the artifact store (until their TTL) for anyone who needs to look at them,
and a style that keeps failing must not fill the disk.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.jobs.results import RetrainResult

if TYPE_CHECKING:
    from lstmuse_core.model.train import ProgressCallback

_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")


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


def run_retrain(
    style: str,
    *,
    preset: str = "default",
    epochs: int | None = None,
    minutes: float | None = None,
    force: bool = False,
    input_dir: Path | None = None,
    models_dir: Path | None = None,
    cache_dir: Path | None = None,
    on_progress: ProgressCallback | None = None,
) -> RetrainResult:
    """Train, evaluate, write a bundle, promote if not worse; what became of it."""
    from lstmuse_core.model.train import train_style

    result = train_style(
        style,
        preset_name=preset,
        max_epochs=epochs,
        max_minutes=minutes,
        input_dir=input_dir,
        models_dir=models_dir,
        cache_dir=cache_dir,
        force=force,
        on_progress=on_progress,
    )
    metrics = result.bundle.metrics
    return RetrainResult(
        style=style,
        version=result.bundle.version,
        promoted=result.promoted,
        note=result.promotion_note,
        epochs=result.trained.epochs,
        stopped_by=result.trained.stopped_by,
        test_bits_per_symbol=float(metrics["test"]["bits_per_symbol"]),
        test_accuracy=float(metrics["test"]["accuracy"]),
        ngram_bits_per_symbol=metrics.get("ngram", {}).get("bits_per_symbol"),
    )
