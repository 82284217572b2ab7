"""The harmonizer and its baselines against Bach, beat by beat, on chorales it never learned.

Each chorale's soprano, read by the project's corpus reader as any tune is
(`song_from_score`), is harmonized by each method; on every beat all of them
cover, the chord's root, and its root with its triad quality (a seventh chord
counts as its triad), are compared with Bach's chord on that beat as
music21's Roman numeral analysis of the chordified chorale reads it
(`lstmuse_core.music.harmony.learn.read_chorale`). Needs music21.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lstmuse_core.music.corpus import ReadOptions, Song, song_from_score
from lstmuse_core.music.harmony.harmonizer import ChordSpan, harmonize
from lstmuse_core.music.harmony.learn import read_chorale
from lstmuse_core.music.harmony.measures import best_triad_progression, tonic_progression
from lstmuse_core.music.keys import model_key
from lstmuse_core.music.melody import Melody

Harmonizer = Callable[[Melody], tuple[ChordSpan, ...]]
METHODS: dict[str, Harmonizer] = {
    "HMM (Viterbi), chorale tables": harmonize,
    "tonic throughout": tonic_progression,
    "best triad per half bar": best_triad_progression,
}
_TRIADS = {(4, 7): "major", (3, 7): "minor", (3, 6): "diminished"}


@dataclass
class Agreement:
    chorales: int = 0
    beats: int = 0
    roots: int = 0  # beats whose root agrees with Bach's
    chords: int = 0  # beats whose root and triad quality agree


def melody_of(song: Song) -> Melody:
    """A corpus song as a `Melody` in its mode's key of the model's scale."""
    return Melody(song.symbols, song.meter, model_key(song.mode))


def agreement_with_bach(names: list[str]) -> dict[str, Agreement]:
    """Per method of `METHODS`, its agreement with Bach on the chorales ``names``."""
    from music21 import corpus

    results = {label: Agreement() for label in METHODS}
    for name in names:
        harmony = read_chorale(name)
        song = song_from_score(corpus.parse(name), name, ReadOptions())
        if harmony is None or not isinstance(song, Song):
            continue
        melody = melody_of(song)
        progressions = {label: method(melody) for label, method in METHODS.items()}
        for result in results.values():
            result.chorales += 1
        for beat in harmony.beats:
            step = round(beat.offset * 4) + song.pickup
            spans = [
                next((c for c in progressions[label] if c.start <= step < c.end), None)
                for label in METHODS
            ]
            if any(span is None for span in spans):
                continue
            bach_triad = "major" if beat.quality == "dominant-seventh" else beat.quality
            for label, span in zip(METHODS, spans, strict=True):
                assert span is not None
                result = results[label]
                result.beats += 1
                root_agrees = (span.root - song.transposition) % 12 == beat.root
                result.roots += root_agrees
                result.chords += root_agrees and _triad(span) == bach_triad
    return results


def _triad(span: ChordSpan) -> str:
    third, fifth = ((pc - span.root) % 12 for pc in span.pitch_classes[1:3])
    return _TRIADS.get((third, fifth), "other")
