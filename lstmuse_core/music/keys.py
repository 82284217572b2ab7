"""Keys and modes: the models sing in C's scale; a request moves them.

Every song is read into the white-key scale (its key signature removed), so
each mode has a fixed tonic there: C major (ionian), D dorian, E phrygian,
F lydian, G mixolydian, A minor (aeolian), B locrian (`MODE_TONICS`). A key
names a tonic and a mode; `Key.transposition` moves the mode's tonic in the
model's scale to the key's tonic by the smallest shift (-5..+6 semitones), so
the melody stays in its register.

Accepted key spellings: ``D``, ``d``, ``F#``, ``Bb``, ``Dm``, ``D minor``,
``c#m``, ``Eb major``, ``D dorian``, ``G mix`` (case-insensitive; ``♯``/``♭``
too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music import pitch

# The church modes in the order of their tonic in C's scale, then the five modes of the
# Chinese pentatonic scale (gong C D E G A) by their final. A network's mode input is
# the index in this tuple: new modes go at the end, so committed bundles keep their ids.
HEPTATONIC_MODES = ("major", "dorian", "phrygian", "lydian", "mixolydian", "minor", "locrian")
PENTATONIC_MODES = ("gong", "shang", "jue", "zhi", "yu")
MODES = HEPTATONIC_MODES + PENTATONIC_MODES
MODE_TONICS = {  # the tonic's pitch class in the model's scale (white keys)
    "major": 0,
    "dorian": 2,
    "phrygian": 4,
    "lydian": 5,
    "mixolydian": 7,
    "minor": 9,
    "locrian": 11,
    "gong": 0,
    "shang": 2,
    "jue": 4,
    "zhi": 7,
    "yu": 9,
}
# A pentatonic mode read as the heptatonic mode on the same final whose scale holds it
# (zhi, G A C D E, in G mixolydian): what the harmonizer and key signatures use.
PENTATONIC_PARENTS = {
    "gong": "major",
    "shang": "dorian",
    "jue": "phrygian",
    "zhi": "mixolydian",
    "yu": "minor",
}
PENTATONIC_SCALE = frozenset({0, 2, 4, 7, 9})  # gong on C
_MODE_NAMES = {
    **{mode: mode for mode in MODES},
    **{mode[:3]: mode for mode in MODES},
    "ionian": "major",
    "aeolian": "minor",
    "maj": "major",
    "m": "minor",
    "min": "minor",
}
MODE_HELP = (
    f"one of {', '.join(MODES)} (ionian and aeolian are major and minor;"
    " gong to yu are the pentatonic modes)"
)
_KEY = re.compile(
    r"^\s*(?P<letter>[A-Ga-g])(?P<accidental>[#♯b♭]?)\s*(?P<mode>[a-z]+)?\s*$",
    re.IGNORECASE,
)
KEY_HELP = "a key such as C, D, F#, Bb, Am, C#m, 'E minor' or 'D dorian'"
_SCALE = (0, 2, 4, 5, 7, 9, 11)


def parse_mode(text: str, parameter: str = "mode") -> str:
    """``"Dorian"``, ``"dor"``, ``"aeolian"`` -> the mode's name in `MODES`."""
    mode = _MODE_NAMES.get(str(text).strip().casefold())
    if mode is None:
        raise InvalidParameter(parameter, text, MODE_HELP)
    return mode


def heptatonic_mode(mode: str) -> str:
    """The mode itself, or a pentatonic mode's heptatonic parent (`PENTATONIC_PARENTS`)."""
    return PENTATONIC_PARENTS.get(mode, mode)


def scale_pitch_classes(tonic_pitch_class: int, mode: str) -> frozenset[int]:
    """The seven pitch classes of ``mode`` on a tonic (0 = C); five for a pentatonic mode."""
    shift = tonic_pitch_class - MODE_TONICS[mode]
    scale = PENTATONIC_SCALE if mode in PENTATONIC_PARENTS else _SCALE
    return frozenset((pc + shift) % 12 for pc in scale)


@dataclass(frozen=True)
class Key:
    tonic: str  # spelled as given, e.g. "F#"
    mode: str = "major"

    def __post_init__(self) -> None:
        if self.mode not in MODE_TONICS:
            raise InvalidParameter("mode", self.mode, MODE_HELP)

    @property
    def minor(self) -> bool:
        return self.mode == "minor"

    @property
    def name(self) -> str:
        return f"{self.tonic} {self.mode}"

    @property
    def tonic_pitch_class(self) -> int:
        return pitch.pitch_class(self.tonic[0], self.tonic[1:])

    @property
    def transposition(self) -> int:
        """Semitones from the model's scale (this mode's white-key tonic) to this key."""
        shift = (self.tonic_pitch_class - MODE_TONICS[self.mode]) % 12
        return shift - 12 if shift > 6 else shift

    @property
    def signature_tonic(self) -> int:
        """The pitch class of the relative major (which names the key signature)."""
        return (self.tonic_pitch_class - MODE_TONICS[self.mode]) % 12

    @property
    def signature_sharps(self) -> int:
        """The sharps in the key signature, negative for flats (`pitch.signature_sharps`)."""
        return pitch.signature_sharps(self.tonic, self.mode)

    @property
    def flats(self) -> bool:
        """Whether the key spells black keys with flats: its signature has flats."""
        return self.signature_sharps < 0

    @property
    def signature_alterations(self) -> dict[str, int]:
        """Each letter's alteration in the key signature: F: 1 in G major, B: -1 in F major."""
        sharps = self.signature_sharps
        sharpened = pitch.LETTERS_IN_FIFTHS[: max(sharps, 0)]
        flattened = pitch.LETTERS_IN_FIFTHS[::-1][: max(-sharps, 0)]
        return {
            letter: (letter in sharpened) - (letter in flattened)
            for letter in pitch.LETTER_PITCH_CLASSES
        }

    def spell(self, midi_pitch: int) -> tuple[str, int]:
        """The letter (A-G) and alteration in semitones this key writes ``midi_pitch`` with.

        Notes of the key's scale as its signature has them (E# in F# major); the
        note a semitone below the tonic as a raised seventh (G# in A minor and
        A dorian, F# in G mixolydian); other notes with sharps in sharp keys,
        flats in flat keys, and `pitch.NEUTRAL_NAMES` without a signature. The
        one rule of every score we write (ABC, MusicXML, sheet music).
        """
        pitch_class = midi_pitch % 12
        tonic = self.tonic_pitch_class
        # A pentatonic key spells the notes of its heptatonic parent's scale.
        if pitch_class in scale_pitch_classes(tonic, heptatonic_mode(self.mode)):
            letter = next(
                letter
                for letter, alteration in self.signature_alterations.items()
                if (pitch.LETTER_PITCH_CLASSES[letter] + alteration) % 12 == pitch_class
            )
        elif pitch_class == (tonic - 1) % 12:
            letter = "CDEFGAB"["CDEFGAB".index(self.tonic[0]) - 1]
        else:
            sharps = self.signature_sharps
            names = (
                pitch.FLAT_NAMES
                if sharps < 0
                else pitch.SHARP_NAMES
                if sharps > 0
                else pitch.NEUTRAL_NAMES
            )
            letter = names[pitch_class][0]
        # -2..2: the difference from the letter's natural, across the octave boundary.
        alteration = (pitch_class - pitch.LETTER_PITCH_CLASSES[letter] + 6) % 12 - 6
        return letter, alteration


def key_with_signature(sharps: int, mode: str) -> Key:
    """The key of ``mode`` whose signature has ``sharps`` (negative: flats), -7..7.

    One sharp: G major, E minor, A dorian; two flats: Bb major, C dorian.
    """
    return Key(pitch.tonic_with_signature(sharps, mode), mode)


def model_key(mode: str) -> Key:
    """The key a model sings ``mode`` in: its white-key tonic (C major, D dorian, A minor)."""
    tonic = "CDEFGAB"[_SCALE.index(MODE_TONICS[mode])]
    return Key(tonic, mode)


def named_mode(text: str) -> str | None:
    """The mode a typed key names (``"Am"`` -> minor, ``"D dorian"``), None for a bare tonic."""
    match = _KEY.match(str(text))
    if match is None:
        raise InvalidParameter("key", text, KEY_HELP)
    named = match.group("mode")
    return parse_mode(named, parameter="key") if named else None


def parse_key(text: str, mode: str | None = None) -> Key:
    """Parse a typed key (see the module docstring); errors name the value.

    ``mode`` (already parsed) is the mode a separate option asked for; a key
    that names a different mode of its own is refused.
    """
    match = _KEY.match(str(text))
    if match is None:
        raise InvalidParameter("key", text, KEY_HELP)
    accidental = {"♯": "#", "♭": "b"}.get(match.group("accidental"), match.group("accidental"))
    named = match.group("mode")
    own_mode = parse_mode(named, parameter="key") if named else None
    if own_mode is not None and mode is not None and own_mode != mode:
        raise InvalidParameter(
            "key", text, f"a key without a mode, or in the mode asked for ({mode})"
        )
    return Key(match.group("letter").upper() + accidental.lower(), own_mode or mode or "major")
