"""Seed melodies typed in ABC, the notation folk players share tunes in: ``|:GABc dedB|``.

A member pastes a phrase from thesession.org or a tune book; this reads its
notes without music21 (the bot's process must stay light, and a typed seed
is a line, not a file). What is read, as ABC 2.1 says:

* notes ``A``-``G`` (``C`` is middle C, MIDI 60) and ``a``-``g`` an octave
  up, ``'`` and ``,`` raising or lowering an octave each; accidentals ``^``,
  ``^^``, ``_``, ``__``, ``=``, which hold to the end of the bar for that
  note; lengths in units of ``L:`` (``A2``, ``A/``, ``A/2``, ``A3/2``,
  ``A//``), broken rhythm ``>`` and ``<``, ties ``-``, rests ``z`` and ``x``;
* bar lines, repeats and endings (``|``, ``||``, ``|:``, ``:|``, ``::``,
  ``[1``, ``:|2``): the seed is played once, as written, and every bar line
  ends the bar's accidentals;
* a chord ``[DFA]`` gives its highest note; grace notes ``{g}``, chord
  symbols ``"G"``, decorations (``~``, ``.``, ``!trill!``, ``+fermata+``),
  slurs ``(AB)`` and line continuations ``\\`` are skipped;
* header fields, at the start or inline in brackets: ``K:`` (the key
  signature and the seed's key: ``K:G``, ``K:Ador``, ``K:Em``), ``L:`` (the
  unit, default 1/8) and ``Q:`` (tempo; ``Q:1/4=120`` or ``Q:120``). ``M:``
  is accepted and left to the request (``meter=``).

Without ``K:`` the accidentals of the request's key apply (``key=D``: ``F``
and ``c`` are sharp), else none. Tuplets (``(3abc``) are refused by name:
the model writes 16th notes, and so must the seed; so is a length that is
not a whole number of 16ths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.limits import MAX_SEED_STEPS
from lstmuse_core.music.encoding import STEPS_PER_QUARTER, NoteEvent, encode_notes
from lstmuse_core.music.keys import Key, parse_key
from lstmuse_core.music.midi import MidiSeed
from lstmuse_core.music.pitch import LETTER_PITCH_CLASSES

ABC_HELP = "ABC notes such as '|:GABc dedB|' (see !help melody: seed_abc)"
DEFAULT_UNIT = Fraction(1, 8)  # of a whole note: ABC's L: for the common meters

# A field in brackets runs to its bracket (``[K:D dorian]``), a bare one to the next
# space or bar line (``K:Ddor |:DEF``): a typed seed is one line, its header included.
_FIELD = re.compile(r"\[([KLMQ]):([^\]]*)\]|([KLMQ]):([^\s|\]]*)")
_NOTE = re.compile(
    r"(?P<accidental>\^\^|\^|__|_|=)?(?P<letter>[A-Ga-g])(?P<octave>[',]*)"
    r"(?P<num>\d*)(?P<slashes>/*)(?P<den>\d*)"
)
_REST = re.compile(r"[zx](?P<num>\d*)(?P<slashes>/*)(?P<den>\d*)")
_LENGTH = re.compile(r"(?P<num>\d*)(?P<slashes>/*)(?P<den>\d*)")
_TIE = re.compile(r"-")
_BROKEN = re.compile(r"[<>]+")
_BAR = re.compile(r":*\|[\]|:]*\d*|:*\[\d+|::|\[\|")
# Chord symbols, decorations, grace notes, slurs (a "(" not opening a tuplet), line
# continuations and spaces: none changes a note's pitch or length.
_SKIPPED = re.compile(r'"[^"]*"|![^!]*!|\+[^+]*\+|\{[^}]*\}|[~.uvTHLMOPRS)\\]|\((?!\d)|\s+')
_ACCIDENTALS = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}
_ABC_MODES = {"": "major", "m": "minor", "min": "minor", "maj": "major", "ion": "major"}
# What tells typed ABC from note names (C4 D4:2) and symbols (60 _ 62): a bar line
# with a repeat, a header field, or a token of two notes or more, an accidental sign
# before a letter, an octave mark or a rest ``z``.
_LOOKS_LIKE_ABC = re.compile(
    r"\|:|:\||\[?[KL]:|[A-Ga-g][',]*\d*/*\d*[A-Ga-gz]|[\^_=][A-Ga-g]|[A-Ga-g][',]|\bz\d*\b"
)


@dataclass(frozen=True)
class AbcSeed:
    """A seed typed in ABC, read once the request's key is known (`read`)."""

    text: str

    def read(self, key: Key | None = None, max_steps: int = MAX_SEED_STEPS) -> MidiSeed:
        """Its notes as model symbols with the key and tempo it states (`read_abc_seed`)."""
        return read_abc_seed(self.text, key, max_steps)


def looks_like_abc(text: str) -> bool:
    """Whether a typed seed is ABC rather than note names or symbols (see `_LOOKS_LIKE_ABC`)."""
    return bool(_LOOKS_LIKE_ABC.search(text))


def read_abc_seed(text: str, key: Key | None = None, max_steps: int = MAX_SEED_STEPS) -> MidiSeed:
    """The notes of ABC ``text`` as symbols, with its ``K:`` key and ``Q:`` tempo if stated.

    ``key``: the signature to read with when the text states no ``K:``.
    Errors name the token and its position (1-based, in characters).
    """
    reader = _Reader(text, key, max_steps)
    reader.read()
    return MidiSeed(tuple(encode_notes(reader.notes)), reader.stated_key, reader.bpm)


class _Reader:
    def __init__(self, text: str, key: Key | None, max_steps: int) -> None:
        self.text = text
        self.max_steps = max_steps
        self.unit = DEFAULT_UNIT
        self.stated_key: Key | None = None
        self.bpm: float | None = None
        self.signature = key.signature_alterations if key is not None else {}
        self.in_bar: dict[tuple[str, int], int] = {}  # (letter, octave) -> accidental
        self.notes: list[NoteEvent] = []
        self.step = 0
        self.tied = False
        self.broken: Fraction | None = None  # the next note's factor after > or <
        self.written = 0  # steps of the last note or rest as written (a tie not counted)

    def read(self) -> None:
        position, text = 0, self.text
        while position < len(text):
            if match := _FIELD.match(text, position):
                self._field(match)
            elif match := _SKIPPED.match(text, position):
                pass
            elif match := _BAR.match(text, position):
                self.in_bar = {}
            elif text.startswith("[", position) and (close := text.find("]", position)) > 0:
                match = self._chord(position, close)
            elif match := _NOTE.match(text, position):
                self._note(match)
            elif match := _REST.match(text, position):
                self._add(None, self._length(match), match)
            elif match := _TIE.match(text, position):
                self.tied = True
            elif match := _BROKEN.match(text, position):
                self._broken(match)
            elif text.startswith("(", position):
                raise self._error(text[position : position + 2], position, "no tuplets")
            else:
                raise self._error(text[position], position, ABC_HELP)
            position = match.end()

    def _field(self, match: re.Match[str]) -> None:
        name = match.group(1) or match.group(3)
        value = (match.group(2) if match.group(1) else match.group(4)).strip()
        if name == "K":
            self.stated_key = _abc_key(value, match.start())
            self.signature = self.stated_key.signature_alterations
        elif name == "L":
            self.unit = _fraction(value, "L", match.start())
        elif name == "Q":
            self.bpm = _quarter_bpm(value, match.start())

    def _chord(self, start: int, close: int) -> re.Match[str]:
        """A chord ``[DFA]2``: its highest note, its own length times the one after ``]``."""
        inner = self.text[start + 1 : close]
        notes = [m for m in _NOTE.finditer(inner)]
        if not notes or "".join(m.group(0) for m in notes) != inner.replace(" ", ""):
            raise self._error(self.text[start : close + 1], start, ABC_HELP)
        after = _LENGTH.match(self.text, close + 1)
        assert after is not None  # every part of the pattern is optional
        top = max(notes, key=lambda m: self._pitch(m, remember=False))
        self._add(self._pitch(top), self._length(top) * self._length(after) / self.unit, after)
        return after

    def _note(self, match: re.Match[str]) -> None:
        self._add(self._pitch(match), self._length(match), match)

    def _pitch(self, match: re.Match[str], remember: bool = True) -> int:
        letter = match.group("letter")
        octave = 4 if letter.isupper() else 5
        octave += match.group("octave").count("'") - match.group("octave").count(",")
        name = letter.upper()
        sign = match.group("accidental")
        if sign is not None:
            alteration = _ACCIDENTALS[sign]
            if remember:
                self.in_bar[(name, octave)] = alteration
        else:
            alteration = self.in_bar.get((name, octave), self.signature.get(name, 0))
        pitch = 12 * (octave + 1) + LETTER_PITCH_CLASSES[name] + alteration
        if not 0 <= pitch <= 127:
            raise self._error(match.group(0), match.start(), "notes within MIDI pitches 0-127")
        return pitch

    def _length(self, match: re.Match[str]) -> Fraction:
        """A length in whole notes (units of L: times the written multiplier)."""
        num, slashes, den = match.group("num"), match.group("slashes"), match.group("den")
        if len(num) > 3 or len(den) > 3:
            raise self._error(match.group(0), match.start(), "a length such as 2, /2 or 3/2")
        value = Fraction(int(num) if num else 1)
        if den:
            value /= int(den) or 1
        elif slashes:
            value /= 2 ** len(slashes)
        return value * self.unit

    def _broken(self, match: re.Match[str]) -> None:
        marks = match.group(0)
        if len(set(marks)) != 1 or len(marks) > 3 or not self.notes or self.broken is not None:
            raise self._error(marks, match.start(), "a broken rhythm > or < between two notes")
        short = Fraction(1, 2 ** len(marks))
        first, second = (2 - short, short) if marks[0] == ">" else (short, 2 - short)
        # Only the note as written before the mark changes, not a note tied into it.
        longer = self.written * (first - 1)
        if longer.denominator != 1:
            raise self._error(marks, match.start(), "lengths of whole 16th notes")
        last = self.notes[-1]
        self.notes[-1] = NoteEvent(last.pitch, last.start, last.duration + int(longer))
        self.step += int(longer)
        self.broken = second

    def _add(self, pitch: int | None, whole_notes: Fraction, match: re.Match[str]) -> None:
        steps = whole_notes * 4 * STEPS_PER_QUARTER * (self.broken or 1)
        self.broken = None
        if steps.denominator != 1 or steps < 1:
            raise self._error(match.group(0), match.start(), "lengths of whole 16th notes")
        if self.step + steps > self.max_steps:
            raise self._error(
                match.group(0),
                match.start(),
                f"a seed melody of at most {self.max_steps} 16th notes "
                f"({self.max_steps // 16} bars of 4/4)",
            )
        last = self.notes[-1] if self.notes else None
        # A tie joins two notes of one pitch; rests in a row are one rest, as the
        # corpus reader writes them (one "r", then holds).
        joined = self.tied if pitch is not None else True
        if last is not None and last.pitch == pitch and joined:
            self.notes[-1] = NoteEvent(pitch, last.start, last.duration + int(steps))
        else:
            self.notes.append(NoteEvent(pitch, self.step, int(steps)))
        self.tied = False
        self.written = int(steps)
        self.step += int(steps)

    def _error(self, token: str, position: int, allowed: str) -> InvalidParameter:
        if allowed == "no tuplets":
            allowed = (
                "notes of whole 16ths: tuplets such as (3 are not read in a seed yet "
                "(the model writes 16th notes)"
            )
        return _seed_error(token, position, allowed)


def _seed_error(token: str, position: int, allowed: str) -> InvalidParameter:
    """A refusal naming the seed, the token and where it starts (1-based character)."""
    return InvalidParameter("seed", token, allowed, hint=f"at character {position + 1} of the ABC")


def _abc_key(value: str, position: int) -> Key:
    """``G``, ``Ador``, ``Em``, ``F#m``, ``Bbmix``, ``D dorian`` -> a `Key`."""
    match = re.fullmatch(r"\s*([A-G][#b]?)\s*([A-Za-z]*).*", value)
    if match is None:
        raise _seed_error(f"K:{value}", position, "a key such as K:G, K:Ador or K:Em")
    tonic, mode = match.group(1), match.group(2).lower()
    mode = _ABC_MODES.get(mode, mode[:3])
    try:
        return parse_key(f"{tonic} {mode}")
    except InvalidParameter:
        raise _seed_error(f"K:{value}", position, "a key such as K:G, K:Ador or K:Em") from None


def _fraction(value: str, field: str, position: int) -> Fraction:
    match = re.fullmatch(r"\s*(\d{1,3})/(\d{1,3})\s*", value)
    if match is None or int(match.group(2)) == 0 or int(match.group(1)) == 0:
        raise _seed_error(f"{field}:{value}", position, f"{field}:1/8 or {field}:1/16")
    return Fraction(int(match.group(1)), int(match.group(2)))


def _quarter_bpm(value: str, position: int) -> float:
    """``Q:1/4=120``, ``Q:3/8=110``, ``Q:120`` (quarters) -> quarter notes a minute."""
    match = re.fullmatch(r'\s*(?:"[^"]*"\s*)?(?:(\d{1,2})/(\d{1,2})\s*=\s*)?(\d{1,3})\s*', value)
    if match is None or (match.group(2) is not None and int(match.group(2)) == 0):
        raise _seed_error(f"Q:{value}", position, "a tempo such as Q:1/4=120 or Q:3/8=110")
    beat = Fraction(int(match.group(1)), int(match.group(2))) if match.group(1) else Fraction(1, 4)
    return float(int(match.group(3)) * beat * 4)
