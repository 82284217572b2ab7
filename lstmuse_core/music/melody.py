"""`Melody`: one melody as a value, checked once, then trusted everywhere.

A melody is its symbols (one per 16th-note step, see `lstmuse_core.music.encoding`),
its `Meter` (3/4) and the key its symbols are in. The constructor refuses
anything malformed with an `InvalidParameter`; MIDI, audio and pictures take
a `Melody` and never check its symbols again.

Keys: the models sing in C major / A minor (``key=None``). A requested key
moves them by `Key.transposition` (`Melody.from_model`), and the melody then
knows that key. Keys that share a signature (D major, B minor) share a shift,
as the model cannot tell them apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.encoding import (
    NoteEvent,
    decode_checked_symbols,
    is_pitch,
    melody_pitches,
    transpose_symbols,
    validate_melody,
)
from lstmuse_core.music.keys import Key, parse_key
from lstmuse_core.music.meter import COMMON_TIME, Meter
from lstmuse_core.music.pitch import tonic_name

MODEL_KEY_NAME = "C major / A minor"


@dataclass(frozen=True, init=False)
class Melody:
    """Symbols, meter and key of one melody, well-formed by construction.

    ``symbols``: a tuple, one symbol per 16th-note step (pitches 0-127, ``_``,
    ``r``; no ``/``; no leading hold); ``meter``: its `Meter`; ``key``: the
    key the symbols are in, None for the model's own key space (C major /
    A minor). The constructor accepts any iterable of symbols, a meter as
    text (``"6/8"``, parsed here) or a `Meter`, and a key name (``"Bb"``,
    ``"E minor"``) or a `Key`.
    """

    symbols: tuple[str, ...]
    meter: Meter
    key: Key | None

    def __init__(
        self,
        symbols: Iterable[str],
        meter: Meter | str = COMMON_TIME,
        key: Key | str | None = None,
    ) -> None:
        symbols = tuple(symbols)
        validate_melody(symbols)
        if isinstance(meter, str):
            meter = Meter.parse(meter)
        elif not isinstance(meter, Meter):
            raise InvalidParameter("meter", meter, "a Meter or a time signature such as 6/8")
        if isinstance(key, str):
            key = parse_key(key)
        elif key is not None and not isinstance(key, Key):
            raise InvalidParameter("key", key, "a key such as C, Bb or 'E minor', or None")
        object.__setattr__(self, "symbols", symbols)
        object.__setattr__(self, "meter", meter)
        object.__setattr__(self, "key", key)

    @classmethod
    def from_model(
        cls, symbols: Iterable[str], meter: Meter | str = COMMON_TIME, key: Key | str | None = None
    ) -> Melody:
        """A melody as the model sang it (C major / A minor), moved into ``key``."""
        if isinstance(key, str):
            key = parse_key(key)
        shift = key.transposition if key is not None else 0
        return cls(transpose_symbols(symbols, shift), meter, key)

    def __len__(self) -> int:
        return len(self.symbols)

    @property
    def text(self) -> str:
        """The symbols as one space-separated string (``"60 _ 62 r"``)."""
        return " ".join(self.symbols)

    @property
    def key_name(self) -> str:
        """``"D major"``, ``"B minor"``; ``"C major / A minor"`` for the model's key space."""
        return self.key.name if self.key is not None else MODEL_KEY_NAME

    @property
    def transposition(self) -> int:
        """Semitones from the model's key space to the symbols' key."""
        return self.key.transposition if self.key is not None else 0

    @property
    def pitches(self) -> list[int]:
        """The MIDI pitches of the note onsets, in order."""
        return melody_pitches(self.symbols)

    @cached_property
    def notes(self) -> tuple[NoteEvent, ...]:
        """Notes and rests (pitch None), timed in steps; decoded once."""
        return tuple(decode_checked_symbols(self.symbols))

    @property
    def has_notes(self) -> bool:
        return any(is_pitch(s) for s in self.symbols)

    def in_key(self, key: Key | str | None) -> Melody:
        """This melody moved into ``key`` (None: back to the model's key space)."""
        if isinstance(key, str):
            key = parse_key(key)
        target = key.transposition if key is not None else 0
        return Melody(transpose_symbols(self.symbols, target - self.transposition), self.meter, key)

    def transposed(self, semitones: int) -> Melody:
        """This melody ``semitones`` higher (lower if negative), its key moved with it.

        Raises `InvalidParameter` (``transpose``) for a shift that is not a
        whole number or that takes a note outside MIDI pitches 0-127.
        """
        if isinstance(semitones, bool) or not isinstance(semitones, int):
            raise InvalidParameter("transpose", semitones, "a whole number of semitones")
        if semitones == 0:
            return self
        pitches = self.pitches
        if pitches and (min(pitches) + semitones < 0 or max(pitches) + semitones > 127):
            raise InvalidParameter(
                "transpose",
                semitones,
                "a shift that keeps every note within MIDI pitches 0-127",
                hint=f"the melody spans {min(pitches)}-{max(pitches)}",
            )
        return Melody(
            transpose_symbols(self.symbols, semitones), self.meter, _moved_key(self.key, semitones)
        )


def _moved_key(key: Key | None, semitones: int) -> Key | None:
    """``key`` moved by ``semitones``; the model's key space moves to a major key."""
    if semitones % 12 == 0:
        return key
    if key is None:
        return Key(tonic_name(semitones, minor=False), "major")
    return Key(tonic_name(key.tonic_pitch_class + semitones, key.minor), key.mode)
