"""What the network reads at each step besides the previous note.

Every step feeds the network nine small integers (all embedded; see
`lstmuse_core.model.network`):

* ``symbol``: the previous symbol (the song delimiter before the first);
* ``meter`` and ``mode``: the bar's time signature (one of the style's own,
  `Conditioning.meters`; a bar of another length in a song that changes meter is
  told its own, `Conditioning.bar_meters`) and the song's mode (`lstmuse_core.music.keys.MODES`), as
  folk-rnn's ``M:6/8`` and ``K:Ddor`` tokens. Embedded inputs rather than
  tokens in the sequence: they hold for every step, cost no steps, and the
  sampler folds them into one constant per melody;
* ``position``: the step's position in its bar (songs start on a bar line);
  all of a song's bars are its meter's length unless it changes meter
  (``bars``: `BarGrid`);
* ``remaining``: how many bars are left, when the length is known
  (`remaining_class`): the network learns to cadence in the last bar of a
  requested length. Half the training songs (drawn anew each epoch) are fed
  "unknown", the free-length case, in which the network ends the song itself;
* ``lookback_1`` / ``lookback_2``: the symbols one and two bars before the
  step, and ``repeats``: whether the previous symbol repeated the one a bar
  and two bars before it (Magenta's Lookback RNN): repeating a figure a bar
  later is one copy for the network, not a pattern to rediscover.

* ``part``: where the step stands in the tune's form (`part_class`): which part
  (A, B, C or later), and whether in its body, its first ending or a later
  ending; 0 for a tune of one line or one not told its length. With a form,
  ``remaining`` counts the bars left in the *part* as played the last time
  (a body is followed by its last ending; a first ending leads on, so it is
  told one bar more), so the network learns to close each part and to
  leave a first ending open: the cadences of a tune's form, learnt from the
  repeat signs and endings of the tunes it reads (`Song.sections`).

``position``, ``remaining``, the lookbacks and ``repeats`` are the *metrical*
inputs; a network without them (``ModelConfig.metrical=False``) reads only
the symbol, meter and mode, which `bench/musical_bench.py` compares. ``part``
is the *form* input (``ModelConfig.form``; bundles trained before it lack it).

`song_inputs` computes a whole song's inputs at once for training and
scoring; the sampler (`lstmuse_core.model.generate`) computes the same
numbers step by step, and a test holds the two to each other.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.keys import MODES
from lstmuse_core.music.meter import MAX_BAR_STEPS, Meter, bar_meters_of

INPUT_NAMES = (
    "symbol",
    "lookback_1",
    "lookback_2",
    "repeats",
    "position",
    "remaining",
    "part",
    "meter",
    "mode",
)
METRICAL_INPUTS = frozenset({"lookback_1", "lookback_2", "repeats", "position", "remaining"})
FORM_INPUTS = frozenset({"part"})
SYMBOL_INPUTS = ("symbol", "lookback_1", "lookback_2")  # they share the symbol embedding

# `remaining`: 0 unknown; 1 the song is over (the delimiter is next); 2 in the
# last bar; 3 one more bar after this one; 4 two more; 5 three or more.
REMAINING_UNKNOWN, REMAINING_OVER, REMAINING_CLASSES = 0, 1, 6


def remaining_class(bar_number: np.ndarray, total_bars: np.ndarray | int) -> np.ndarray:
    """The ``remaining`` input of steps in bar ``bar_number`` (0-based) of ``total_bars`` bars."""
    left = np.asarray(total_bars) - 1 - np.asarray(bar_number)
    return np.where(left < 0, REMAINING_OVER, 2 + np.minimum(np.maximum(left, 0), 3))


@dataclass(frozen=True)
class BarGrid:
    """Which bar each of a song's ``song_steps + 1`` steps is in, and where that bar starts.

    ``bars``: each bar's length in steps for a song whose bars change length
    (`Song.bars`); () for bars of ``bar_steps``. The step after the song (the
    delimiter's) opens one bar more.
    """

    bar_of: np.ndarray  # (steps,) the bar number of each step
    starts: np.ndarray  # (bars + 1,) each bar's first step
    lengths: np.ndarray  # (bars + 1,) each bar's length (the last: bar_steps)

    @classmethod
    def of(cls, song_steps: int, bar_steps: int, bars: Sequence[int] = ()) -> BarGrid:
        t = np.arange(song_steps + 1)
        if not bars:
            count = math.ceil(song_steps / bar_steps)
            starts = np.arange(count + 1) * bar_steps
            return cls(t // bar_steps, starts, np.full(count + 1, bar_steps))
        lengths = np.array([*bars, bar_steps], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths[:-1])])
        return cls(np.searchsorted(starts, t, side="right") - 1, starts, lengths)

    @property
    def total_bars(self) -> int:
        return len(self.starts) - 1

    @property
    def position(self) -> np.ndarray:
        return np.arange(len(self.bar_of)) - self.starts[self.bar_of]

    def bars_back(self, count: int) -> np.ndarray:
        """The step at the same place ``count`` bars earlier, for each step; -1 where there
        is none (before the song, or past the end of a shorter bar)."""
        earlier = self.bar_of - count
        ok = earlier >= 0
        safe = np.where(ok, earlier, 0)
        position = self.position
        ok &= position < self.lengths[safe]
        return np.where(ok, self.starts[safe] + position, -1)


# `part`: 0 one line (or the length not told); else 1 + 3 * part + role, the part
# A, B or C-and-later (0-2) and the role body, first ending, later ending (0-2).
PART_NONE, PART_CLASSES = 0, 10
BODY_ROLE, FIRST_ENDING_ROLE, LATER_ENDING_ROLE = 0, 1, 2


def part_class(part_number: int, role: int) -> int:
    """The ``part`` input of a step in part ``part_number`` (0: A) in ``role``."""
    return 1 + 3 * min(part_number, 2) + role


def has_form(sections: Sequence[Any]) -> bool:
    """Whether a song's sections (`Song.sections`) make a form: more than one part,
    or one part repeated or with endings (else it is one line)."""
    return len(sections) > 1 or any(s.repeated or s.endings for s in sections)


def form_inputs(
    sections: Sequence[Any], song_steps: int, bar_steps: int, bars: Sequence[int] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """``remaining`` and ``part`` of every step of a song told its length, from its
    sections (`lstmuse_core.music.corpus.Section`: label, start, end, endings).

    A body is told the bars left to its end and then its last ending's bars
    (the part as played the last time); a first ending the bars left in it
    plus one (it leads on); a last ending the bars left in it. A song without a
    form gets the bars left in the song and `PART_NONE`.
    """
    grid = BarGrid.of(song_steps, bar_steps, bars)
    bar_of = grid.bar_of
    remaining = remaining_class(bar_of, grid.total_bars).astype(np.int64)
    part = np.full(song_steps + 1, PART_NONE, dtype=np.int64)
    if not has_form(sections):
        return remaining, part

    def bar_before(step: int) -> int:  # the bar of the step before ``step`` (-1 before 0)
        return int(bar_of[min(step, song_steps) - 1]) if step > 0 else -1

    def fill(start: int, end: int, last_bar: int, number: int, role: int) -> None:
        span = slice(max(start, 0), min(end, song_steps))
        remaining[span] = remaining_class(bar_of[span], last_bar + 1)
        part[span] = part_class(number, role)

    for section in sections:
        number = ord(section.label[0]) - ord("A") if section.label else 0
        endings = list(section.endings)
        closing_bars = 0
        if endings:
            last_start, last_end = endings[-1]
            closing_bars = bar_before(last_end) - bar_before(last_start + 1) + 1
        fill(section.start, section.end, bar_before(section.end) + closing_bars, number, 0)
        for k, (start, end) in enumerate(endings):
            later = k == len(endings) - 1 and k > 0
            lead_on = 0 if later else 1
            role = LATER_ENDING_ROLE if later else FIRST_ENDING_ROLE
            fill(start, end, bar_before(end) + lead_on, number, role)
    part[song_steps] = part[song_steps - 1] if song_steps else PART_NONE
    remaining[song_steps] = REMAINING_OVER
    return remaining, part


@dataclass(frozen=True)
class Conditioning:
    """A style's meters and modes with their song counts (its distribution), and the inputs used.

    ``meters`` are `Meter` values; the bundle's ``config.json`` keeps them as
    text (``"6/8"``), parsed by `from_json`. ``bar_meters``: meters only some bars
    of songs that change meter have (a bar of 3/4 in a 2/4 song): the meter input
    tells them, and no request can ask for them.
    """

    meters: Mapping[Meter, int]
    modes: Mapping[str, int]
    metrical: bool = True
    form: bool = False
    bar_meters: tuple[Meter, ...] = ()
    _meter_ids: dict[Meter, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The meter input's values are the meters in one canonical order (bar length,
        # then name), whatever order a JSON file kept them in; then the bars' own.
        def canonical(meters: Iterable[Meter]) -> list[Meter]:
            return sorted(meters, key=lambda m: (m.bar_steps, m.text))

        ordered = canonical(self.meters)
        bar_only = canonical(set(self.bar_meters) - set(ordered))
        object.__setattr__(self, "meters", {m: self.meters[m] for m in ordered})
        object.__setattr__(self, "bar_meters", tuple(bar_only))
        object.__setattr__(self, "modes", {m: self.modes[m] for m in MODES if m in self.modes})
        object.__setattr__(self, "_meter_ids", {m: i for i, m in enumerate([*ordered, *bar_only])})

    @classmethod
    def from_songs(
        cls, songs: Iterable[Any], metrical: bool = True, form: bool = False
    ) -> Conditioning:
        """From `Song`-like values (``meter``, ``mode``, ``bars``)."""
        songs = list(songs)
        meters = Counter(song.meter for song in songs)
        modes = Counter(song.mode for song in songs)
        in_bars = {m for song in songs for m in bar_meters_of(song.meter, song.bars)}
        return cls(dict(meters), dict(modes), metrical, form, tuple(in_bars))

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(
            n
            for n in INPUT_NAMES
            if (self.metrical or n not in METRICAL_INPUTS)
            # The part input refines the bars remaining: it is read with them only.
            and ((self.form and self.metrical) or n not in FORM_INPUTS)
        )

    def categories(self, vocab_size: int) -> dict[str, int]:
        """How many values each input takes (its embedding's rows)."""
        sizes = {
            "symbol": vocab_size,
            "lookback_1": vocab_size,
            "lookback_2": vocab_size,
            "repeats": 4,
            "position": MAX_BAR_STEPS,
            "remaining": REMAINING_CLASSES,
            "part": PART_CLASSES,
            "meter": len(self._meter_ids),
            "mode": len(MODES),
        }
        return {name: sizes[name] for name in self.inputs}

    def meter_id(self, meter: Meter, style: str = "this") -> int:
        if meter not in self._meter_ids:
            raise InvalidParameter(
                "meter", meter.text, f"a meter the {style} model knows: {self.meter_names}"
            )
        return self._meter_ids[meter]

    def knows_bar_meter(self, meter: Meter) -> bool:
        return meter in self._meter_ids

    def bar_meter_ids(self, meter: Meter, bars: Sequence[int]) -> list[int]:
        """The meter input of each bar of a song in ``meter`` whose bars are ``bars``."""
        ids = []
        for bar in bar_meters_of(meter, bars):
            if bar not in self._meter_ids:
                raise InvalidParameter(
                    "meter", bar.text, f"a meter the model knows: {self.meter_names}"
                )
            ids.append(self._meter_ids[bar])
        return ids

    @property
    def meter_names(self) -> str:
        """The meters as a refusal lists them: ``2/4, 6/8, 12/8``."""
        return ", ".join(meter.text for meter in self.meters)

    def mode_id(self, mode: str, style: str = "this") -> int:
        if mode not in self.modes:
            raise InvalidParameter(
                "mode", mode, f"a mode the {style} model knows: {', '.join(self.modes)}"
            )
        return MODES.index(mode)

    def draw(
        self, rng: np.random.Generator, meters: Iterable[Meter] | None = None
    ) -> tuple[Meter, str]:
        """A meter and a mode drawn from the style's own distribution (``meters``: allowed ones)."""
        allowed = [m for m in self.meters if meters is None or m in set(meters)]
        if not allowed:
            raise InvalidParameter("meter", "", f"one of {self.meter_names}")
        meter_counts = np.array([self.meters[m] for m in allowed], dtype=float)
        mode_names = list(self.modes)
        mode_counts = np.array([self.modes[m] for m in mode_names], dtype=float)
        meter = allowed[int(rng.choice(len(allowed), p=meter_counts / meter_counts.sum()))]
        mode = mode_names[int(rng.choice(len(mode_names), p=mode_counts / mode_counts.sum()))]
        return meter, mode

    def to_json(self) -> dict[str, Any]:
        meters = {meter.text: count for meter, count in self.meters.items()}
        return {
            "meters": meters,
            "modes": dict(self.modes),
            "metrical": self.metrical,
            "form": self.form,
            **({"bar_meters": [m.text for m in self.bar_meters]} if self.bar_meters else {}),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Conditioning:
        meters = {Meter.parse(text): count for text, count in data["meters"].items()}
        # Bundles trained before the form input have no "form" key.
        return cls(
            meters,
            dict(data["modes"]),
            bool(data["metrical"]),
            bool(data.get("form", False)),
            tuple(Meter.parse(text) for text in data.get("bar_meters", ())),
        )


def song_inputs(
    song: np.ndarray,
    *,
    bar_steps: int,
    meter_id: int,
    mode_id: int,
    delimiter: int,
    length_known: bool,
    sections: Sequence[Any] = (),
    bars: Sequence[int] = (),
    bar_meter_ids: Sequence[int] = (),
) -> dict[str, np.ndarray]:
    """Every input of a whole song (symbol indices): ``len(song) + 1`` steps each.

    Step ``t`` predicts ``song[t]`` (and step ``len(song)`` the delimiter).
    ``length_known``: feed the bars remaining (the song's length is a whole
    number of bars) and its form (`form_inputs`, from ``sections``); else
    "unknown" and no form. ``bars``: each bar's length for a song whose bars
    change length (`BarGrid`), with ``bar_meter_ids`` the meter input of each.
    """
    song = np.asarray(song, dtype=np.int64)
    steps = len(song) + 1
    t = np.arange(steps)
    grid = BarGrid.of(len(song), bar_steps, bars)
    padded = np.concatenate([song, [delimiter]])  # index len(song): "nothing there"
    nothing = len(song)

    def at(offsets: np.ndarray) -> np.ndarray:
        return np.asarray(padded[np.where(offsets >= 0, offsets, nothing)])

    previous = at(t - 1)
    previous[0] = delimiter
    back = {count: grid.bars_back(count) for count in (1, 2)}
    repeats = np.zeros(steps, dtype=np.int64)
    for flag, count in ((1, 1), (2, 2)):
        # The previous step's symbol against the same place ``count`` bars before it.
        earlier = np.concatenate([[-1], back[count][:-1]])
        repeats += flag * ((earlier >= 0) & (previous == at(earlier)))
    if length_known:
        remaining, part = form_inputs(sections, len(song), bar_steps, bars)
    else:
        remaining, part = np.full(steps, REMAINING_UNKNOWN), np.full(steps, PART_NONE)
    meter = np.full(steps, meter_id, dtype=np.int64)
    if bars:
        ids = np.array([*bar_meter_ids, meter_id], dtype=np.int64)
        meter = ids[grid.bar_of]
    return {
        "symbol": previous,
        "lookback_1": at(back[1]),
        "lookback_2": at(back[2]),
        "repeats": repeats,
        "position": np.minimum(grid.position, MAX_BAR_STEPS - 1),
        "remaining": remaining.astype(np.int64),
        "part": part.astype(np.int64),
        "meter": meter,
        "mode": np.full(steps, mode_id, dtype=np.int64),
    }
