"""Retraining jobs as the worker (or the embedded console) runs them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from lstmuse_core.train import ProgressCallback, train_style


def unpack_uploads(style: str, uploads: list[tuple[str, bytes]], uploads_dir: Path) -> Path:
    """Check and write uploaded files into ``<uploads_dir>/<style>/`` (replacing the last set)."""
    from lstmuse_core.bundle import check_style_name
    from lstmuse_core.uploads import save_uploads

    check_style_name(style)
    folder = uploads_dir / style
    staging = folder.with_name(f".{style}.incoming")
    shutil.rmtree(staging, ignore_errors=True)
    save_uploads(uploads, staging)  # raises before anything replaces the last good set
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return folder


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
) -> dict[str, Any]:
    """Train, evaluate, write a bundle, promote if not worse; a small JSON summary."""
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
    return {
        "style": style,
        "version": result.bundle.version,
        "promoted": result.promoted,
        "note": result.promotion_note,
        "epochs": result.trained.epochs,
        "stopped_by": result.trained.stopped_by,
        "test": result.bundle.metrics["test"],
        "ngram_bits_per_symbol": result.bundle.metrics["ngram"]["bits_per_symbol"],
    }
