"""Bundles: promotion on the same held-out songs, history and rollback, names never paths."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.model.bundle import (
    active_version,
    bundle_folder,
    bundle_from_path,
    history,
    load_bundle,
    resolve_bundle,
    set_active,
    versions,
)
from lstmuse_core.model.evaluate import score_model
from lstmuse_core.model.generate import load_generator, load_generator_from_path
from lstmuse_core.model.promotion import promote
from lstmuse_core.model.train import StyleTrainingResult, train_style
from lstmuse_core.music.dataset import build_dataset
from lstmuse_core.runners.rollback import roll_back


def _models(tiny_training: StyleTrainingResult, root: Path, *names: str) -> Path:
    """A models folder with copies of the tiny erk5 bundle as ``tinyfolk/<name>``."""
    for name in names:
        shutil.copytree(tiny_training.bundle.path, root / "tinyfolk" / name)
    return root


def _one_note_tunes(folder: Path, count: int = 40) -> Path:
    """``count`` ABC tunes that repeat middle C: a trivially predictable dataset."""
    folder.mkdir()
    for number in range(1, count + 1):
        (folder / f"drone{number:02d}.abc").write_text(
            f"X:{number}\nT:Drone {number}\nM:4/4\nL:1/4\nK:C\n" + "C C C C|" * 4 + "\n"
        )
    return folder


def _mark_other_dataset(folder: Path) -> None:
    config = json.loads((folder / "config.json").read_text())
    config["dataset"]["fingerprint"] = "0" * 64
    (folder / "config.json").write_text(json.dumps(config))


def test_retrain_on_a_different_dataset_needs_force(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """40 one-note tunes retrained onto an erk5 style stay out; both scored on the same songs."""
    models = _models(tiny_training, tmp_path / "models", "v001")
    set_active("tinyfolk", "v001", models)
    drones = _one_note_tunes(tmp_path / "drones")
    result = train_style(
        "tinyfolk",
        preset_name="tiny",
        max_epochs=3,
        input_dir=drones,
        models_dir=models,
        cache_dir=tmp_path / "cache",
    )
    assert not result.promoted and active_version("tinyfolk", models) == "v001"
    assert "different dataset" in result.promotion_note and "force" in result.promotion_note
    assert "on the same 4 held-out songs" in result.promotion_note
    refused = history("tinyfolk", models)[-1]
    assert (refused.version, refused.previous, refused.action) == ("v002", "v001", "refused")
    # The incumbent was scored on the candidate's held-out drones, not on its own erk5 songs.
    dataset = build_dataset(input_dir=drones, cache_dir=tmp_path / "cache")
    drones_held_out = dataset.songs_in("test")
    incumbent = load_bundle(models / "tinyfolk" / "v001")
    expected = score_model(
        incumbent.load_model(), incumbent.vocabulary, incumbent.conditioning, drones_held_out
    )
    assert refused.details["compared_songs"] == expected.songs == 4
    assert math.isclose(refused.details["incumbent_bits_per_symbol"], expected.bits_per_symbol)
    # On those songs the drone model is better: only the dataset rule keeps it out.
    assert refused.details["candidate_bits_per_symbol"] < expected.bits_per_symbol
    promoted, note = promote(result.bundle, force=True, models_dir=models)
    assert promoted and "forced" in note and active_version("tinyfolk", models) == "v002"
    assert history("tinyfolk", models)[-1].action == "forced"


def test_worse_retrain_on_the_same_songs_is_kept(
    tiny_training: StyleTrainingResult, erk5_folder: Path, tmp_path: Path
) -> None:
    """A one-epoch retrain on the same erk5 songs loses on the same held-out songs: kept out."""
    models = _models(tiny_training, tmp_path / "models", "v001")
    set_active("tinyfolk", "v001", models)
    worse = train_style(
        "tinyfolk",
        preset_name="tiny",
        max_epochs=1,
        input_dir=erk5_folder,
        models_dir=models,
        cache_dir=tmp_path / "cache",
    )
    assert not worse.promoted and active_version("tinyfolk", models) == "v001"
    note = worse.promotion_note
    assert note.startswith("kept v001") and "on the same 3 held-out songs" in note
    details = history("tinyfolk", models)[-1].details
    assert details["same_dataset"] and details["compared_songs"] == 3
    own = tiny_training.bundle.metrics["test"]["bits_per_symbol"]
    assert math.isclose(details["incumbent_bits_per_symbol"], own, rel_tol=1e-4)
    # An equally good copy on the same dataset is promoted (songs read from its config).
    shutil.copytree(tiny_training.bundle.path, models / "tinyfolk" / "v003")
    promoted, note = promote(load_bundle(models / "tinyfolk" / "v003"), models_dir=models)
    assert promoted and note.startswith("v003 is now active (was v001): on the same 3")


def _history_of_three(tiny_training: StyleTrainingResult, root: Path) -> Path:
    """v001 promoted, v002 refused (another dataset), v003 then v004 promoted."""
    models = _models(tiny_training, root, "v001", "v002", "v003", "v004")
    _mark_other_dataset(models / "tinyfolk" / "v002")
    for version, expected in (("v001", True), ("v002", False), ("v003", True), ("v004", True)):
        promoted, _ = promote(load_bundle(models / "tinyfolk" / version), models_dir=models)
        assert promoted == expected
    return models


def test_rollback_walks_back_through_the_active_history(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """Rollback goes to the previously active version, then further back, then refuses."""
    models = _history_of_three(tiny_training, tmp_path)
    assert roll_back("tinyfolk", models_dir=models).active_version == "v003"
    result = roll_back("tinyfolk", models_dir=models)
    assert (result.active_version, result.was) == ("v001", "v003")  # v002 never active
    assert active_version("tinyfolk", models) == "v001"
    with pytest.raises(InvalidParameter, match="no earlier version"):
        roll_back("tinyfolk", models_dir=models)
    actions = [(e.action, e.version, e.previous) for e in history("tinyfolk", models)]
    assert actions == [
        ("promoted", "v001", None),
        ("refused", "v002", "v001"),
        ("promoted", "v003", "v001"),
        ("promoted", "v004", "v003"),
        ("rolled back", "v003", "v004"),
        ("rolled back", "v001", "v003"),
    ]
    # A named version that was active before is allowed (here: forward again).
    assert roll_back("tinyfolk", "v004", models).active_version == "v004"


def test_rollback_refuses_a_version_that_was_never_active(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """The version the promotion check refused cannot be rolled back to, even by name."""
    models = _history_of_three(tiny_training, tmp_path)
    with pytest.raises(InvalidParameter, match=r"version='v002'.*refused"):
        roll_back("tinyfolk", "v002", models)
    with pytest.raises(InvalidParameter, match="already active"):
        roll_back("tinyfolk", "v004", models)
    assert active_version("tinyfolk", models) == "v004"


def test_rollback_without_history_refuses(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """A style with no history (the committed bundles) has only its ACTIVE as known-good."""
    models = _models(tiny_training, tmp_path, "v001", "v002")
    (models / "tinyfolk" / "ACTIVE").write_text("v002\n")
    with pytest.raises(InvalidParameter, match="no promotion history"):
        roll_back("tinyfolk", models_dir=models)
    with pytest.raises(InvalidParameter, match=r"version='v001'.*never active"):
        roll_back("tinyfolk", "v001", models)
    assert active_version("tinyfolk", models) == "v002"


@pytest.mark.parametrize(
    ("style", "version", "parameter"),
    [
        ("../outside", "v001", "style"),
        ("ABSOLUTE", "v001", "style"),
        ("tinyfolk", "../../etc", "version"),
        ("tinyfolk", "v1", "version"),
        ("tinyfolk", "v001/../v001", "version"),
    ],
)
def test_rollback_refuses_paths(
    tiny_training: StyleTrainingResult, tmp_path: Path, style: str, version: str, parameter: str
) -> None:
    """Style and version names that are paths are refused; no ACTIVE is written anywhere."""
    models = _models(tiny_training, tmp_path / "models", "v001")
    outside = tmp_path / "outside"
    shutil.copytree(tiny_training.bundle.path, outside / "v001")
    if style == "ABSOLUTE":
        style = str(outside)
    with pytest.raises(InvalidParameter, match=rf"^{parameter}="):
        roll_back(style, version, models)
    assert not (outside / "ACTIVE").exists()
    assert not (models / "tinyfolk" / "ACTIVE").exists()


def test_every_bundle_function_takes_names_only(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """Bundle lookups, writes and the generator refuse a path as style or version."""
    models = tiny_training.bundle.path.parent.parent
    path = str(tiny_training.bundle.path)
    lookups = (load_generator, resolve_bundle, bundle_folder, versions, active_version)
    for style in ("../../x", path, "tinyfolk/v001", "", "Folk"):
        for lookup in lookups:
            with pytest.raises(InvalidParameter, match=r"^style="):
                lookup(style, models)
        with pytest.raises(InvalidParameter, match=r"^style="):
            set_active(style, "v001", models)
    for version in ("../v001", "v001/", "latest"):
        with pytest.raises(InvalidParameter, match=r"^version="):
            load_generator("tinyfolk", models, version=version)
        with pytest.raises(InvalidParameter, match=r"^version="):
            set_active("tinyfolk", version, models)
    with pytest.raises(InvalidParameter, match="version='v009'"):
        set_active("tinyfolk", "v009", models)
    # The explicit path functions (the CLI's) still open a bundle folder.
    assert bundle_from_path(path).version == tiny_training.bundle.version
    assert load_generator_from_path(path).style == "tinyfolk"
