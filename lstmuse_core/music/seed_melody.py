"""Seed melodies as people type them.

Two forms are accepted, separated by spaces, commas or bar lines ``|``:

* **symbols**, exactly the model's encoding: ``60 _ _ 62 r _`` (a MIDI pitch
  starts a note, ``_`` holds it one more 16th, ``r`` starts a rest);
* **note names**: ``C4 D4 E4:2 r:0.5 F#4:1.5 Bb3:1/2`` — a letter A-G (any
  case), optional accidentals ``#``/``b`` (or ``♯``/``♭``), an optional octave
  (default 4; middle C is C4 = MIDI 60), and an optional ``:length`` in
  quarter notes (default 1; decimals or fractions; a multiple of 1/4).
  ``r``/``rest`` with an optional ``:length`` is a rest.

A text with any note name is read as note names; otherwise as symbols. A
text that is neither and looks like ABC (``|:GABc dedB|``) is read by
`lstmuse_core.music.abc_seed` once the request's key is known.
Errors name the bad token and its position (1-based).
"""

from __future__ import annotations

import re
from fractions import Fraction

from lstmuse_core.errors import SeedMelodyError
from lstmuse_core.limits import MAX_SEED_STEPS
from lstmuse_core.music.encoding import (
    HOLD,
    REST,
    STEPS_PER_QUARTER,
    NoteEvent,
    encode_notes,
    is_pitch,
)
from lstmuse_core.music.pitch import midi_pitch

_SEPARATORS = re.compile(r"[\s,|]+")
_NOTE_NAME = re.compile(
    r"^(?P<letter>[A-Ga-g])(?P<accidentals>[#b♯♭]*)(?P<octave>-?\d+)?(?::(?P<length>[\d./]+))?$"
)
_REST_NAME = re.compile(r"^(?:r|rest)(?::(?P<length>[\d./]+))?$", re.IGNORECASE)

_PITCH_RANGE = "notes from C-1 to G9 (MIDI 0-127)"
SYMBOL_HELP = "a MIDI pitch 0-127, '_' (hold) or 'r' (rest), e.g. '60 _ 62 _ r _'"
NOTE_NAME_HELP = (
    "a note name with optional octave and :length in quarter notes, e.g. 'C4 D4 E4:2 r:1 F#4:0.5'"
)


def parse_seed_melody(text: str, max_steps: int = MAX_SEED_STEPS) -> list[str]:
    """Parse a typed seed melody into model symbols (see the module docstring).

    A seed longer than ``max_steps`` 16th notes is refused as soon as the
    running length passes it, so a pasted wall of whole notes costs nothing.
    """
    tokens = [t for t in _SEPARATORS.split(text.strip()) if t]
    if not tokens:
        return []
    if any(t[0] in "ABCDEFGabcdefg" for t in tokens):
        return _parse_note_names(tokens, max_steps)
    return _parse_symbols(tokens, max_steps)


def _too_long(token: str, position: int, max_steps: int) -> SeedMelodyError:
    return SeedMelodyError(
        token, position, f"a seed melody of at most {max_steps} 16th notes ({max_steps // 16} bars)"
    )


def _parse_symbols(tokens: list[str], max_steps: int) -> list[str]:
    if len(tokens) > max_steps:
        raise _too_long(tokens[max_steps], max_steps + 1, max_steps)
    symbols: list[str] = []
    for position, token in enumerate(tokens, start=1):
        symbol = token.lower()
        # Leading zeros aside, a pitch has at most 3 digits: int() of a 5,000-digit
        # token is refused by Python itself (its digit limit), not by name.
        digits = symbol.lstrip("0") or "0"
        pitch = is_pitch(symbol) and len(digits) <= 3 and int(digits) <= 127
        if not (pitch or symbol in (HOLD, REST)):
            raise SeedMelodyError(token, position, SYMBOL_HELP)
        if symbol == HOLD and position == 1:
            raise SeedMelodyError(token, position, "a seed melody cannot start with a hold '_'")
        symbols.append(digits if pitch else symbol)
    # Every rule of `validate_melody` is checked above, token by token.
    return symbols


def _parse_note_names(tokens: list[str], max_steps: int) -> list[str]:
    notes: list[NoteEvent] = []
    step = 0
    for position, token in enumerate(tokens, start=1):
        rest = _REST_NAME.match(token)
        match = rest or _NOTE_NAME.match(token)
        if match is None:
            raise SeedMelodyError(token, position, NOTE_NAME_HELP)
        steps = _length_in_steps(match.group("length"), token, position)
        if step + steps > max_steps:
            raise _too_long(token, position, max_steps)
        pitch = None if rest else _pitch_of(match, token, position)
        notes.append(NoteEvent(pitch, step, steps))
        step += steps
    return encode_notes(notes)


def _pitch_of(match: re.Match[str], token: str, position: int) -> int:
    typed = match.group("octave") or "4"
    digits = typed.lstrip("-").lstrip("0") or "0"
    if len(digits) > 2:  # no MIDI octave has more; int() of thousands of digits is refused
        raise SeedMelodyError(token, position, _PITCH_RANGE)
    octave = -int(digits) if typed.startswith("-") else int(digits)
    pitch = midi_pitch(match.group("letter").upper(), match.group("accidentals"), octave)
    if not 0 <= pitch <= 127:
        raise SeedMelodyError(token, position, _PITCH_RANGE)
    return pitch


def _length_in_steps(length: str | None, token: str, position: int) -> int:
    if length is None:
        return STEPS_PER_QUARTER
    try:
        quarters = Fraction(length)
    except (ValueError, ZeroDivisionError):
        raise SeedMelodyError(
            token, position, "a length in quarter notes such as 1, 0.5, 1.5 or 1/2"
        ) from None
    steps = quarters * STEPS_PER_QUARTER
    if steps.denominator != 1 or steps < 1 or steps > 16 * STEPS_PER_QUARTER:
        raise SeedMelodyError(
            token, position, "a length from 1/4 to 16 quarter notes in steps of 1/4 (a 16th note)"
        )
    return int(steps)
