"""Pitch spelling: letters, accidentals and key signatures, both ways, in one place.

Every name a person reads or types goes through here: a note typed in a
seed (``Bb3``), a key's tonic (``F#``), a pitch label on the piano roll
(``C#4`` or ``Db4``), a key moved by a transposition (D major up a semitone
is Eb major, not D# major), and the key signature MIDI writes (sharps, or
negative: flats). Middle C is C4 = MIDI 60.

Spelling follows the signature, not the sound: Gb major has six flats and
F# major six sharps; a key whose signature has flats names black keys with
flats, any other key (and the model's own C major / A minor) with sharps.

Plain tables and arithmetic only, so the bot can import it (through seed
melodies) without loading any music library.
"""

from __future__ import annotations

from collections.abc import Mapping

LETTER_PITCH_CLASSES: Mapping[str, int] = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
# What each accidental adds, in semitones; the typographic signs count as typed.
ACCIDENTAL_SEMITONES: Mapping[str, int] = {"#": 1, "♯": 1, "b": -1, "♭": -1}

# Black keys named as a key with sharps and as a key with flats spells them, by pitch class.
SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
# Black keys in a key with no signature (C major, A minor, D dorian, ...): the
# usual accidentals of the common leading tones and blue notes, as music21 and
# most engravers choose them: C#, Eb, F#, G#, Bb.
NEUTRAL_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")

# The conventional tonic of a major and of a minor key, by pitch class: the
# spelling with the fewer accidentals in its signature (Db major, C# minor).
MAJOR_TONIC_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MINOR_TONIC_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")

# Where each mode's tonic sits on the circle of fifths from its major key's
# tonic (D dorian is two fifths above C): a key's signature is its tonic's
# place on the circle minus this.
MODE_FIFTHS: Mapping[str, int] = {
    "major": 0,
    "dorian": 2,
    "phrygian": 4,
    "lydian": -1,
    "mixolydian": 1,
    "minor": 3,
    "locrian": 5,
    # The pentatonic modes are written with their heptatonic parent's signature
    # (`keys.PENTATONIC_PARENTS`): yu on A like A minor.
    "gong": 0,
    "shang": 2,
    "jue": 4,
    "zhi": 1,
    "yu": 3,
}
LETTERS_IN_FIFTHS = "FCGDAEB"  # F is one fifth below C, B five above


def pitch_class(letter: str, accidentals: str = "") -> int:
    """``("B", "b")`` -> 10: a letter A-G (upper case) and any accidentals, 0 = C."""
    alteration = sum(ACCIDENTAL_SEMITONES[sign] for sign in accidentals)
    return (LETTER_PITCH_CLASSES[letter] + alteration) % 12


def midi_pitch(letter: str, accidentals: str, octave: int) -> int:
    """``("B", "b", 3)`` -> 58: the MIDI pitch of a spelled note (C4 = 60), not range-checked.

    Accidentals move across the octave boundary as written: Cb4 is 59, B#3 is 60.
    """
    alteration = sum(ACCIDENTAL_SEMITONES[sign] for sign in accidentals)
    return 12 * (octave + 1) + LETTER_PITCH_CLASSES[letter] + alteration


def note_name(pitch: int, *, flats: bool = False) -> str:
    """MIDI pitch as a name with octave: 60 -> C4; 70 -> A#4, or Bb4 with ``flats``."""
    names = FLAT_NAMES if flats else SHARP_NAMES
    return f"{names[pitch % 12]}{pitch // 12 - 1}"


def tonic_name(tonic_pitch_class: int, minor: bool) -> str:
    """The conventional spelling of a key's tonic on ``tonic_pitch_class`` (0 = C)."""
    names = MINOR_TONIC_NAMES if minor else MAJOR_TONIC_NAMES
    return names[tonic_pitch_class % 12]


def signature_sharps(tonic: str, mode: str) -> int:
    """The sharps in the signature of ``mode`` on ``tonic`` (``"Gb"``), negative for flats.

    As MIDI and music21 count them; the spelling decides, not the pitch:
    Gb major -6, F# major 6; Bb minor -5, G dorian -1, B lydian 6.
    """
    letter, accidentals = tonic[0], tonic[1:]
    sharps = accidentals.count("#") - accidentals.count("b")
    return LETTERS_IN_FIFTHS.index(letter) - 1 + 7 * sharps - MODE_FIFTHS[mode]


def tonic_with_signature(sharps: int, mode: str) -> str:
    """The tonic of ``mode`` whose signature has ``sharps`` (negative: flats), -7..7.

    One sharp: G major, E minor, A dorian; two flats: Bb major, C dorian.
    """
    fifths = sharps + MODE_FIFTHS[mode]  # the tonic's place on the circle, C = 0
    letter = LETTERS_IN_FIFTHS[(fifths + 1) % 7]
    accidentals = (fifths + 1) // 7  # once round the circle of letters: one more sharp
    return letter + ("#" * accidentals if accidentals > 0 else "b" * -accidentals)
