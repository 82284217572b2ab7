"""The time-series melody encoding shared by every part of LSTMuse.

One symbol per 16th-note step:

* a MIDI pitch number (``"60"``) at a note's onset,
* ``"_"`` (HOLD) while the previous note or rest sounds on,
* ``"r"`` (REST) at the onset of a rest,
* ``"/"`` (SONG_END) between songs.

This is the seed's encoding, kept compatible; what the seed got wrong (ties
split into onsets, vocabulary order from ``set()``) is fixed in the corpus
reader and in `Vocabulary`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstmuse_core.errors import InvalidParameter

STEPS_PER_QUARTER = 4
HOLD = "_"
REST = "r"
SONG_END = "/"
SPECIAL_SYMBOLS = (SONG_END, HOLD, REST)


@dataclass(frozen=True)
class NoteEvent:
    """A note (or a rest when ``pitch`` is None), timed in 16th-note steps."""

    pitch: int | None
    start: int
    duration: int

    @property
    def end(self) -> int:
        return self.start + self.duration


def is_pitch(symbol: str) -> bool:
    """True for a note-onset symbol (a MIDI pitch number, ASCII digits only)."""
    return symbol.isascii() and symbol.isdigit()


def encode_notes(notes: Iterable[NoteEvent]) -> list[str]:
    """Encode notes that follow each other (sorted, non-overlapping) as symbols.

    A gap between two notes becomes a rest; a note shorter than one step
    cannot be represented and raises.
    """
    symbols: list[str] = []
    position = 0
    for event in notes:
        if event.duration < 1:
            raise ValueError(f"note {event} is shorter than one 16th-note step")
        if event.start < position:
            raise ValueError(f"note {event} overlaps the previous one (ends at step {position})")
        if event.start > position:
            symbols += [REST] + [HOLD] * (event.start - position - 1)
        onset = REST if event.pitch is None else str(event.pitch)
        symbols += [onset] + [HOLD] * (event.duration - 1)
        position = event.end
    return symbols


def decode_symbols(symbols: Sequence[str]) -> list[NoteEvent]:
    """Decode one melody's symbols back into notes and rests.

    Raises `InvalidParameter` for a sequence no melody can have: a hold with
    nothing to hold, a song delimiter inside the melody, an unknown symbol.
    """
    validate_melody(symbols)
    return decode_checked_symbols(symbols)


def decode_checked_symbols(symbols: Sequence[str]) -> list[NoteEvent]:
    """`decode_symbols` for symbols `validate_melody` has passed (a `Melody`'s): no second check."""
    onsets = [step for step, symbol in enumerate(symbols) if symbol != HOLD]
    ends = [*onsets[1:], len(symbols)]
    return [
        NoteEvent(None if symbols[start] == REST else int(symbols[start]), start, end - start)
        for start, end in zip(onsets, ends, strict=True)
    ]


# Every symbol a melody may hold; anything else gets `validate_melody`'s detailed message.
_MELODY_SYMBOLS = frozenset([HOLD, REST, *map(str, range(128))])


def validate_melody(symbols: Sequence[str], parameter: str = "melody") -> None:
    """Raise `InvalidParameter` unless ``symbols`` is a well-formed single melody."""
    try:  # the common case in one pass over a set; the loop below names what is wrong
        if (not symbols or symbols[0] != HOLD) and _MELODY_SYMBOLS.issuperset(symbols):
            return
    except TypeError:  # an unhashable symbol
        pass
    for position, symbol in enumerate(symbols, start=1):
        if not isinstance(symbol, str):
            raise InvalidParameter(
                parameter,
                symbol,
                "symbols are strings: MIDI pitches '0'-'127', '_' (hold) or 'r' (rest)",
                hint=f"symbol {position}",
            )
        if symbol == HOLD:
            if position == 1:
                raise InvalidParameter(
                    parameter,
                    symbol,
                    "a melody cannot start with a hold '_'",
                    hint="start with a pitch number such as 60 or a rest 'r'",
                )
        elif symbol == SONG_END:
            raise InvalidParameter(
                parameter,
                symbol,
                "the song delimiter '/' cannot appear inside a melody",
                hint=f"symbol {position}",
            )
        elif symbol != REST and not (is_pitch(symbol) and 0 <= int(symbol) <= 127):
            raise InvalidParameter(
                parameter,
                symbol,
                "symbols are MIDI pitches 0-127, '_' (hold) or 'r' (rest)",
                hint=f"symbol {position}",
            )


def transpose_symbols(symbols: Iterable[str], semitones: int) -> list[str]:
    """Shift every pitch symbol by ``semitones``; other symbols are kept."""
    if semitones == 0:
        return list(symbols)
    return [str(int(s) + semitones) if is_pitch(s) else s for s in symbols]


def melody_pitches(symbols: Iterable[str]) -> list[int]:
    """The MIDI pitches of a melody's note onsets, in order."""
    return [int(s) for s in symbols if is_pitch(s)]


def symbol_sort_key(symbol: str) -> tuple[int, int]:
    """Index order of a vocabulary: delimiter, hold, rest, then pitches upwards."""
    if symbol in SPECIAL_SYMBOLS:
        return (0, SPECIAL_SYMBOLS.index(symbol))
    return (1, int(symbol))


class Vocabulary:
    """The symbols a model knows, in a fixed index order stored with the model.

    The order is derived from the symbols themselves (`symbol_sort_key`), so
    the same songs always give the same indices (the seed used ``set()``
    order, which changed from run to run).
    """

    def __init__(self, symbols: Sequence[str]) -> None:
        if len(set(symbols)) != len(symbols):
            raise ValueError("vocabulary symbols must be unique")
        missing = [s for s in SPECIAL_SYMBOLS if s not in symbols]
        if missing:
            raise ValueError(f"vocabulary lacks the special symbols {missing}")
        self.symbols: tuple[str, ...] = tuple(symbols)
        self.index = {symbol: i for i, symbol in enumerate(self.symbols)}
        # Decoding is one array lookup (a melody of 512 symbols: 125 -> 10 us).
        self._symbol_array = np.array(self.symbols, dtype=object)

    @classmethod
    def from_songs(cls, songs: Iterable[Sequence[str]]) -> Vocabulary:
        seen: set[str] = set(SPECIAL_SYMBOLS)
        for song in songs:
            seen.update(song)
        return cls(sorted(seen, key=symbol_sort_key))

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self.index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.symbols == other.symbols

    def __hash__(self) -> int:
        return hash(self.symbols)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} symbols)"

    @property
    def pitches(self) -> list[int]:
        return [int(s) for s in self.symbols if is_pitch(s)]

    def encode(self, symbols: Iterable[str]) -> np.ndarray:
        """Symbols -> int32 indices; raises KeyError naming an unknown symbol."""
        try:
            return np.fromiter((self.index[s] for s in symbols), dtype=np.int32)
        except KeyError as error:
            raise KeyError(f"symbol {error.args[0]!r} is not in the vocabulary") from None

    def decode(self, indices: Iterable[int]) -> list[str]:
        """Indices -> symbols; raises IndexError for an index past the vocabulary."""
        array = indices if isinstance(indices, np.ndarray) else np.fromiter(indices, np.intp)
        symbols: list[str] = self._symbol_array[array].tolist()
        return symbols

    def to_json(self) -> str:
        return json.dumps(list(self.symbols))

    def save(self, path: Path) -> None:
        path.write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        symbols = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
            raise ValueError(f"{path} is not a JSON list of symbols")
        return cls(symbols)
