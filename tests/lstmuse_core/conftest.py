"""A tiny model trained once per session on real folk songs (ESAC erk5, 27 songs)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lstmuse_core.corpus import music21_corpus_root
from lstmuse_core.train import StyleTrainingResult, train_style


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
