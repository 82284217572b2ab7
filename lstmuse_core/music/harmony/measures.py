"""How a progression fits its melody, and the two baselines every harmonizer is held to.

Measures (`ProgressionMeasures`): the share of strong-beat melody notes that
are chord tones, whether the tune ends on a V-I or IV-I cadence, and chord
changes per bar. Baselines, on the same window of the tune as `harmonize`:
`tonic_progression` (the tonic chord throughout) and `best_triad_progression`
(per half bar, the mode's diatonic triad that holds the most of the half
bar's melody, weighted as `harmonize` weighs it, with no context).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmuse_core.music.harmony.chords import DEGREES, chord_in_key, function_intervals
from lstmuse_core.music.harmony.harmonizer import (
    ChordSpan,
    chord_spans,
    harmony_key,
    harmony_window,
    slot_evidence,
)
from lstmuse_core.music.melody import Melody


@dataclass(frozen=True)
class ProgressionMeasures:
    strong_notes: int  # melody notes starting on a strong position under a chord
    strong_chord_tones: int  # of them, chord tones
    authentic_or_plagal_ending: bool  # the last chord change is V-I, V7-I or IV-I
    changes: int  # chord changes (a new symbol)
    bars: float  # bars the progression covers


def measure(melody: Melody, chords: tuple[ChordSpan, ...]) -> ProgressionMeasures:
    """The measures of ``chords`` under ``melody``."""
    key = harmony_key(melody)
    strong = tones = 0
    for note in melody.notes:
        if note.pitch is None or not melody.meter.is_strong(note.start):
            continue
        chord = next((c for c in chords if c.start <= note.start < c.end), None)
        if chord is not None:
            strong += 1
            tones += note.pitch % 12 in chord.pitch_classes
    symbols = [c.symbol for c in chords]
    runs = [s for i, s in enumerate(symbols) if i == 0 or s != symbols[i - 1]]
    roots = [c.root for i, c in enumerate(chords) if i == 0 or symbols[i] != symbols[i - 1]]
    tonic = key.tonic_pitch_class
    cadence = len(roots) >= 2 and roots[-1] == tonic and (roots[-2] - tonic) % 12 in (5, 7)
    covered = sum(c.steps for c in chords) / melody.meter.bar_steps
    return ProgressionMeasures(strong, tones, cadence, len(runs) - 1 if runs else 0, covered)


def tonic_progression(melody: Melody) -> tuple[ChordSpan, ...]:
    """The tonic chord in every bar of `harmonize`'s window."""
    window = harmony_window(melody)
    if window is None:
        return ()
    first, last = window
    bar = melody.meter.bar_steps
    tonic = chord_in_key("1", harmony_key(melody))
    return chord_spans([tonic] * -(-(last - first) // bar), first, bar, bar, last)


def best_triad_progression(melody: Melody) -> tuple[ChordSpan, ...]:
    """Per half bar, the diatonic triad holding the most melody weight (ties: lower degree)."""
    window = harmony_window(melody)
    if window is None:
        return ()
    first, last = window
    bar = melody.meter.bar_steps
    slot = bar // 2 if bar % 2 == 0 else bar
    count = -(-(last - first) // slot)
    key = harmony_key(melody)
    evidence = np.roll(slot_evidence(melody, first, slot, count), -key.tonic_pitch_class, axis=1)
    holds = np.zeros((len(DEGREES), 12))
    for row, degree in enumerate(DEGREES):
        holds[row, list(function_intervals(degree, key.mode))] = 1.0
    best = (evidence @ holds.T).argmax(axis=1)
    chords = [chord_in_key(DEGREES[row], key) for row in best]
    return chord_spans(chords, first, slot, bar, last)
