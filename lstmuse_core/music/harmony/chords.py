"""The chords a melody's mode offers, as scale-degree functions, and how players name them.

A chord *function* is a scale degree's diatonic triad (``"1"`` .. ``"7"``: in
D dorian ``"4"`` is G major, in A minor ``"5"`` is E minor), the major triad on
the fifth degree with the raised seventh (``"V"``, for modes whose own fifth
triad is minor) or the dominant seventh of the tonic (``"V7"``). Functions
name chords apart from any key, so the learned tables of major and minor
(`lstmuse_core.music.harmony.tables`) serve every mode by its degrees; a
`Chord` is a function placed in a key, named as a player reads it (``G``,
``Em``, ``D7``, ``F#m``, ``Bb``, ``Bdim``).

A melody note's *role* under a chord is what the emission tables count:
the chord's root, third, fifth or seventh, another note of the mode's scale,
or a chromatic note.
"""

from __future__ import annotations

from dataclasses import dataclass

from lstmuse_core.music.keys import MODE_TONICS, Key

DEGREES = ("1", "2", "3", "4", "5", "6", "7")
ROLES = ("root", "third", "fifth", "seventh", "scale", "chromatic")
_QUALITY_SUFFIXES = {(4, 7): "", (3, 7): "m", (3, 6): "dim", (4, 8): "aug"}
_WHITE_KEY_SCALE = (0, 2, 4, 5, 7, 9, 11)


def mode_scale(mode: str) -> tuple[int, ...]:
    """The mode's seven scale steps in semitones above its tonic (dorian: 0 2 3 5 7 9 10)."""
    start = _WHITE_KEY_SCALE.index(MODE_TONICS[mode])
    rotated = _WHITE_KEY_SCALE[start:] + _WHITE_KEY_SCALE[:start]
    return tuple((step - rotated[0]) % 12 for step in rotated)


def has_minor_third(mode: str) -> bool:
    """Whether the mode's third is minor: it then borrows the minor tables."""
    return mode_scale(mode)[2] == 3


def functions_of(mode: str) -> tuple[str, ...]:
    """The chord functions a melody in ``mode`` may use (the learned tables' states)."""
    root, third, _ = _triad(mode_scale(mode), 4)
    own_fifth_is_major = (third - root) % 12 == 4
    return DEGREES + (() if own_fifth_is_major else ("V",)) + ("V7",)


def function_intervals(function: str, mode: str) -> tuple[int, ...]:
    """The chord's notes in semitones above the tonic, root first (``"V7"``: 7 11 2 5)."""
    if function == "V":
        return (7, 11, 2)
    if function == "V7":
        return (7, 11, 2, 5)
    return _triad(mode_scale(mode), DEGREES.index(function))


def _triad(scale: tuple[int, ...], degree: int) -> tuple[int, int, int]:
    """The diatonic triad on ``degree`` (0-6): every other note of the scale."""
    return (scale[degree], scale[(degree + 2) % 7], scale[(degree + 4) % 7])


def roles(function: str, mode: str) -> tuple[str, ...]:
    """Each pitch class's role (above the tonic, 0-11) under the chord, `ROLES` names."""
    intervals = function_intervals(function, mode)
    scale = set(mode_scale(mode))
    out = []
    for pitch_class in range(12):
        if pitch_class in intervals:
            out.append(ROLES[intervals.index(pitch_class)])
        else:
            out.append("scale" if pitch_class in scale else "chromatic")
    return tuple(out)


@dataclass(frozen=True)
class Chord:
    """A chord function placed in a key: its symbol, root and pitch classes (0 = C)."""

    function: str
    symbol: str
    root: int
    pitch_classes: tuple[int, ...]


def chord_in_key(function: str, key: Key) -> Chord:
    """``function`` in ``key``, named as a player reads it: ``"5"`` in G major is ``D``."""
    intervals = function_intervals(function, key.mode)
    tonic = key.tonic_pitch_class
    pitch_classes = tuple((tonic + interval) % 12 for interval in intervals)
    letter, alteration = key.spell(pitch_classes[0])
    root_name = letter + ("#" * alteration if alteration > 0 else "b" * -alteration)
    if function == "V7":
        suffix = "7"
    else:
        third, fifth = ((i - intervals[0]) % 12 for i in intervals[1:3])
        suffix = _QUALITY_SUFFIXES[(third, fifth)]
    return Chord(function, root_name + suffix, pitch_classes[0], pitch_classes)
