"""Bits per note, the fold splitter, IDyOM's chorale selection and `evaluate --folds`."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.model.conditioning import Conditioning
from lstmuse_core.model.cross_validation import fold_song_ids, idyom_chorales
from lstmuse_core.model.evaluate import score_model
from lstmuse_core.model.ngram import NGramModel
from lstmuse_core.music.corpus import Song
from lstmuse_core.music.encoding import Vocabulary
from lstmuse_core.music.meter import Meter


def _song(song_id: str, symbols: list[str]) -> Song:
    return Song(song_id, song_id, symbols, Meter.parse("4/4"), 0, 0)


def test_unigram_bits_per_note_by_hand() -> None:
    """A unigram's bits per note, joint and pitch only, equal the sums worked out by hand."""
    # Training targets 60 _ 62 _ / : raw counts 1, 2, 1, 1 (the highest order keeps raw
    # counts); too few counts for Chen & Goodman's discounts, so KenLM's fallback D1 0.5,
    # D2 1.0: kept 0.5, 1.0, 0.5, 0.5 of 5, and 2.5 of 5 spread over the 4 symbols and
    # the unknown slot (0.1 each): p(60) = p(62) = p(/) = 0.2, p(_) = 0.3, p(unknown) = 0.1.
    model = NGramModel(1).fit([["60", "_", "62", "_"]])
    score = model.score([["62", "_", "_"], ["99"]])  # 99: a pitch it never saw
    joint = -(2 * math.log2(0.2) + 2 * math.log2(0.3)) - (math.log2(0.1) + math.log2(0.2))
    assert score.notes == 2 and score.targets == 6
    assert score.bits_per_symbol == pytest.approx(joint / 6, abs=1e-12)
    assert score.bits_per_note == pytest.approx(joint / 2, abs=1e-12)
    # Pitch only: over 60, 62 and the unknown slot, p(62) = 0.2 / 0.5 and p(99) = 0.1 / 0.5.
    pitch = -(math.log2(0.2 / 0.5) + math.log2(0.1 / 0.5)) / 2
    assert score.pitch_bits_per_note == pytest.approx(pitch, abs=1e-12)


def test_ngram_pitch_bits_agree_with_its_next_symbol_distribution() -> None:
    """The vectorised pitch-only log2 p equals the full distribution renormalised by hand."""
    rng = random.Random(5)
    alphabet = ["60", "62", "64", "67", "_", "_", "_", "r"]
    train = [[rng.choice(alphabet[:4]), *rng.choices(alphabet, k=20)] for _ in range(30)]
    test = [["64", "_", "62", "r", "_", "67", "_", "61"], ["60", "_", "_", "64"]]
    model = NGramModel(4).fit(train)
    pitches = [i for i, s in enumerate(model.symbols) if s.isdigit()] + [len(model.symbols)]
    expected = []
    for song in test:
        for t, symbol in enumerate(song):
            if symbol.isdigit():
                p = model.next_symbol_probabilities(song[:t])
                known = model.symbols.index(symbol) if symbol in model.symbols else -1
                expected.append(math.log2(p[known] / p[pitches].sum()))
    ours = model.pitch_log2_probabilities(test)
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12)


class _FixedDistribution:
    """A stand-in network that predicts the same distribution at every step."""

    def __init__(self, probabilities: list[float]) -> None:
        self.logits = np.log(np.asarray(probabilities))

    def __call__(self, inputs: dict[str, np.ndarray], training: bool = False) -> np.ndarray:
        rows, steps = inputs["symbol"].shape
        return np.broadcast_to(self.logits, (rows, steps, len(self.logits))).copy()


def test_score_model_bits_per_note_by_hand() -> None:
    """score_model's per-note figures for a known distribution, summed by hand."""
    vocabulary = Vocabulary(["/", "_", "r", "60", "62"])
    model = _FixedDistribution([0.1, 0.4, 0.1, 0.2, 0.2])
    songs = [_song("a", ["60", "_", "62", "_"]), _song("b", ["r", "62", "_", "_"])]
    score = score_model(model, vocabulary, Conditioning.from_songs(songs), songs)
    # a: 60 _ 62 _ / ; b: r 62 _ _ / -> three pitches (0.2), four holds (0.4), r and two /.
    bits = -(3 * math.log2(0.2) + 4 * math.log2(0.4) + 3 * math.log2(0.1))
    assert (score.symbols, score.notes) == (10, 3)
    assert score.bits_per_symbol == pytest.approx(bits / 10, rel=1e-9)
    assert score.bits_per_note == pytest.approx(bits / 3, rel=1e-9)
    assert score.pitch_bits_per_note == pytest.approx(1.0, rel=1e-9)  # 0.2 / (0.2 + 0.2)


def test_folds_cover_every_song_once_in_near_equal_sizes() -> None:
    """Each song is in exactly one test fold; sizes differ by at most one; deterministic."""
    ids = [f"song{n}" for n in range(23)]
    folds = fold_song_ids(ids, 5, seed=1)
    assert sorted(i for fold in folds for i in fold) == sorted(ids)
    assert {len(fold) for fold in folds} == {4, 5}
    assert fold_song_ids(list(reversed(ids)), 5, seed=1) == folds
    assert fold_song_ids(ids, 5, seed=2) != folds
    assert [len(f) for f in fold_song_ids(ids, 23)] == [1] * 23


@pytest.mark.parametrize("folds", [1, 0, 24, True, 2.5])
def test_bad_fold_counts_are_refused(folds: object) -> None:
    """Fewer than 2 folds, more folds than songs, or not a whole number: refused by name."""
    with pytest.raises(InvalidParameter, match="folds"):
        fold_song_ids([f"song{n}" for n in range(23)], folds)  # type: ignore[arg-type]


def test_idyom_chorales_selects_one_song_per_bwv_number() -> None:
    """BWV 253-438 only, the MusicXML file of a chorale in two, one of two same melodies."""
    songs = [
        _song("bwv253.krn", ["60", "_"]),
        _song("bwv253.mxl", ["60", "_", "_"]),
        _song("bwv252.mxl", ["62"]),
        _song("bwv439.mxl", ["64"]),
        _song("bwv26.6.mxl", ["65"]),
        _song("bwv326.mxl", ["67", "_"]),
        _song("bwv327.mxl", ["67", "_"]),
        _song("bwv438.mxl", ["69"]),
    ]
    kept, summary = idyom_chorales(songs)
    assert [s.song_id for s in kept] == ["bwv253.mxl", "bwv326.mxl", "bwv438.mxl"]
    assert summary["same_melody_left_out"] == ["bwv327.mxl = bwv326.mxl"]
    assert summary["numbers"] == 186 and len(summary["not_read"]) == 186 - 4


def _lstmuse(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lstmuse_core.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_evaluate_folds_end_to_end(erk5_folder: Path) -> None:
    """evaluate --folds 2 trains a tiny model per fold and reports both folds and the spread."""
    result = _lstmuse(
        "evaluate", "--folds", "2", "--input", str(erk5_folder), "--preset", "tiny",
        "--epochs", "2", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    folds = report["per_fold"]
    songs = report["songs"]  # erk5's 27 tunes less those the reader drops
    assert report["folds"] == 2 and songs >= 20
    assert sorted(f["test_songs"] for f in folds) == [songs // 2, songs - songs // 2]
    assert all(f["train_songs"] + f["validation_songs"] + f["test_songs"] == songs for f in folds)
    assert all(f["epochs"] == 2 and f["notes"] > 100 for f in folds)
    for figure in ("pitch_bits_per_note", "bits_per_note", "ngram_pitch_bits_per_note"):
        values = [f[figure] for f in folds]
        spread = report["summary"][figure]
        assert spread["min"] == min(values) and spread["max"] == max(values)
        assert spread["mean"] == pytest.approx(sum(values) / 2)
        assert spread["sd"] == pytest.approx(abs(values[0] - values[1]) / math.sqrt(2))
    # A note costs more than its pitch alone, and more than one 16th-note symbol.
    assert all(f["bits_per_note"] > f["pitch_bits_per_note"] > 0 for f in folds)
    assert all(f["bits_per_note"] > f["bits_per_symbol"] for f in folds)
    assert "fold 1/2" in result.stderr


def test_evaluate_folds_refuses_two_corpora(erk5_folder: Path) -> None:
    """--folds with both a dataset and a folder, or --dataset without --folds: one line."""
    both = _lstmuse(
        "evaluate", "--folds", "3", "--dataset", "idyom-chorales", "--input", str(erk5_folder)
    )
    assert both.returncode == 2 and "folds" in both.stderr
    assert len(both.stderr.strip().splitlines()) == 1
    alone = _lstmuse("evaluate", "--dataset", "idyom-chorales", "--style", "folk")
    assert alone.returncode == 2 and "only with --folds" in alone.stderr
