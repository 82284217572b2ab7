"""The time-series melody encoding shared by every part of LSTMuse.

One symbol per 16th-note step:

* a MIDI pitch number (``"60"``) at a note's onset,
* ``"_"`` (HOLD) while the previous note or rest sounds on,
* ``"r"`` (REST) at the onset of a rest,
* ``"/"`` (SONG_END) between songs,
* ``"(3"`` (TRIPLET), opt-in by the vocabulary: three equal notes in the time of
  one quarter (4 steps), ABC's ``(3abc`` of 8ths. The marker takes the group's
  first step and the next three symbols are its three slots (a pitch, ``"r"``
  or ``"_"`` each), sounding at 0, 4/3 and 8/3 steps into the group; so bar
  positions stay 16th steps and a bar has as many symbols as before.
  `decode_symbols` times them exactly (`NoteEvent` times are then `Fraction`
  steps); a marker without three slots after it (a sampler's slip) is read as a
  hold. README "Triplets" gives the measurements that chose this encoding.

This is the seed's encoding, kept compatible; what the seed got wrong (ties
split into onsets, vocabulary order from ``set()``) is fixed in the corpus
reader and in `Vocabulary`.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from lstmuse_core.errors import InvalidParameter

STEPS_PER_QUARTER = 4
HOLD = "_"
REST = "r"
SONG_END = "/"
SPECIAL_SYMBOLS = (SONG_END, HOLD, REST)
TRIPLET = "(3"
# The steps a triplet group lasts and its slots: three 8th-note triplets in one quarter.
TRIPLET_STEPS = 4
TRIPLET_SLOTS = 3
TRIPLET_SLOT = Fraction(TRIPLET_STEPS, TRIPLET_SLOTS)  # 4/3 of a 16th
# A step time: an int on the 16th grid, a Fraction inside a triplet group.
StepTime = int | Fraction


@dataclass(frozen=True)
class NoteEvent:
    """A note (or a rest when ``pitch`` is None), timed in 16th-note steps.

    ``start`` and ``duration`` are ints on the 16th grid; a note of a triplet
    group has `Fraction` times (thirds of a step), exact.
    """

    pitch: int | None
    start: StepTime
    duration: StepTime

    @property
    def end(self) -> StepTime:
        return self.start + self.duration

    @property
    def in_tuplet(self) -> bool:
        """Whether it starts or ends off the 16th grid (inside a triplet group)."""
        return _off_grid(self.start) or _off_grid(self.end)


def _off_grid(time: StepTime) -> bool:
    return isinstance(time, Fraction) and time.denominator != 1


def _exact(time: StepTime) -> StepTime:
    """An int for a time on the grid (so untupleted melodies keep int times)."""
    return int(time) if isinstance(time, Fraction) and time.denominator == 1 else time


def is_pitch(symbol: str) -> bool:
    """True for a note-onset symbol (a MIDI pitch number, ASCII digits only)."""
    return symbol.isascii() and symbol.isdigit()


def encode_notes(notes: Iterable[NoteEvent]) -> list[str]:
    """Encode notes that follow each other (sorted, non-overlapping) as symbols.

    A gap between two notes becomes a rest; a note shorter than one step
    cannot be represented and raises. Notes timed off the 16th grid are
    written as triplet groups (`TRIPLET`) where they fit one: each off-grid
    time must be 4/3 or 8/3 steps into a group that starts on a step and holds
    no other onset; anything else raises ValueError.
    """
    events = list(notes)
    if any(e.in_tuplet for e in events):
        return _encode_with_triplets(events)
    symbols: list[str] = []
    position = 0
    for event in events:
        if event.duration < 1:
            raise ValueError(f"note {event} is shorter than one 16th-note step")
        if event.start < position:
            raise ValueError(f"note {event} overlaps the previous one (ends at step {position})")
        if event.start > position:
            symbols += [REST] + [HOLD] * int(event.start - position - 1)
        onset = REST if event.pitch is None else str(event.pitch)
        symbols += [onset] + [HOLD] * int(event.duration - 1)
        position = int(event.end)
    return symbols


def triplet_group_start(time: Fraction) -> int | None:
    """The step a triplet group starts on when ``time`` (off the grid) is one of its slots."""
    for slot in range(1, TRIPLET_SLOTS):
        start = time - slot * TRIPLET_SLOT
        if start.denominator == 1:
            return int(start)
    return None


def round_ornaments(events: Sequence[NoteEvent]) -> list[NoteEvent]:
    """Notes as the triplet marker can write them: every triplet of 8ths kept exactly,
    every other time off the 16th grid rounded to the nearest step (a half step up).

    What no group holds is an ornament of a note beside it: three 16th-note triplets
    in an 8th (O'Neill's `(3a/b/c/`) become two 16ths, the first and the last; a
    32nd after a dotted 16th (`A3/B/`) gives its time to the note before. A note
    rounded to no length is dropped. A group is a triplet of 8ths when it starts on
    a step and every note start or end inside it is one of its slots.
    """
    times = sorted({time for event in events for time in (event.start, event.end)})
    in_groups: set[StepTime] = set()
    for time in times:
        start = (
            triplet_group_start(time) if isinstance(time, Fraction) and _off_grid(time) else None
        )
        if start is None:
            continue
        inside = {t for t in times if start < t < start + TRIPLET_STEPS}
        if inside <= {start + k * TRIPLET_SLOT for k in range(1, TRIPLET_SLOTS)}:
            in_groups |= inside

    def placed(time: StepTime) -> StepTime:
        if not _off_grid(time) or time in in_groups:
            return time
        return math.floor(time + Fraction(1, 2))

    rounded = [
        NoteEvent(
            event.pitch,
            _exact(placed(event.start)),
            _exact(placed(event.end) - placed(event.start)),
        )
        for event in events
    ]
    return [event for event in rounded if event.duration > 0]


def _encode_with_triplets(events: list[NoteEvent]) -> list[str]:
    onsets: dict[Fraction, str] = {}
    position = Fraction(0)
    for event in events:
        if event.duration <= 0:
            raise ValueError(f"note {event} has no duration")
        if event.start < position:
            raise ValueError(f"note {event} overlaps the previous one (ends at step {position})")
        if event.start > position:
            onsets[Fraction(position)] = REST
        onsets[Fraction(event.start)] = REST if event.pitch is None else str(event.pitch)
        position = Fraction(event.end)
    if position.denominator != 1:
        raise ValueError(f"the melody ends off the 16th grid, at step {position}")
    groups: set[int] = set()
    for time in onsets:
        if time.denominator == 1:
            continue
        start = triplet_group_start(time)
        slots = (
            {start + k * TRIPLET_SLOT for k in range(TRIPLET_SLOTS)} if start is not None else set()
        )
        inside = [t for t in onsets if start is not None and start < t < start + TRIPLET_STEPS]
        if start is None or not slots.issuperset(inside):
            raise ValueError(f"an onset at step {time} is in no triplet of 8ths")
        groups.add(start)
    ordered = sorted(groups)
    if any(b - a < TRIPLET_STEPS for a, b in itertools.pairwise(ordered)):
        raise ValueError("triplet groups overlap")
    symbols: list[str] = []
    step = 0
    while step < position:
        if step in groups:
            written = [onsets.get(step + k * TRIPLET_SLOT, HOLD) for k in range(TRIPLET_SLOTS)]
            symbols += [TRIPLET, *written]
            step += TRIPLET_STEPS
        else:
            symbols.append(onsets.get(Fraction(step), HOLD))
            step += 1
    # A hold straight after a group's rest has nothing else to continue: fine, it holds
    # the rest. A group's first slot "_" holds the note before the group.
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
    if TRIPLET in symbols:
        return _decode_with_triplets(symbols)
    onsets = [step for step, symbol in enumerate(symbols) if symbol != HOLD]
    ends = [*onsets[1:], len(symbols)]
    return [
        NoteEvent(None if symbols[start] == REST else int(symbols[start]), start, end - start)
        for start, end in zip(onsets, ends, strict=True)
    ]


def triplet_groups(symbols: Sequence[str]) -> list[int]:
    """The steps of the well-formed triplet markers: three slots follow, none a marker."""
    found = []
    for step, symbol in enumerate(symbols):
        if symbol == TRIPLET:
            slots = symbols[step + 1 : step + TRIPLET_STEPS]
            if len(slots) == TRIPLET_SLOTS and all(s != TRIPLET and s != SONG_END for s in slots):
                found.append(step)
    # Markers inside an earlier group's slots were excluded above; groups never overlap.
    return found


def symbol_times(symbols: Sequence[str]) -> list[tuple[StepTime, str]]:
    """(time in steps, symbol) of every onset symbol (a pitch or a rest), in order.

    A triplet group's slots sound at thirds of its quarter; a malformed marker
    is read as a hold.
    """
    groups = set(triplet_groups(symbols))
    timed: list[tuple[StepTime, str]] = []
    step = 0
    while step < len(symbols):
        if step in groups:
            for k in range(TRIPLET_SLOTS):
                slot = symbols[step + 1 + k]
                if slot != HOLD:
                    timed.append((_exact(step + k * TRIPLET_SLOT), slot))
            step += TRIPLET_STEPS
            continue
        if symbols[step] not in (HOLD, TRIPLET):
            timed.append((step, symbols[step]))
        step += 1
    return timed


def _decode_with_triplets(symbols: Sequence[str]) -> list[NoteEvent]:
    timed = symbol_times(symbols)
    if timed and timed[0][0] != 0:  # a malformed marker first: the melody starts with a rest
        timed.insert(0, (0, REST))
    ends = [t for t, _ in timed[1:]] + [len(symbols)]
    return [
        NoteEvent(None if symbol == REST else int(symbol), start, _exact(end - start))
        for (start, symbol), end in zip(timed, ends, strict=True)
    ]


# Every symbol a melody may hold; anything else gets `validate_melody`'s detailed message.
_MELODY_SYMBOLS = frozenset([HOLD, REST, TRIPLET, *map(str, range(128))])


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
        elif symbol not in (REST, TRIPLET) and not (is_pitch(symbol) and 0 <= int(symbol) <= 127):
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
    """Index order of a vocabulary: delimiter, hold, rest, pitches upwards, then the triplet.

    The triplet marker sorts last, so a vocabulary without it keeps its indices.
    """
    if symbol in SPECIAL_SYMBOLS:
        return (0, SPECIAL_SYMBOLS.index(symbol))
    if symbol == TRIPLET:
        return (2, 0)
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
