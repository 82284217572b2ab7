"""The sampler's weights file: written with the bundle, tied to its model.keras, refused by name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from lstmuse_core.cli import EXIT_USER_ERROR, main
from lstmuse_core.errors import BundleError
from lstmuse_core.model.bundle import load_bundle
from lstmuse_core.model.generate import load_generator_from_path
from lstmuse_core.model.train import StyleTrainingResult
from lstmuse_core.model.weights import (
    MODEL_CHECKSUM,
    WEIGHTS_FILE,
    NetworkWeights,
    file_sha256,
    read_weights,
)

COMMITTED_MODELS = Path(__file__).resolve().parents[3] / "trained_models"


@pytest.fixture
def bundle_copy(tiny_training: StyleTrainingResult, tmp_path: Path) -> Path:
    """A copy of the tiny bundle that a test may damage."""
    folder = tmp_path / "tinyfolk" / "v001"
    shutil.copytree(tiny_training.bundle.path, folder)
    return folder


def test_every_committed_bundle_carries_weights_for_its_model() -> None:
    """Each committed version folder has a weights.npz recording its own model.keras' SHA-256."""
    folders = sorted(COMMITTED_MODELS.glob("*/v[0-9][0-9][0-9]"))
    assert len(folders) >= 4
    for folder in folders:
        stored = read_weights(folder / WEIGHTS_FILE)
        assert stored.model_sha256 == file_sha256(folder / "model.keras"), folder
        assert load_bundle(folder).sampler_weights().symbols == stored.weights.symbols


def test_the_file_holds_keras_values_and_the_model_checksum(bundle_copy: Path) -> None:
    """Every array equals the Keras model's, by role; the checksum is model.keras' SHA-256."""
    bundle = load_bundle(bundle_copy)
    expected = NetworkWeights.from_keras(bundle.load_model()).arrays()
    with np.load(bundle_copy / WEIGHTS_FILE, allow_pickle=False) as archive:
        assert str(archive[MODEL_CHECKSUM]) == file_sha256(bundle_copy / "model.keras")
        assert set(archive.files) == {*expected, MODEL_CHECKSUM}
        for key, values in expected.items():
            assert archive[key].dtype == np.float32
            np.testing.assert_array_equal(archive[key], values, err_msg=key)
    assert {"embed_symbol", "lstm_1.kernel", "dense.bias"} <= set(expected)


def test_a_missing_weights_file_is_refused_by_name(bundle_copy: Path) -> None:
    """No weights.npz: the error names the file and the command that writes it."""
    (bundle_copy / WEIGHTS_FILE).unlink()
    with pytest.raises(BundleError, match=r"v001/weights\.npz is missing") as refused:
        load_generator_from_path(bundle_copy)
    assert f"lstmuse export-weights --style {bundle_copy}" in str(refused.value)


def test_a_weights_file_of_another_model_is_refused_by_name(
    bundle_copy: Path, tiny_training: StyleTrainingResult
) -> None:
    """A model.keras replaced after its weights file was written: refused, naming both files."""
    model = tiny_training.bundle.load_model()
    model.save(bundle_copy / "model.keras")  # the same network, saved again: other bytes
    with pytest.raises(BundleError, match=r"weights\.npz was written for another model\.keras"):
        load_generator_from_path(bundle_copy)


def test_an_unreadable_weights_file_is_refused_by_name(bundle_copy: Path) -> None:
    """A truncated weights.npz is named with the fix, not a NumPy traceback."""
    (bundle_copy / WEIGHTS_FILE).write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(BundleError, match=r"weights\.npz cannot be read .*export-weights"):
        load_generator_from_path(bundle_copy)


def test_export_weights_mends_a_bundle(bundle_copy: Path, capsys: pytest.CaptureFixture) -> None:
    """``lstmuse export-weights --style PATH`` writes a weights file the sampler accepts."""
    (bundle_copy / WEIGHTS_FILE).unlink()
    assert main(["export-weights", "--style", str(bundle_copy)]) == 0
    assert capsys.readouterr().out.strip() == str(bundle_copy / WEIGHTS_FILE)
    generator = load_generator_from_path(bundle_copy)
    assert generator.sample(1, bars=2, seed=1)[0].symbols


def test_export_weights_covers_every_version_of_a_style(
    bundle_copy: Path, capsys: pytest.CaptureFixture
) -> None:
    """``--style NAME`` rewrites each version folder of that style, active or not."""
    second = bundle_copy.parent / "v002"
    shutil.copytree(bundle_copy, second)
    for folder in (bundle_copy, second):
        (folder / WEIGHTS_FILE).unlink()
    models = bundle_copy.parent.parent
    assert main(["export-weights", "--style", "tinyfolk", "--models-dir", str(models)]) == 0
    written = capsys.readouterr().out.split()
    assert written == [str(bundle_copy / WEIGHTS_FILE), str(second / WEIGHTS_FILE)]
    capsys.readouterr()
    assert main(["export-weights", "--style", "nosuch", "--models-dir", str(models)]) == (
        EXIT_USER_ERROR
    )
    assert "style='nosuch' is not allowed" in capsys.readouterr().err


def test_a_bad_triplet_calibration_is_refused_by_name(bundle_copy: Path) -> None:
    """A triplet_bias out of range (or not a number) is named with the command that mends it."""
    config = json.loads((bundle_copy / "config.json").read_text(encoding="utf-8"))
    for bad in (9.5, "high", True):
        config["triplet_bias"] = bad
        (bundle_copy / "config.json").write_text(json.dumps(config), encoding="utf-8")
        with pytest.raises(BundleError, match=r"triplet_bias .* -3 to 3 .*lstmuse calibrate"):
            load_bundle(bundle_copy)
