"""k-fold cross-validation over songs: IDyOM's protocol, with our network and n-gram.

Pearce (2005, "The construction and evaluation of statistical models of
melodic structure", PhD thesis, City University London) scores each model by
10-fold cross-validation over the songs of a dataset: the songs are dealt into
k folds, a model is trained on k - 1 of them and scored on the one left out,
k times, and the figures are the mean (with spread) over the folds. Here each
fold trains a network (`lstmuse_core.model.train.fit`, early stopping on a
tenth of the training folds held back for validation) and fits the 9-gram on
all the training folds, and both are scored on the held-out fold in bits per
note, joint and pitch only (`lstmuse_core.model.evaluate`), beside bits per
16th-note symbol.

The vocabulary and the meters and modes the network is told are those of all
the songs, as IDyOM's alphabet is that of the whole dataset; no fold's songs
are ever trained on in the fold that scores them.

`idyom_chorales` selects Pearce's dataset 2 (the chorale melodies BWV 253-438)
from music21's Bach chorales.
"""

from __future__ import annotations

import hashlib
import math
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lstmuse_core.errors import CorpusError, InvalidParameter
from lstmuse_core.model.network import ModelConfig

if TYPE_CHECKING:
    from lstmuse_core.model.train import ProgressCallback
    from lstmuse_core.music.corpus import Song

MAX_FOLDS = 100
# Share of the training folds held back to stop each fold's network early.
VALIDATION_SHARE = 0.1
# Pearce's dataset 2: "185 chorale melodies harmonised by J. S. Bach (BWV 253-438)".
IDYOM_CHORALE_RANGE = (253, 438)
# IDyOM's figures on that dataset, bits per note (pitch), for the README and reports.
IDYOM_CHORALE_BITS = {"long- plus short-term pitch model": 2.347, "best viewpoint system": 1.953}
DATASETS = ("idyom-chorales",)
_CHORALE_FILE = re.compile(r"^bwv(\d+)\.(mxl|xml|krn)$")
# Of two files of one chorale (bwv277.mxl and bwv277.krn), the MusicXML one.
_FORMAT_PREFERENCE = {"mxl": 0, "xml": 1, "krn": 2}


def fold_song_ids(song_ids: Sequence[str], folds: int, seed: int = 0) -> list[list[str]]:
    """``song_ids`` dealt into ``folds`` test folds: each id in exactly one, sizes within one.

    The ids are ordered by a hash of the seed and the id (as
    `lstmuse_core.music.dataset.split_songs` orders its split) and dealt round
    the folds, so the folds are the same on every machine and for any input order.
    """
    if isinstance(folds, bool) or not isinstance(folds, int) or not 2 <= folds <= MAX_FOLDS:
        raise InvalidParameter("folds", folds, f"a whole number from 2 to {MAX_FOLDS}")
    if len(set(song_ids)) != len(song_ids):
        raise InvalidParameter("song_ids", len(song_ids), "song ids without repeats")
    if len(song_ids) < folds:
        raise InvalidParameter("folds", folds, f"at most the number of songs ({len(song_ids)})")
    order = sorted(song_ids, key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest())
    return [order[fold::folds] for fold in range(folds)]


def idyom_chorales(chorales: Sequence[Song]) -> tuple[list[Song], dict[str, Any]]:
    """Pearce's dataset 2 from the chorale style's songs: one song per BWV number 253-438.

    ``chorales``: the songs of the chorale style (music21's ``bach`` folder,
    soprano part). A chorale in two files keeps its MusicXML one; two
    chorales with the same soprano line (BWV 326 and 327 set one melody) keep
    the first, so no melody is trained on in the fold that scores it. Returns
    the songs and what was selected, in words and numbers.
    """
    low, high = IDYOM_CHORALE_RANGE
    by_number: dict[int, Song] = {}
    for song in sorted(chorales, key=lambda s: _format_rank(s.song_id)):
        match = _CHORALE_FILE.match(song.song_id)
        if match and low <= int(match.group(1)) <= high:
            by_number.setdefault(int(match.group(1)), song)
    kept: list[Song] = []
    lines: dict[tuple[str, ...], str] = {}
    duplicates: list[str] = []
    for number in sorted(by_number):
        song = by_number[number]
        line = tuple(song.symbols)
        if line in lines:
            duplicates.append(f"{song.song_id} = {lines[line]}")
            continue
        lines[line] = song.song_id
        kept.append(song)
    if not kept:
        raise CorpusError("none of the chorales BWV 253-438 could be read")
    missing = [n for n in range(low, high + 1) if n not in by_number]
    summary = {
        "name": "idyom-chorales",
        "description": (
            f"soprano lines of the chorales BWV {low}-{high} in music21's bach folder "
            "(Pearce 2005, dataset 2)"
        ),
        "numbers": high - low + 1,
        "songs": len(kept),
        "not_read": [f"bwv{n}" for n in missing],
        "same_melody_left_out": duplicates,
    }
    return kept, summary


def _format_rank(song_id: str) -> tuple[int, str]:
    suffix = song_id.rsplit(".", 1)[-1].lower()
    return _FORMAT_PREFERENCE.get(suffix, len(_FORMAT_PREFERENCE)), song_id


@dataclass(frozen=True)
class FoldResult:
    """One fold: its songs, the network's scores and the n-gram's on the held-out fold."""

    fold: int
    train_songs: int
    validation_songs: int
    test_songs: int
    symbols: int
    notes: int
    epochs: int
    best_epoch: int
    stopped_by: str
    seconds: float
    bits_per_symbol: float
    bits_per_note: float
    pitch_bits_per_note: float
    ngram_bits_per_symbol: float
    ngram_bits_per_note: float
    ngram_pitch_bits_per_note: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


FoldCallback = Callable[[FoldResult], None]
FoldStart = Callable[[int, int], None]  # fold number (1-based), folds


def cross_validate(
    songs: Sequence[Song],
    config: ModelConfig,
    *,
    folds: int = 10,
    seed: int = 0,
    ngram_order: int | None = None,
    on_fold_start: FoldStart | None = None,
    on_progress: ProgressCallback | None = None,
    on_fold: FoldCallback | None = None,
) -> dict[str, Any]:
    """Train and score a network (and the n-gram) on each of ``folds`` folds of ``songs``.

    Returns every fold's `FoldResult` and, for each figure, its mean, standard
    deviation (over folds), minimum and maximum, and the figure pooled over
    all the held-out notes (each fold weighted by its notes).
    """
    from lstmuse_core.model.conditioning import Conditioning
    from lstmuse_core.model.evaluate import score_model
    from lstmuse_core.model.ngram import DEFAULT_ORDER, NGramModel
    from lstmuse_core.model.train import fit
    from lstmuse_core.music.encoding import Vocabulary

    by_id = {song.song_id: song for song in songs}
    test_folds = fold_song_ids(list(by_id), folds, seed)
    vocabulary = Vocabulary.from_songs(song.symbols for song in songs)
    conditioning = Conditioning.from_songs(songs, metrical=config.metrical, form=config.form)
    results: list[FoldResult] = []
    for number, test_ids in enumerate(test_folds, start=1):
        if on_fold_start is not None:
            on_fold_start(number, folds)
        held_out = set(test_ids)
        rest = [song_id for song_id in by_id if song_id not in held_out]
        train_ids, validation_ids = _hold_back(rest, seed)
        train = [by_id[i] for i in train_ids]
        validation = [by_id[i] for i in validation_ids]
        test = [by_id[i] for i in test_ids]
        trained = fit(
            config, vocabulary, conditioning, train, validation, seed=seed, on_progress=on_progress
        )
        score = score_model(trained.model, vocabulary, conditioning, test, config.batch_size)
        ngram = (
            NGramModel(ngram_order or DEFAULT_ORDER)
            .fit([by_id[i].symbols for i in rest])
            .score([song.symbols for song in test])
        )
        result = FoldResult(
            fold=number,
            train_songs=len(train),
            validation_songs=len(validation),
            test_songs=len(test),
            symbols=score.symbols,
            notes=score.notes,
            epochs=trained.epochs,
            best_epoch=trained.best_epoch,
            stopped_by=trained.stopped_by,
            seconds=round(trained.seconds, 1),
            bits_per_symbol=score.bits_per_symbol,
            bits_per_note=score.bits_per_note,
            pitch_bits_per_note=score.pitch_bits_per_note,
            ngram_bits_per_symbol=ngram.bits_per_symbol,
            ngram_bits_per_note=ngram.bits_per_note,
            ngram_pitch_bits_per_note=ngram.pitch_bits_per_note,
        )
        results.append(result)
        if on_fold is not None:
            on_fold(result)
    return {
        "folds": folds,
        "songs": len(by_id),
        "seed": seed,
        "model": config.to_json(),
        "ngram_order": ngram_order or DEFAULT_ORDER,
        "summary": summarize(results),
        "per_fold": [r.to_json() for r in results],
    }


FIGURES = (
    "pitch_bits_per_note",
    "bits_per_note",
    "bits_per_symbol",
    "ngram_pitch_bits_per_note",
    "ngram_bits_per_note",
    "ngram_bits_per_symbol",
)


def summarize(results: Sequence[FoldResult]) -> dict[str, dict[str, float]]:
    """Each figure's mean, sd (sample, over folds), min, max, and pooled.

    ``pooled`` weights each fold by its notes (bits per note) or its symbols
    (bits per symbol): the figure over all the held-out music at once.
    """
    summary: dict[str, dict[str, float]] = {}
    for name in FIGURES:
        values = [float(getattr(r, name)) for r in results]
        weights = [r.notes if name.endswith("per_note") else r.symbols for r in results]
        summary[name] = {
            "mean": statistics.fmean(values),
            "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values),
            "max": max(values),
            "pooled": sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights),
        }
    return summary


def _hold_back(song_ids: Sequence[str], seed: int) -> tuple[list[str], list[str]]:
    """The training folds' songs split into (train, validation): a tenth held back."""
    order = sorted(song_ids, key=lambda i: hashlib.sha256(f"{seed}:v:{i}".encode()).hexdigest())
    held = max(1, math.floor(len(order) * VALIDATION_SHARE + 0.5))
    return order[held:], order[:held]


def dataset_songs(name: str, cache_dir: Path | None = None) -> tuple[list[Song], dict[str, Any]]:
    """The songs of a named evaluation dataset (`DATASETS`) and what was selected."""
    if name not in DATASETS:
        raise InvalidParameter("dataset", name, f"use one of {', '.join(DATASETS)}")
    from lstmuse_core.music.dataset import build_dataset

    chorales = build_dataset("chorale", cache_dir=cache_dir, progress=True)
    return idyom_chorales(chorales.songs)
