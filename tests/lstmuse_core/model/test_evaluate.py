"""Held-out evaluation of a bundle, on its test split or on given songs."""

from __future__ import annotations

from pathlib import Path

import pytest

from lstmuse_core.errors import CorpusError
from lstmuse_core.model.evaluate import evaluate_bundle
from lstmuse_core.model.train import StyleTrainingResult

REQUIRED = {
    "bits_per_symbol",
    "accuracy",
    "onset_accuracy",
    "ngram_bits_per_symbol",
    "bits_per_note",
    "pitch_bits_per_note",
    "ngram_bits_per_note",
    "ngram_pitch_bits_per_note",
    "notes",
    "songs",
    "symbols",
}


def test_test_split_matches_training_metrics(tiny_training: StyleTrainingResult) -> None:
    """Evaluating the bundle on its test split repeats the figures stored at training."""
    report = evaluate_bundle(tiny_training.bundle)
    assert set(report) >= REQUIRED
    stored = tiny_training.bundle.metrics["test"]
    assert report["songs"] == stored["songs"] == 3
    assert report["bits_per_symbol"] == pytest.approx(stored["bits_per_symbol"], rel=1e-5)
    assert report["ngram_bits_per_symbol"] == pytest.approx(
        tiny_training.bundle.metrics["ngram"]["bits_per_symbol"]
    )
    assert 0 <= report["onset_accuracy"] <= 1 and 0 <= report["accuracy"] <= 1
    assert report["bits_per_note"] == pytest.approx(stored["bits_per_note"], rel=1e-5)
    assert report["bits_per_note"] == pytest.approx(
        report["bits_per_symbol"] * report["symbols"] / report["notes"]
    )
    assert report["ngram_pitch_bits_per_note"] == pytest.approx(
        tiny_training.bundle.metrics["ngram"]["pitch_bits_per_note"]
    )


def test_given_songs_with_unknown_pitches(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """Songs from --input are transposed like training data; unknown symbols are counted."""
    folder = tmp_path / "songs"
    folder.mkdir()
    (folder / "two.abc").write_text(
        "X:1\nM:4/4\nL:1/4\nK:G\nG A B c | d2 B2 |\n\nX:2\nM:4/4\nL:1/4\nK:C\nc'' d'' e'' f'' |\n"
    )  # 3 octaves up: not in the vocabulary
    report = evaluate_bundle(tiny_training.bundle, input_path=folder)
    assert report["songs"] == 1 and report["songs_skipped"] == 1
    assert set(report["unknown_symbols"]) == {"96", "98", "100", "101"}
    assert report["symbols"] == 33  # two 4/4 bars of 16 steps, then the song end
    single = evaluate_bundle(tiny_training.bundle, input_path=folder / "two.abc")
    assert single["bits_per_symbol"] == pytest.approx(report["bits_per_symbol"], rel=1e-5)


def test_input_without_songs(tiny_training: StyleTrainingResult, tmp_path: Path) -> None:
    """A file with no readable song is a clear error, not a crash."""
    (tmp_path / "empty.abc").write_text("")
    with pytest.raises(CorpusError, match="no songs"):
        evaluate_bundle(tiny_training.bundle, input_path=tmp_path / "empty.abc")


def test_musical_report_measures_generated_melodies_against_the_test_songs(
    tiny_training: StyleTrainingResult,
) -> None:
    """--musical: both settings measured against the corpus; bars=8 melodies are 8 bars,
    and so are the 9-gram's beside them, of the same meters and modes. 8 bars' repeated
    figures are measured against the test songs' first 8 bars, free length's against
    the whole songs."""
    report = evaluate_bundle(tiny_training.bundle, musical_melodies=12)
    musical = report["musical"]
    assert musical["corpus"]["songs"] == 3 and musical["melodies"] == 12
    assert musical["fixed_bars"]["bars"] == {"min": 8.0, "median": 8.0, "max": 8.0}
    assert musical["free_length"]["under_4_bars"] == 0.0
    assert musical["free_length"]["off_bar_endings"] == 0.0
    comparison = musical["fixed_bars"]["against_corpus"]
    assert set(comparison) >= {"metric_alignment", "cadence", "repetition", "meters", "modes"}
    assert all(isinstance(measure["met"], bool) for measure in comparison.values())
    baseline = musical["baseline"]
    assert baseline["model"] == "9-gram" and baseline["melodies"] == 12
    assert baseline["bars"] == musical["fixed_bars"]["bars"]
    assert baseline["meters"] == musical["fixed_bars"]["meters"]
    assert baseline["modes"] == musical["fixed_bars"]["modes"]
    assert baseline["against_corpus"]["cadence"]["corpus"] == comparison["cadence"]["corpus"]
    corpus = musical["corpus"]
    assert comparison["repetition"]["corpus"] == corpus["repeated_figures_in_first_8_bars"]
    free = musical["free_length"]["against_corpus"]
    assert free["repetition"]["corpus"] == corpus["repeated_figures"]
