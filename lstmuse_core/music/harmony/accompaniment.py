"""An accompaniment from a progression: bass and chords in the pattern of the meter.

`accompany` turns `ChordSpan`s into `BackingNote`s as a folk guitarist,
pianist or accordionist backs a dance tune: a bass note (the chord's root,
alternating with its fifth while the chord lasts) on the strong beats and
the chord on the others, in the pattern its meter is danced to
(`PATTERNS`; any other meter gets one built from its beats, `bar_pattern`).

* Bass: in `BASS_RANGE` (E2-D#3), below any melody and where a guitar's
  low strings or a piano's left hand play it.
* Chords: close position with the lowest note in `CHORD_RANGE` (C3-B3),
  each voiced as the inversion nearest the one before (common tones held,
  the others moving by step), so the chords move as a hand would.
* The chords between the bass notes are short (`CHORD_LENGTH`).
* The first hit of a new chord is its bass, whatever the pattern has there,
  so every chord is grounded; the last chord rings from its start to the
  end, as players end a tune; a pickup bar (no chord) is not accompanied.

Steps are 16th notes of the song, as everywhere in `lstmuse_core.music`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from lstmuse_core.music.harmony.harmonizer import ChordSpan
from lstmuse_core.music.meter import Meter

Part = Literal["bass", "chord"]

BASS_RANGE = range(40, 52)  # E2-D#3: the lowest octave of a guitar, a piano's left hand
CHORD_RANGE = range(48, 60)  # C3-B3: the lowest note of a close-position chord
# A chord between bass notes sounds for this share of the time to the next hit
# (at least a 16th): short, as a guitarist damps the "chick" and an accordionist
# taps the chord buttons, leaving the beat to the bass; and fewer ringing notes
# cost less to synthesize.
CHORD_LENGTH = 0.5


@dataclass(frozen=True)
class BarPattern:
    """Where a bar's hits fall: one letter per ``unit`` steps from the bar line,
    ``B`` the bass, ``C`` the chord, ``.`` nothing (the one before rings on)."""

    name: str
    unit: int
    hits: str


# One row per meter kind, as the dances that use the meter are backed: the
# bass on the beats the dancers step on, the chord answering it between. A
# polka or march (2/4) is oom-pah; a waltz (3/4) is oom-pah-pah; a jig (6/8)
# and the other compound dances (slip jig 9/8, slide 12/8) put the bass on
# each dotted beat and the chord on the two eighths after it; a reel or
# hornpipe (4/4, and 2/2 as reels are often written) is bass on 1 and 3,
# chord on 2 and 4, in quarter notes either way.
PATTERNS: dict[str, BarPattern] = {
    "2/4": BarPattern("march or polka oom-pah", 4, "BC"),
    "3/4": BarPattern("waltz", 4, "BCC"),
    "6/8": BarPattern("jig", 2, "BCCBCC"),
    "9/8": BarPattern("slip jig", 2, "BCCBCCBCC"),
    "12/8": BarPattern("slide", 2, "BCCBCCBCCBCC"),
    "4/4": BarPattern("reel", 4, "BCBC"),
    "2/2": BarPattern("reel in cut time", 4, "BCBC"),
}


def bar_pattern(meter: Meter) -> BarPattern:
    """The meter's row of `PATTERNS`; for any other meter one built from its beats:
    a compound meter as a jig (bass, chord, chord in each dotted beat), a simple
    one as a waltz or oom-pah (bass on the first beat, the chord on the others)."""
    if meter.text in PATTERNS:
        return PATTERNS[meter.text]
    if meter.compound:
        return BarPattern(
            "bass and two chords a dotted beat", meter.beat_steps // 3, "BCC" * meter.beats
        )
    return BarPattern("bass then chords a beat", meter.beat_steps, "B" + "C" * (meter.beats - 1))


@dataclass(frozen=True)
class BackingNote:
    """One note of the accompaniment: ``pitch`` (MIDI) from song step ``start`` for ``steps``."""

    start: int
    steps: int
    pitch: int
    part: Part

    @property
    def end(self) -> int:
        return self.start + self.steps


def accompany(chords: Sequence[ChordSpan], meter: Meter) -> tuple[BackingNote, ...]:
    """Bass and chord notes for ``chords`` (a progression in song order) in ``meter``'s
    pattern; see the module docstring. Empty without chords."""
    pattern = bar_pattern(meter)
    bar = meter.bar_steps
    notes: list[BackingNote] = []
    voicing: tuple[int, ...] = ()
    bass_count = 0  # bass notes of the chord so far: root, fifth, root, ...
    for index, chord in enumerate(chords):
        continues = index > 0 and chords[index - 1].symbol == chord.symbol
        bass_count = bass_count if continues else 0
        voicing = voice(chord.pitch_classes, voicing)
        if index == len(chords) - 1:  # the last chord rings to the end, on its root
            notes.append(BackingNote(chord.start, chord.steps, bass_pitch(chord, 0), "bass"))
            notes += [BackingNote(chord.start, chord.steps, p, "chord") for p in voicing]
            break
        for at, steps, letter in _hits(pattern, bar, chord.start, chord.end):
            if at == chord.start and not continues:
                letter = "B"  # a new chord starts on its bass
            if letter == "B":
                notes.append(BackingNote(at, steps, bass_pitch(chord, bass_count), "bass"))
                bass_count += 1
            else:
                short = max(1, round(steps * CHORD_LENGTH))
                notes += [BackingNote(at, short, pitch, "chord") for pitch in voicing]
    return tuple(notes)


def _hits(pattern: BarPattern, bar: int, start: int, end: int) -> list[tuple[int, int, str]]:
    """(step, steps, letter) of the pattern's hits from ``start`` to ``end``, each
    lasting until the next hit (or ``end``)."""
    onsets = [
        (bar_start + i * pattern.unit, letter)
        for bar_start in range(start - start % bar, end, bar)
        for i, letter in enumerate(pattern.hits)
        if letter != "." and start <= bar_start + i * pattern.unit < end
    ]
    if not onsets or onsets[0][0] != start:  # a chord between hits sounds where it starts
        onsets.insert(0, (start, "B"))
    ends = [at for at, _ in onsets[1:]] + [end]
    return [(at, stop - at, letter) for (at, letter), stop in zip(onsets, ends, strict=True)]


def bass_pitch(chord: ChordSpan, count: int) -> int:
    """The ``count``-th bass note of ``chord`` in `BASS_RANGE`: the root on even counts,
    the fifth on odd ones (a diminished chord keeps its root: its fifth is no bass)."""
    root, *others = chord.pitch_classes
    fifth = others[1] if len(others) >= 2 and (others[1] - root) % 12 == 7 else root
    pitch_class = fifth if count % 2 else root
    return next(p for p in BASS_RANGE if p % 12 == pitch_class)


def voice(pitch_classes: Sequence[int], previous: Sequence[int] = ()) -> tuple[int, ...]:
    """The chord in close position, lowest note in `CHORD_RANGE`: the inversion whose
    notes move least from ``previous`` (the voicing before), else the one centred nearest C4."""
    candidates = []
    for lowest in CHORD_RANGE:
        if lowest % 12 not in pitch_classes:
            continue
        pitches = [lowest]
        for pitch_class in sorted(pitch_classes, key=lambda pc: (pc - lowest) % 12)[1:]:
            pitches.append(lowest + (pitch_class - lowest) % 12)
        candidates.append(tuple(pitches))
    if previous:  # each note's way to the nearest note of the chord before, summed
        return min(candidates, key=lambda c: sum(min(abs(a - b) for b in previous) for a in c))
    return min(candidates, key=lambda c: abs(sum(c) / len(c) - 60))
