"""Output keys: the models sing in C major / A minor; a request moves them.

A major key moves C to its tonic, a minor key moves A to its tonic, by the
smallest shift (-5..+6 semitones) so the melody stays in its register.
Accepted spellings: ``D``, ``d``, ``F#``, ``Bb``, ``Dm``, ``D minor``,
``c#m``, ``Eb major`` (case-insensitive; ``♯``/``♭`` too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lstmuse_core.errors import InvalidParameter

_KEY = re.compile(
    r"^\s*(?P<letter>[A-Ga-g])(?P<accidental>[#♯b♭]?)\s*(?P<mode>m|min|minor|maj|major)?\s*$",
    re.IGNORECASE,
)
_LETTER_PITCH_CLASS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
KEY_HELP = "a major or minor key such as C, D, F#, Bb, Am, C#m or 'E minor'"


@dataclass(frozen=True)
class Key:
    tonic: str  # spelled as given, e.g. "F#"
    minor: bool

    @property
    def name(self) -> str:
        return f"{self.tonic} {'minor' if self.minor else 'major'}"

    @property
    def transposition(self) -> int:
        """Semitones from the model's key space (C major / A minor) to this key."""
        tonic_class = _LETTER_PITCH_CLASS[self.tonic[0]] + {"#": 1, "b": -1}.get(self.tonic[1:], 0)
        shift = (tonic_class - (9 if self.minor else 0)) % 12
        return shift - 12 if shift > 6 else shift


def parse_key(text: str) -> Key:
    """Parse a typed key (see the module docstring); errors name the value."""
    match = _KEY.match(text)
    if match is None:
        raise InvalidParameter("key", text, KEY_HELP)
    accidental = {"♯": "#", "♭": "b"}.get(match.group("accidental"), match.group("accidental"))
    mode = (match.group("mode") or "").lower()
    return Key(
        match.group("letter").upper() + accidental.lower(),
        mode.startswith("m") and not mode.startswith("maj"),
    )
