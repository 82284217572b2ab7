"""Training: loss goes down, runs are deterministic, bundles are complete and promoted."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.model.bundle import BundleError, active_version, load_bundle
from lstmuse_core.model.conditioning import Conditioning
from lstmuse_core.model.generate import load_generator_from_path
from lstmuse_core.model.network import PRESETS, ModelConfig, preset
from lstmuse_core.model.train import StyleTrainingResult, TrainingProgress, fit, train_style
from lstmuse_core.model.weights import NetworkWeights, write_weights
from lstmuse_core.music.corpus import Song
from lstmuse_core.music.encoding import Vocabulary
from lstmuse_core.music.meter import Meter

MELODIES = [
    ["60", "_", "62", "_", "64", "_", "_", "_"] * 4,
    ["67", "_", "65", "_", "64", "_", "62", "_"] * 3,
    ["60", "_", "_", "_", "r", "_", "64", "_"] * 4,
    ["64", "_", "62", "_", "60", "_", "_", "_"] * 2,
]
SONGS = [
    Song(f"s{number}", "", melody, Meter(2, 4), 0, 0, "major" if number % 2 else "minor")
    for number, melody in enumerate(MELODIES)
]
CONDITIONING = Conditioning.from_songs(SONGS)


def test_loss_goes_down(tiny_training: StyleTrainingResult) -> None:
    """Training and validation loss fall from the first epoch to the best one."""
    history = tiny_training.trained.history
    best = tiny_training.trained.best_epoch
    assert history[-1].loss_bits < history[0].loss_bits
    assert history[best - 1].val_loss_bits < history[0].val_loss_bits
    assert tiny_training.trained.best_val_loss_bits == min(p.val_loss_bits for p in history)


def test_bundle_is_complete_and_active(tiny_training: StyleTrainingResult) -> None:
    """The bundle has its six files (the sampler's weights.npz written at training time,
    the test songs as read in test_songs.json), names its dataset and split, and is ACTIVE."""
    bundle = tiny_training.bundle
    assert sorted(p.name for p in bundle.path.iterdir()) == [
        "config.json",
        "metrics.json",
        "model.keras",
        "test_songs.json",
        "vocab.json",
        "weights.npz",
    ]
    tested = json.loads((bundle.path / "test_songs.json").read_text())["songs"]
    assert sorted(tested) == sorted(bundle.config_json["dataset"]["split_ids"]["test"])
    assert bundle.sampler_weights().symbols == len(bundle.vocabulary)
    assert tiny_training.promoted
    assert active_version("tinyfolk", bundle.path.parent.parent) == bundle.version
    config = bundle.config_json
    assert config["model"]["preset"] == "tiny"
    assert config["dataset"]["songs_kept"] == 27
    assert config["format"] == 2 and config["default_temperature"] == 0.8
    assert set(config["conditioning"]["meters"]) >= {"2/4", "3/4"}
    assert config["conditioning"]["metrical"] is True
    assert sorted(config["dataset"]["split_ids"]) == ["test", "train", "validation"]
    metrics = bundle.metrics
    assert 0 < metrics["test"]["bits_per_symbol"] < 10
    assert metrics["ngram"]["order"] == 9
    assert "pitch_class_histogram" in metrics["samples"]["features"]
    assert bundle.load_model().output_shape[-1] == len(bundle.vocabulary)


def test_training_is_deterministic() -> None:
    """The same seed gives the same weights; progress is reported every epoch."""
    vocabulary = Vocabulary.from_songs(MELODIES)
    config = preset("tiny").with_overrides(max_epochs=2)
    seen: list[TrainingProgress] = []
    first = fit(
        config, vocabulary, CONDITIONING, SONGS[:3], SONGS[3:], seed=5, on_progress=seen.append
    )
    second = fit(config, vocabulary, CONDITIONING, SONGS[:3], SONGS[3:], seed=5)
    assert [p.epoch for p in seen] == [1, 2]
    assert seen[-1].eta_seconds == 0
    for a, b in zip(first.model.get_weights(), second.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_presets_validate_themselves() -> None:
    """Presets exist; bad values name the field."""
    assert PRESETS["seed"].lstm_units == (256,)
    with pytest.raises(InvalidParameter, match="dropout"):
        ModelConfig(dropout=1.5)
    with pytest.raises(InvalidParameter, match="preset='huge'"):
        preset("huge")


def test_bundle_validation_names_the_problem(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """A missing file, a broken JSON or a vocabulary mismatch is named."""
    broken = tmp_path / "v001"
    shutil.copytree(tiny_training.bundle.path, broken)
    (broken / "vocab.json").unlink()
    with pytest.raises(BundleError, match=r"lacks vocab\.json"):
        load_bundle(broken)
    shutil.copy(tiny_training.bundle.path / "vocab.json", broken / "vocab.json")
    config = json.loads((broken / "config.json").read_text())
    config["vocab_size"] += 1
    (broken / "config.json").write_text(json.dumps(config))
    with pytest.raises(BundleError, match=r"vocab\.json has"):
        load_bundle(broken)
    (broken / "metrics.json").write_text("{not json")
    with pytest.raises(BundleError, match="v001"):
        load_bundle(broken)


def test_a_network_with_a_nan_weight_is_refused(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """A NaN weight (a damaged or hand-edited file) is named, not sampled: in model.keras
    (refused when its weights file is written) and in weights.npz (refused by the sampler)."""

    damaged = tmp_path / "v001"
    shutil.copytree(tiny_training.bundle.path, damaged)
    bundle = load_bundle(damaged)
    model = bundle.load_model()
    weights = model.get_weights()
    weights[-1][0] = float("nan")  # one bias of the output layer
    model.set_weights(weights)
    model.save(damaged / "model.keras")
    with pytest.raises(BundleError, match=r"model\.keras has weights that are not finite"):
        bundle.export_weights()
    write_weights(damaged, NetworkWeights.from_keras(model))
    with pytest.raises(BundleError, match=r"weights\.npz has weights that are not finite"):
        load_generator_from_path(damaged)


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("max_epochs", 0, "max_epochs=0"),
        ("max_epochs", -1, "max_epochs=-1"),
        ("max_epochs", True, "max_epochs=True"),
        ("max_epochs", 2.5, "max_epochs=2.5"),
        ("max_minutes", 0, "max_minutes=0"),
        ("max_minutes", float("nan"), "max_minutes=nan"),
        ("preset_name", "huge", "preset='huge'"),
        ("seed", -1, "seed=-1"),
        ("force", "no", "force='no'"),
    ],
)
def test_nonsense_options_are_refused_before_any_data_is_read(
    erk5_folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    option: str,
    value: object,
    named: str,
) -> None:
    """epochs=0, minutes=0 and the like are refused before reading; no version folder appears."""
    import lstmuse_core.music.dataset

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the dataset was read before the options were checked")

    monkeypatch.setattr(lstmuse_core.music.dataset, "build_dataset", no_reading)
    options: dict[str, object] = {"preset_name": "tiny", option: value}
    with pytest.raises(InvalidParameter, match=f"^{re.escape(named)} is not allowed"):
        train_style(
            "tinyfolk",
            input_dir=erk5_folder,
            models_dir=tmp_path / "models",
            **options,  # type: ignore[arg-type]
        )
    assert not (tmp_path / "models").exists()


def test_fit_refuses_zero_epochs() -> None:
    """fit(max_epochs=0) is refused, not read as "the preset's epochs"."""
    vocabulary = Vocabulary.from_songs(MELODIES)
    with pytest.raises(InvalidParameter, match="max_epochs=0"):
        fit(preset("tiny"), vocabulary, CONDITIONING, SONGS[:3], SONGS[3:], max_epochs=0)


def test_bundle_records_its_dataset_fingerprint(tiny_training: StyleTrainingResult) -> None:
    """config.json carries a content fingerprint of the songs, which promotion compares."""
    dataset = tiny_training.bundle.config_json["dataset"]
    assert len(dataset["fingerprint"]) == 64
    assert tiny_training.bundle.config_json["model"]["max_epochs"] == 8


def test_old_bundles_fail_to_load_with_a_clear_message(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """A bundle from before the meter-aware network is refused, naming the fix."""
    old = tmp_path / "folk" / "v001"
    shutil.copytree(tiny_training.bundle.path, old)
    config = json.loads((old / "config.json").read_text())
    del config["format"], config["conditioning"]
    (old / "config.json").write_text(json.dumps(config))
    with pytest.raises(BundleError, match=r"format 1.*retrain the style.*--style folk"):
        load_bundle(old)


def test_conditioning_keeps_its_meter_order_through_json() -> None:
    """Meter ids do not depend on the order a JSON file keeps (config.json sorts its keys)."""
    two_four, six_eight, twelve_eight = Meter(2, 4), Meter(6, 8), Meter(12, 8)
    conditioning = Conditioning(
        {six_eight: 3, twelve_eight: 1, two_four: 5}, {"minor": 1, "major": 2}
    )
    stored = json.loads(json.dumps(conditioning.to_json(), sort_keys=True))
    assert stored["meters"] == {"12/8": 1, "2/4": 5, "6/8": 3}  # the text, as config.json keeps it
    shuffled = Conditioning.from_json(stored)
    in_order = [two_four, six_eight, twelve_eight]
    assert list(shuffled.meters) == list(conditioning.meters) == in_order
    assert [shuffled.meter_id(m) for m in in_order] == [0, 1, 2]


def test_a_run_continues_from_a_version_of_the_same_network_and_songs(
    tiny_training: StyleTrainingResult, erk5_folder: Path, tmp_path: Path
) -> None:
    """``continue_from`` trains on from a bundle's weights: its first epoch starts where
    the bundle stopped, the new bundle records what it continued; a version of another
    network, or none, is refused naming ``continue_from``."""
    models = tmp_path / "models"
    shutil.copytree(tiny_training.bundle.path.parent, models / "tinyfolk")
    source = tiny_training.bundle
    continued = train_style(
        "tinyfolk",
        preset_name="tiny",
        max_epochs=3,
        input_dir=erk5_folder,
        models_dir=models,
        cache_dir=tmp_path / "cache",
        seed=4,
        continue_from=source.version,
    )
    history = continued.trained.history
    # Fresh weights score far worse after one epoch than the bundle's did after eight.
    assert history[0].val_loss_bits < tiny_training.trained.history[0].val_loss_bits
    assert continued.trained.best_val_loss_bits < tiny_training.trained.best_val_loss_bits
    lineage = continued.bundle.config_json["training"]["continued_from"]
    assert lineage["version"] == source.version
    assert lineage["epochs_before"] == tiny_training.trained.epochs
    for version, preset_name, why in (
        ("v099", "tiny", "a version of tinyfolk that loads"),
        (source.version, "seed", "it differs in: layers"),
    ):
        with pytest.raises(InvalidParameter, match=re.escape(why)) as error:
            train_style(
                "tinyfolk",
                preset_name=preset_name,
                max_epochs=1,
                input_dir=erk5_folder,
                models_dir=models,
                cache_dir=tmp_path / "cache",
                continue_from=version,
            )
        assert error.value.parameter == "continue_from"
