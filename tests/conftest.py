"""Shared fixtures: isolated caches, and a tiny model trained once per session.

The tiny model learns real folk songs (ESAC erk5, 27 songs) in seconds; the
core, the worker and the bot tests all use it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lstmuse_core.corpus import music21_corpus_root
from lstmuse_core.train import StyleTrainingResult, train_style


@pytest.fixture(autouse=True)
def _isolated_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep caches out of the user's home; the committed models stay readable."""
    monkeypatch.setenv("LSTMUSE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def erk5_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("erk5")
    shutil.copy(music21_corpus_root() / "essenFolksong" / "erk5.abc", folder / "erk5.abc")
    return folder


@pytest.fixture(scope="session")
def tiny_training(
    erk5_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> StyleTrainingResult:
    models = tmp_path_factory.mktemp("models")
    return train_style(
        "tinyfolk",
        preset_name="tiny",
        max_epochs=8,
        input_dir=erk5_folder,
        models_dir=models,
        cache_dir=tmp_path_factory.mktemp("cache"),
        seed=3,
    )
