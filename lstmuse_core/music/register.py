"""Register: the octave a melody sounds in, chosen for the instrument that plays it.

The models sing around middle C (the folk songs' range, roughly G3-E6), and
a key moves a melody by at most a tritone. That suits a piano, but a flute
cannot play below C4, a piccolo sounds an octave higher still, and a tuba
an octave or two lower. `in_register` moves a melody by whole octaves into
its instrument's comfortable range (`COMFORTABLE_RANGES`), then by the
octaves a musician asked for (the ``octave`` option). Octaves keep the key,
the intervals and the seed's place in the melody; only the register moves.

The same rule (`octaves_into`) moves a seed melody into the pitches a
model knows before sampling, so a seed taken from a melody that was moved
(the Continue button) or typed an octave up is still one the model can
continue.
"""

from __future__ import annotations

from collections.abc import Sequence

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.encoding import melody_pitches, transpose_symbols
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.midi import instrument_name

OCTAVE = 12  # semitones
MIDI_PITCHES = (0, 127)

# Sounding ranges (MIDI pitch, lowest..highest) in which each melody
# instrument plays at ease, by General MIDI program. The lowest note is the
# instrument's own bottom (it cannot play lower); the highest stops short of
# the strained top. Transposing instruments are given as they sound. Others
# (piano, organ, harp, guitar, strings, synths) take a melody where it is.
COMFORTABLE_RANGES: dict[int, tuple[int, int]] = {
    22: (60, 96),  # harmonica (diatonic in C): C4-C7
    40: (55, 91),  # violin: G3-G6
    41: (48, 84),  # viola: C3-C6
    42: (36, 76),  # cello: C2-E5
    43: (28, 60),  # contrabass: E1-C4
    56: (54, 82),  # trumpet: F#3-Bb5
    57: (40, 72),  # trombone: E2-C5
    58: (28, 58),  # tuba: E1-Bb3
    60: (41, 77),  # French horn: F2-F5
    64: (56, 87),  # soprano sax: Ab3-Eb6
    65: (49, 80),  # alto sax: Db3-Ab5
    66: (44, 75),  # tenor sax: Ab2-Eb5
    68: (58, 91),  # oboe: Bb3-G6
    69: (52, 81),  # English horn: E3-A5
    70: (34, 72),  # bassoon: Bb1-C5
    71: (50, 89),  # clarinet: D3-F6
    72: (74, 103),  # piccolo: D5-G7
    73: (60, 96),  # flute: C4-C7
    74: (72, 98),  # recorder (soprano, the one schools teach): C5-D7
    75: (60, 93),  # pan flute: C4-A6
    78: (74, 98),  # tin whistle (in D): D5-D7
    79: (69, 89),  # ocarina (alto in C): A4-F6
    105: (50, 86),  # banjo: D3-D6
    109: (67, 81),  # bagpipe (Highland chanter): G4-A5
}


def octaves_into(low: int, high: int, lowest: int, highest: int) -> int:
    """Whole octaves, in semitones, that move ``low``..``high`` into ``lowest``..``highest``.

    Up until the lowest note is reached; else down until the highest fits,
    but never below ``lowest``: an instrument cannot play under its bottom
    note, while a high note is only harder. 0 when the span already fits.
    """
    if low < lowest:
        return OCTAVE * -(-(lowest - low) // OCTAVE)
    if high > highest:
        octaves_down = -(-(high - highest) // OCTAVE)
        room_below = (low - lowest) // OCTAVE
        return -OCTAVE * min(octaves_down, room_below)
    return 0


def register_shift(low: int, high: int, program: int) -> int:
    """Semitones that put a melody spanning ``low``..``high`` where ``program`` plays at ease.

    0 for an instrument without a range in `COMFORTABLE_RANGES`. Never
    leaves MIDI's pitches 0-127, whatever the melody's span.
    """
    if program not in COMFORTABLE_RANGES:
        return 0
    shift = octaves_into(low, high, *COMFORTABLE_RANGES[program])
    return shift + octaves_into(low + shift, high + shift, *MIDI_PITCHES)


def in_register(melody: Melody, program: int, octave: int = 0) -> Melody:
    """``melody`` in ``program``'s comfortable register, then ``octave`` octaves higher.

    The key stays: only whole octaves move. Raises `InvalidParameter`
    (``octave``) when the asked octaves take a note outside MIDI's 0-127.
    """
    pitches = melody.pitches
    if not pitches:
        return melody
    low, high = min(pitches), max(pitches)
    shift = register_shift(low, high, program)
    asked = OCTAVE * octave
    if low + shift + asked < MIDI_PITCHES[0] or high + shift + asked > MIDI_PITCHES[1]:
        raise InvalidParameter(
            "octave",
            octave,
            "an octave shift that keeps every note within MIDI pitches 0-127",
            hint=f"on {instrument_name(program)} this melody spans MIDI pitches "
            f"{low + shift}-{high + shift} before it",
        )
    return melody.transposed(shift + asked)


def seed_for_model(seed: Sequence[str], model_pitches: Sequence[int]) -> list[str]:
    """``seed`` (model key space) moved by octaves into the pitches the model knows.

    A seed that already fits is left as it is; one wider than the model's
    range stays too wide, and the model names the first note it cannot take.
    """
    pitches = melody_pitches(seed)
    if not pitches or not model_pitches:
        return list(seed)
    shift = octaves_into(min(pitches), max(pitches), min(model_pitches), max(model_pitches))
    return transpose_symbols(seed, shift)
