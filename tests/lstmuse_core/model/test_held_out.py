"""A committed bundle is scored on the songs it was tested on, read by today's reader."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from lstmuse_core.model import held_out
from lstmuse_core.model.bundle import TEST_SONGS_FILE, resolve_bundle
from lstmuse_core.music.corpus import STYLES, Style


def test_the_folk_bundle_is_read_from_the_books_it_recorded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """folk v001 was trained on the German books *and* han (before chinese was its own
    style): its test songs are looked for in those files, read as it read them."""
    asked: dict[str, Any] = {}

    def build(style: Style, **kwargs: Any) -> None:
        asked.update(style=style, **kwargs)

    monkeypatch.setattr("lstmuse_core.music.dataset.build_dataset", build)
    bundle = resolve_bundle("folk", version="v001")
    held_out.recorded_dataset(bundle)
    style = asked["style"]
    assert "han*.abc" in style.patterns and "han*.abc" not in STYLES["folk"].patterns
    assert style.corpus_folder == "essenFolksong" and not asked["options"].pentatonic
    assert asked["split_seed"] == 2024


def test_committed_bundles_keep_their_test_songs_as_read_for_training() -> None:
    for style in ("folk", "chinese", "irish", "fiddle", "scottish"):
        bundle = resolve_bundle(style)
        recorded = bundle.config_json["dataset"]["split_ids"]["test"]
        digests = json.loads((bundle.path / TEST_SONGS_FILE).read_text())["songs"]
        assert sorted(digests) == sorted(recorded)


@pytest.mark.slow
def test_scottish_is_scored_on_its_recorded_test_songs_only(tmp_path: Path) -> None:
    """Reads Aird's six books: the test songs are the recorded ones (never a training
    song), and the report counts those read as for training, differently, or dropped."""
    bundle = resolve_bundle("scottish", version="v001")  # trained on reader version 4
    split_ids = bundle.config_json["dataset"]["split_ids"]
    split = held_out.trained_split(bundle, tmp_path)
    assert split is not None
    test_ids = {song.song_id for song in split["test"]}
    assert test_ids <= set(split_ids["test"])
    assert not test_ids & (set(split_ids["train"]) | set(split_ids["validation"]))
    report = held_out.reading_report(bundle, tmp_path)
    assert report is not None
    assert report.recorded == len(split_ids["test"]) == 94
    assert report.found == len(test_ids)
    assert report.found + sum(report.not_kept.values()) == report.recorded
    assert report.same is not None and 0 < report.same < report.found  # the reader changed
    assert "recorded test songs read today" in report.describe()


def test_styles_shows_which_models_were_trained_on_an_earlier_reading(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from lstmuse_core.cli import main
    from lstmuse_core.model.bundle import default_models_dir

    # The committed bundles, whatever models folder an earlier test's settings left, with
    # scottish rolled back to v001 (trained before issue 21's reader).
    models = tmp_path / "models"
    shutil.copytree(default_models_dir(), models)
    (models / "scottish" / "ACTIVE").write_text("v001\n")
    committed = ["--models-dir", str(models)]
    assert main(["styles", "--json", *committed]) == 0
    rows = {row["style"]: row for row in json.loads(capsys.readouterr().out)}
    # Every style's active model reads as today (bars kept as written, reader version 8),
    # but scottish v001, which read version 4.
    assert rows["chinese"]["active_version"] == "v002"
    assert rows["chinese"]["corpus"] == "essenFolksong/han*.abc"
    assert "han" not in rows["folk"]["corpus"]
    for style in ("folk", "chinese", "irish", "fiddle", "chorale"):
        assert not rows[style].get("previous_reading"), style
    assert "reader version 4" in rows["scottish"]["previous_reading"]
    assert main(["styles", *committed]) == 0
    text = capsys.readouterr().out
    assert "chinese" in text and "[no model yet]" not in text
