"""Held-out evaluation of a model: next-symbol loss, bits per note, accuracy, onset accuracy.

Scored exactly as trained: each song is read from a fresh state with input
``["/"] + song`` and every symbol of ``song + ["/"]`` is predicted. Songs with
symbols the model does not know (pitches outside its range) cannot be scored;
they are skipped and counted, never a crash.

Bits per 16th-note symbol depend on the encoding (a half note is eight
symbols, seven of them easy holds), so two per-note figures sit beside it,
comparable across encodings and with IDyOM's (Pearce 2005):

* ``bits_per_note`` (joint): the bits of every predicted symbol of the songs
  (onsets, holds, rests and the closing ``"/"``) divided by their notes
  (pitch onsets): what a note costs with its duration and the rests around it;
* ``pitch_bits_per_note`` (pitch only): the mean over notes of
  -log2 p(the onset's pitch | a note starts at that step), the model's
  distribution at the onset renormalised over the pitch symbols.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lstmuse_core.errors import CorpusError
from lstmuse_core.model.batches import TrainingSong, song_batches
from lstmuse_core.model.bundle import Bundle, resolve_bundle
from lstmuse_core.model.conditioning import Conditioning
from lstmuse_core.music.encoding import SONG_END, Vocabulary, is_pitch
from lstmuse_core.music.meter import bar_meters_of

if TYPE_CHECKING:
    from lstmuse_core.music.corpus import ReadOptions, Song


@dataclass(frozen=True)
class HeldOutScore:
    bits_per_symbol: float
    accuracy: float
    onset_accuracy: float  # accuracy where the target is a note onset (a pitch)
    songs: int
    symbols: int
    songs_skipped: int
    unknown_symbols: dict[str, int]
    notes: int  # pitch onsets among the targets
    bits_per_note: float  # every symbol's bits over the notes (module docstring)
    pitch_bits_per_note: float  # -log2 p(pitch | an onset), averaged over the notes

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def known_songs(
    vocabulary: Vocabulary, conditioning: Conditioning, songs: Sequence[Song]
) -> tuple[list[Song], dict[str, int]]:
    """Songs the model can read, and counts of what it cannot (symbols, meters, modes)."""
    kept: list[Song] = []
    unknown: dict[str, int] = {}
    for song in songs:
        missing = [s for s in song.symbols if s not in vocabulary]
        if song.meter not in conditioning.meters:
            missing.append(f"meter {song.meter}")
        missing += [
            f"meter {m}"
            for m in bar_meters_of(song.meter, song.bars)
            if not conditioning.knows_bar_meter(m)
        ]
        if song.mode not in conditioning.modes:
            missing.append(f"mode {song.mode}")
        for symbol in missing:
            unknown[symbol] = unknown.get(symbol, 0) + 1
        if not missing:
            kept.append(song)
    return kept, dict(sorted(unknown.items()))


def training_songs(vocabulary: Vocabulary, songs: Sequence[Song]) -> list[TrainingSong]:
    """Songs as the network reads them (symbol indices, meter, mode, sections)."""
    return [
        TrainingSong(
            vocabulary.encode(song.symbols), song.meter, song.mode, song.sections, song.bars
        )
        for song in songs
    ]


def score_model(
    model: Any,
    vocabulary: Vocabulary,
    conditioning: Conditioning,
    songs: Sequence[Song],
    batch_size: int = 32,
) -> HeldOutScore:
    """Score a Keras model (logits output) on held-out songs, their length not told."""
    import keras

    usable, unknown = known_songs(vocabulary, conditioning, songs)
    delimiter = vocabulary.index[SONG_END]
    is_onset = np.array([is_pitch(s) for s in vocabulary.symbols])
    total_bits = correct = onsets = onsets_correct = symbols = pitch_bits = 0.0
    batches = song_batches(
        training_songs(vocabulary, usable), conditioning, batch_size, 64, delimiter
    )
    for batch in batches:
        logits = keras.ops.convert_to_numpy(model(batch.inputs, training=False)).astype(np.float64)
        log_probs = logits - _logsumexp(logits)
        target_log_probs = np.take_along_axis(log_probs, batch.targets[..., None], -1)[..., 0]
        mask = batch.weights > 0
        hits = (logits.argmax(-1) == batch.targets) & mask
        onset_mask = is_onset[batch.targets] & mask
        total_bits -= float(target_log_probs[mask].sum()) / math.log(2)
        if onset_mask.any():
            # log p(pitch | onset) = log p(pitch) - log of the sum of p over pitch symbols.
            pitch_log_total = _logsumexp(log_probs[onset_mask][:, is_onset])[:, 0]
            pitch_log_probs = target_log_probs[onset_mask] - pitch_log_total
            pitch_bits -= float(pitch_log_probs.sum()) / math.log(2)
        correct += float(hits.sum())
        onsets += float(onset_mask.sum())
        onsets_correct += float((hits & onset_mask).sum())
        symbols += float(mask.sum())
    return HeldOutScore(
        bits_per_symbol=total_bits / symbols if symbols else math.nan,
        accuracy=correct / symbols if symbols else math.nan,
        onset_accuracy=onsets_correct / onsets if onsets else math.nan,
        songs=len(usable),
        symbols=int(symbols),
        songs_skipped=len(songs) - len(usable),
        unknown_symbols=unknown,
        notes=int(onsets),
        bits_per_note=total_bits / onsets if onsets else math.nan,
        pitch_bits_per_note=pitch_bits / onsets if onsets else math.nan,
    )


def _logsumexp(logits: np.ndarray) -> np.ndarray:
    peak = logits.max(-1, keepdims=True)
    return np.asarray(peak + np.log(np.exp(logits - peak).sum(-1, keepdims=True)))


@dataclass(frozen=True)
class SameSongsComparison:
    """Two models scored on exactly the same held-out songs (promotion's evidence)."""

    candidate: HeldOutScore
    incumbent: HeldOutScore
    offered: int  # the candidate's held-out songs
    seen_by_incumbent: int  # left out: the incumbent trained or validated on them
    unknown_to_one: int  # left out: a symbol one of the two vocabularies lacks

    @property
    def songs(self) -> int:
        return self.candidate.songs

    def describe_skipped(self) -> str:
        return (
            f"{self.seen_by_incumbent} seen in the active model's training, "
            f"{self.unknown_to_one} with symbols one model does not know"
        )

    def describe(self, candidate_version: str, incumbent_version: str) -> str:
        left_out = self.offered - self.songs
        skipped = f"; {left_out} left out: {self.describe_skipped()}" if left_out else ""
        return (
            f"on the same {self.songs} held-out songs ({self.candidate.symbols} symbols) of "
            f"{candidate_version}'s test split, {candidate_version} scores "
            f"{self.candidate.bits_per_symbol:.3f} bits/symbol, {incumbent_version} "
            f"{self.incumbent.bits_per_symbol:.3f}{skipped}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "compared_songs": self.songs,
            "compared_symbols": self.candidate.symbols,
            "offered_songs": self.offered,
            "seen_by_incumbent": self.seen_by_incumbent,
            "unknown_to_one": self.unknown_to_one,
            "candidate_bits_per_symbol": self.candidate.bits_per_symbol,
            "incumbent_bits_per_symbol": self.incumbent.bits_per_symbol,
        }


def compare_on_same_songs(
    candidate: Bundle, incumbent: Bundle, held_out: Mapping[str, Song]
) -> SameSongsComparison:
    """Score both bundles on the same songs: ``held_out`` (id -> symbols), the candidate's
    test split, minus songs the incumbent trained or validated on (by id) and songs
    either vocabulary cannot encode. Both scores then cover identical songs and symbols.
    """
    recorded = dict(incumbent.config_json.get("dataset", {}).get("split_ids") or {})
    seen = set(recorded.get("train", [])) | set(recorded.get("validation", []))
    unseen = [(song_id, held_out[song_id]) for song_id in sorted(held_out) if song_id not in seen]
    both = [
        song
        for _, song in unseen
        if all(
            known_songs(bundle.vocabulary, bundle.conditioning, [song])[0]
            for bundle in (candidate, incumbent)
        )
    ]
    candidate_score = score_model(
        candidate.load_model(), candidate.vocabulary, candidate.conditioning, both
    )
    incumbent_score = score_model(
        incumbent.load_model(), incumbent.vocabulary, incumbent.conditioning, both
    )
    return SameSongsComparison(
        candidate_score,
        incumbent_score,
        offered=len(held_out),
        seen_by_incumbent=len(held_out) - len(unseen),
        unknown_to_one=len(unseen) - len(both),
    )


def candidate_test_songs(bundle: Bundle, cache_dir: Path | None = None) -> dict[str, Song] | None:
    """A bundle's test songs by id from its recorded dataset, if readable here."""
    split = _trained_split(bundle, cache_dir)
    if split is None:
        return None
    return {song.song_id: song for song in split["test"]}


def evaluate_bundle(
    style: str | Bundle,
    *,
    version: str | None = None,
    input_path: Path | None = None,
    models_dir: Path | None = None,
    options: ReadOptions | None = None,
    cache_dir: Path | None = None,
    musical_melodies: int = 0,
) -> dict[str, Any]:
    """Evaluate a bundle on its dataset's test split, or on any file/folder of songs.

    ``style`` is a style name (checked like every name) or an open `Bundle`
    (the CLI opens ``--style PATH`` with `bundle_from_path`). Songs given
    with ``input_path`` are read and moved to C major / A minor by the same
    pipeline as the training data. The n-gram baseline is fitted on the
    bundle's own training split and scored on the same songs. ``cache_dir``:
    the preprocessing cache (default: the platform's cache folder).
    ``musical_melodies``: also sample that many melodies per setting and
    measure them against the same songs (`musical_evaluation`), under ``musical``,
    with as many of the n-gram's beside them.
    """
    from lstmuse_core.model.held_out import reading_report
    from lstmuse_core.model.ngram import NGramModel

    bundle = style if isinstance(style, Bundle) else resolve_bundle(style, models_dir, version)
    split = _trained_split(bundle, cache_dir)
    reading = None
    if input_path is not None:
        songs, dropped = _read_songs(input_path, options, cache_dir)
        evaluated_on = str(input_path)
    else:
        if split is None:
            raise CorpusError(
                f"the training data of {bundle.style} is not available here; give --input"
            )
        songs, dropped = split["test"], {}
        evaluated_on = "test split"
        reading = reading_report(bundle, cache_dir)
    if not songs:
        raise CorpusError(f"no songs to evaluate in {evaluated_on} (dropped: {dropped})")
    score = score_model(bundle.load_model(), bundle.vocabulary, bundle.conditioning, songs)
    report: dict[str, Any] = {
        "style": bundle.style,
        "version": bundle.version,
        "evaluated_on": evaluated_on,
        **score.to_json(),
        "songs_dropped_by_reader": dropped,
        "test_songs_read_today": reading.to_json() if reading is not None else None,
        "ngram_bits_per_symbol": None,
        "ngram_bits_per_note": None,
        "ngram_pitch_bits_per_note": None,
    }
    usable, _ = known_songs(bundle.vocabulary, bundle.conditioning, songs)
    ngram = None
    if split is not None and usable:
        ngram = NGramModel().fit([song.symbols for song in split["train"]])
        ngram_score = ngram.score([s.symbols for s in usable])
        report["ngram_bits_per_symbol"] = ngram_score.bits_per_symbol
        report["ngram_bits_per_note"] = ngram_score.bits_per_note
        report["ngram_pitch_bits_per_note"] = ngram_score.pitch_bits_per_note
    if musical_melodies:
        from lstmuse_core.model.generate import load_generator_from_path
        from lstmuse_core.model.musical_evaluation import evaluate_musically

        generator = load_generator_from_path(bundle.path)
        report["musical"] = evaluate_musically(
            generator, songs, count=musical_melodies, baseline=ngram
        )
    return report


def _trained_split(bundle: Bundle, cache_dir: Path | None = None) -> dict[str, list[Song]] | None:
    """The songs of each split the bundle was trained on, by its recorded ids, from the
    corpus it recorded (`held_out.trained_split`); None if that corpus is not here."""
    from lstmuse_core.model.held_out import trained_split

    return trained_split(bundle, cache_dir)


def _read_songs(
    path: Path, options: ReadOptions | None, cache_dir: Path | None = None
) -> tuple[list[Song], dict[str, int]]:
    from lstmuse_core.music.corpus import ReadOptions, Song, read_file
    from lstmuse_core.music.dataset import build_dataset

    options = options or ReadOptions()
    if path.is_dir():
        dataset = build_dataset(input_dir=path, options=options, cache_dir=cache_dir)
        return list(dataset.songs), dataset.summary()["dropped"]
    if not path.is_file():
        raise CorpusError(f"--input {str(path)!r} is neither a file nor a folder")
    results = read_file(path, path.name, options)
    dropped: dict[str, int] = {}
    for result in results:
        if not isinstance(result, Song):
            dropped[result.reason] = dropped.get(result.reason, 0) + 1
    return [r for r in results if isinstance(r, Song)], dropped
