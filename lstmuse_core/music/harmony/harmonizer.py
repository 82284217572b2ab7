"""`harmonize`: a chord progression for a whole melody, decoded at once by Viterbi.

A hidden Markov model over the chord functions of the melody's mode
(`lstmuse_core.music.harmony.chords`), with the probabilities music21's
Bach chorales taught (`lstmuse_core.music.harmony.learn`, committed as
``chorale_tables.json``): a mode with a major third takes the major tables,
one with a minor third the minor tables, each chord by its scale degree.

Harmonic rhythm from the meter (`chord_slots`): one chord a bar, or one a half
bar where the bar is an even number of beats and a half is at least a dotted
quarter (4/4, 2/2, 6/8, 12/8; not 2/4, 3/4, 9/8). The chorales' moves are
beat to beat, so a slot of ``k`` quarter notes moves by the ``k``-th power of
the beat table. A slot's evidence is its notes' pitch classes, each weighted
by the quarter notes it sounds there plus half a quarter if it starts on a
strong position; a pitch class's probability under a chord is its role's
(root, third, ...) learned share spread over the pitch classes of that role.
The tune's last chord is its tonic (a constraint), and the one before it is
helped towards V, V7 or IV (a prior of `CADENCE_PRIOR`). Two slots of one bar
with the same chord are one span; every bar line starts a span, so a lead
sheet shows a chord in every bar.

NumPy only: about 1-2 ms for a 32-bar tune.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from lstmuse_core.music.encoding import STEPS_PER_QUARTER
from lstmuse_core.music.harmony.chords import (
    DEGREES,
    ROLES,
    Chord,
    chord_in_key,
    functions_of,
    has_minor_third,
    roles,
)
from lstmuse_core.music.keys import Key
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.meter import Meter

TABLES_PATH = Path(__file__).with_name("chorale_tables.json")
CADENCE_PRIOR = np.log(4.0)  # the chord before the final tonic: V, V7 or IV, 4x as likely
STRONG_ONSET_QUARTERS = 0.5  # the extra weight of a note that starts on a strong position


@dataclass(frozen=True)
class ChordSpan:
    """One chord of a progression: from song step ``start`` for ``steps`` 16th-note steps."""

    start: int
    steps: int
    symbol: str  # as a player reads it: "G", "Em", "D7", "F#m", "Bb"
    root: int  # pitch class, 0 = C
    pitch_classes: tuple[int, ...]

    @property
    def end(self) -> int:
        return self.start + self.steps


@dataclass(frozen=True)
class ModeModel:
    """The HMM of one mode: chord functions, log start/beat-move/pitch-class tables."""

    functions: tuple[str, ...]
    log_start: np.ndarray  # (functions,)
    beat_moves: np.ndarray  # (functions, functions), probabilities per beat
    log_emissions: np.ndarray  # (functions, 12): pitch class above the tonic


@cache
def _tables() -> dict[str, dict[str, Any]]:
    document = json.loads(TABLES_PATH.read_text(encoding="utf-8"))
    tables: dict[str, dict[str, Any]] = document["tables"]
    return tables


@cache
def mode_model(mode: str) -> ModeModel:
    """The learned tables of major or minor, read for ``mode`` by scale degree."""
    table = _tables()["minor" if has_minor_third(mode) else "major"]
    learned = list(table["states"])
    functions = tuple(f for f in functions_of(mode) if f in learned or f in DEGREES)
    rows = [learned.index(f) if f in learned else learned.index("5") for f in functions]
    start = np.asarray(table["start"])[rows]
    moves = np.asarray(table["transitions"])[np.ix_(rows, rows)]
    moves /= moves.sum(axis=1, keepdims=True)
    role_shares = np.asarray(table["roles"])[rows]
    emissions = np.zeros((len(functions), 12))
    for i, function in enumerate(functions):
        of = roles(function, mode)
        for pitch_class, role in enumerate(of):
            emissions[i, pitch_class] = role_shares[i, ROLES.index(role)] / of.count(role)
    emissions /= emissions.sum(axis=1, keepdims=True)
    return ModeModel(functions, np.log(start / start.sum()), moves, np.log(emissions))


def chord_slots(meter: Meter) -> int:
    """Steps of one harmonic-rhythm slot: a bar, or half a bar (see the module docstring)."""
    half = meter.bar_steps // 2
    if meter.beats % 2 == 0 and half >= 6 and meter.bar_steps % 2 == 0:
        return half
    return meter.bar_steps


def harmony_key(melody: Melody) -> Key:
    """The melody's key; in the model's key space, A minor if it ends on A, else C major."""
    if melody.key is not None:
        return melody.key
    pitches = melody.pitches
    return Key("A", "minor") if pitches and pitches[-1] % 12 == 9 else Key("C", "major")


def slot_evidence(melody: Melody, first: int, slot: int, count: int) -> np.ndarray:
    """(count, 12): the weight of each pitch class above the song's C in each slot."""
    evidence = np.zeros((count, 12))
    meter = melody.meter
    for note in melody.notes:
        if note.pitch is None:
            continue
        start = note.start
        while start < note.end:
            index = (start - first) // slot
            end = min(note.end, first + (index + 1) * slot)
            if 0 <= index < count:
                weight = (end - start) / STEPS_PER_QUARTER
                if start == note.start and meter.is_strong(start):
                    weight += STRONG_ONSET_QUARTERS
                evidence[index, note.pitch % 12] += weight
            start = end
    return evidence


def harmonize(melody: Melody) -> tuple[ChordSpan, ...]:
    """The melody's chords, from the first bar line at or after its first note (a pickup
    bar gets none) to the end of its last note; empty for a tune of rests."""
    window = harmony_window(melody)
    if window is None:
        return ()
    first, last = window
    key = harmony_key(melody)
    slot = chord_slots(melody.meter)
    count = -(-(last - first) // slot)
    evidence = slot_evidence(melody, first, slot, count)
    evidence = np.roll(evidence, -key.tonic_pitch_class, axis=1)  # pitch classes above tonic
    model = mode_model(key.mode)
    functions = decode(model, evidence, slot / STEPS_PER_QUARTER)
    chords = [chord_in_key(model.functions[f], key) for f in functions]
    return chord_spans(chords, first, slot, melody.meter.bar_steps, last)


def harmony_window(melody: Melody) -> tuple[int, int] | None:
    """The steps a progression covers (see `harmonize`), None for a tune of rests."""
    notes = [n for n in melody.notes if n.pitch is not None]
    if not notes:
        return None
    bar = melody.meter.bar_steps
    first = math.ceil(notes[0].start / bar) * bar
    last = math.ceil(notes[-1].end)  # a triplet's end is a step: ceil keeps it whole
    if first >= last:  # a tune shorter than its pickup bar: harmonize from its first note
        first = math.floor(notes[0].start / bar) * bar
    return first, last


def decode(model: ModeModel, evidence: np.ndarray, slot_quarters: float) -> list[int]:
    """Viterbi: the most probable function per slot, ending on the tonic, with a cadence
    prior on the slot before it."""
    moves = np.linalg.matrix_power(model.beat_moves, max(1, round(slot_quarters)))
    log_moves = np.log(moves)
    scores = evidence @ model.log_emissions.T  # (slots, functions)
    count = len(scores)
    cadence = np.array([f in ("4", "5", "V", "V7") for f in model.functions]) * CADENCE_PRIOR
    if count > 1:
        scores[-2] += cadence
    final = np.full(len(model.functions), -np.inf)
    final[model.functions.index("1")] = 0.0
    scores[-1] += final
    best = model.log_start + scores[0]
    back = np.zeros((count, len(model.functions)), dtype=np.int64)
    for index in range(1, count):
        candidates = best[:, None] + log_moves
        back[index] = candidates.argmax(axis=0)
        best = candidates.max(axis=0) + scores[index]
    path = [int(best.argmax())]
    for index in range(count - 1, 0, -1):
        path.append(int(back[index, path[-1]]))
    return path[::-1]


def chord_spans(
    chords: list[Chord], first: int, slot: int, bar: int, last: int
) -> tuple[ChordSpan, ...]:
    """Chords of ``slot`` steps from step ``first`` to ``last`` as spans: one span per run
    of a chord within a bar; every bar line starts a span."""
    spans: list[ChordSpan] = []
    for index, chord in enumerate(chords):
        start = first + index * slot
        steps = min(slot, last - start)
        previous = spans[-1] if spans else None
        if previous and previous.symbol == chord.symbol and start % bar != 0:
            spans[-1] = ChordSpan(previous.start, previous.steps + steps, *_named(chord))
        else:
            spans.append(ChordSpan(start, steps, *_named(chord)))
    return tuple(spans)


def _named(chord: Chord) -> tuple[str, int, tuple[int, ...]]:
    return chord.symbol, chord.root, chord.pitch_classes
