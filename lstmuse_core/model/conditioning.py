"""What the network reads at each step besides the previous note.

Every step feeds the network eight small integers (all embedded; see
`lstmuse_core.model.network`):

* ``symbol``: the previous symbol (the song delimiter before the first);
* ``meter`` and ``mode``: the song's time signature (one of the style's own,
  `Conditioning.meters`) and mode (`lstmuse_core.music.keys.MODES`), as
  folk-rnn's ``M:6/8`` and ``K:Ddor`` tokens. Embedded inputs rather than
  tokens in the sequence: they hold for every step, cost no steps, and the
  sampler folds them into one constant per melody;
* ``position``: the step's position in its bar (songs start on a bar line);
* ``remaining``: how many bars are left, when the length is known
  (`remaining_class`): the network learns to cadence in the last bar of a
  requested length. Half the training songs (drawn anew each epoch) are fed
  "unknown", the free-length case, in which the network ends the song itself;
* ``lookback_1`` / ``lookback_2``: the symbols one and two bars before the
  step, and ``repeats``: whether the previous symbol repeated the one a bar
  and two bars before it (Magenta's Lookback RNN): repeating a figure a bar
  later is one copy for the network, not a pattern to rediscover.

``position``, ``remaining``, the lookbacks and ``repeats`` are the *metrical*
inputs; a network without them (``ModelConfig.metrical=False``) reads only
the symbol, meter and mode, which `bench/musical_bench.py` compares.

`song_inputs` computes a whole song's inputs at once for training and
scoring; the sampler (`lstmuse_core.model.generate`) computes the same
numbers step by step, and a test holds the two to each other.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.keys import MODES
from lstmuse_core.music.meter import MAX_BAR_STEPS, Meter

INPUT_NAMES = (
    "symbol",
    "lookback_1",
    "lookback_2",
    "repeats",
    "position",
    "remaining",
    "meter",
    "mode",
)
METRICAL_INPUTS = frozenset({"lookback_1", "lookback_2", "repeats", "position", "remaining"})
SYMBOL_INPUTS = ("symbol", "lookback_1", "lookback_2")  # they share the symbol embedding

# `remaining`: 0 unknown; 1 the song is over (the delimiter is next); 2 in the
# last bar; 3 one more bar after this one; 4 two more; 5 three or more.
REMAINING_UNKNOWN, REMAINING_OVER, REMAINING_CLASSES = 0, 1, 6


def remaining_class(bar_number: np.ndarray, total_bars: np.ndarray | int) -> np.ndarray:
    """The ``remaining`` input of steps in bar ``bar_number`` (0-based) of ``total_bars`` bars."""
    left = np.asarray(total_bars) - 1 - np.asarray(bar_number)
    return np.where(left < 0, REMAINING_OVER, 2 + np.minimum(np.maximum(left, 0), 3))


def known_remaining(song_steps: int, bar_steps: int) -> np.ndarray:
    """The ``remaining`` input of every step of a song told its length (``song_steps + 1``)."""
    t = np.arange(song_steps + 1)
    return remaining_class(t // bar_steps, math.ceil(song_steps / bar_steps)).astype(np.int64)


@dataclass(frozen=True)
class Conditioning:
    """A style's meters and modes with their song counts (its distribution), and the inputs used.

    ``meters`` are `Meter` values; the bundle's ``config.json`` keeps them as
    text (``"6/8"``), parsed by `from_json`.
    """

    meters: Mapping[Meter, int]
    modes: Mapping[str, int]
    metrical: bool = True
    _meter_ids: dict[Meter, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The meter input's values are the meters in one canonical order (bar length,
        # then name), whatever order a JSON file kept them in.
        ordered = sorted(self.meters, key=lambda m: (m.bar_steps, m.text))
        object.__setattr__(self, "meters", {m: self.meters[m] for m in ordered})
        object.__setattr__(self, "modes", {m: self.modes[m] for m in MODES if m in self.modes})
        object.__setattr__(self, "_meter_ids", {m: i for i, m in enumerate(ordered)})

    @classmethod
    def from_songs(cls, songs: Iterable[Any], metrical: bool = True) -> Conditioning:
        """From `Song`-like values (``meter``, ``mode``)."""
        songs = list(songs)
        meters = Counter(song.meter for song in songs)
        modes = Counter(song.mode for song in songs)
        return cls(dict(meters), dict(modes), metrical)

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(n for n in INPUT_NAMES if self.metrical or n not in METRICAL_INPUTS)

    def categories(self, vocab_size: int) -> dict[str, int]:
        """How many values each input takes (its embedding's rows)."""
        sizes = {
            "symbol": vocab_size,
            "lookback_1": vocab_size,
            "lookback_2": vocab_size,
            "repeats": 4,
            "position": MAX_BAR_STEPS,
            "remaining": REMAINING_CLASSES,
            "meter": len(self.meters),
            "mode": len(MODES),
        }
        return {name: sizes[name] for name in self.inputs}

    def meter_id(self, meter: Meter, style: str = "this") -> int:
        if meter not in self._meter_ids:
            raise InvalidParameter(
                "meter", meter.text, f"a meter the {style} model knows: {self.meter_names}"
            )
        return self._meter_ids[meter]

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
        return {"meters": meters, "modes": dict(self.modes), "metrical": self.metrical}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Conditioning:
        meters = {Meter.parse(text): count for text, count in data["meters"].items()}
        return cls(meters, dict(data["modes"]), bool(data["metrical"]))


def song_inputs(
    song: np.ndarray,
    *,
    bar_steps: int,
    meter_id: int,
    mode_id: int,
    delimiter: int,
    length_known: bool,
) -> dict[str, np.ndarray]:
    """Every input of a whole song (symbol indices): ``len(song) + 1`` steps each.

    Step ``t`` predicts ``song[t]`` (and step ``len(song)`` the delimiter).
    ``length_known``: feed the bars remaining (the song's length is a whole
    number of bars); else "unknown".
    """
    song = np.asarray(song, dtype=np.int64)
    steps = len(song) + 1
    t = np.arange(steps)
    padded = np.concatenate([song, [delimiter]])  # index len(song): "nothing there"
    nothing = len(song)

    def at(offsets: np.ndarray) -> np.ndarray:
        return np.asarray(padded[np.where(offsets >= 0, offsets, nothing)])

    previous = at(t - 1)
    previous[0] = delimiter
    repeats = np.zeros(steps, dtype=np.int64)
    for flag, bars in ((1, 1), (2, 2)):
        earlier = t - 1 - bars * bar_steps
        repeats += flag * ((earlier >= 0) & (previous == at(earlier)))
    if length_known:
        remaining = known_remaining(len(song), bar_steps)
    else:
        remaining = np.full(steps, REMAINING_UNKNOWN)
    return {
        "symbol": previous,
        "lookback_1": at(t - bar_steps),
        "lookback_2": at(t - 2 * bar_steps),
        "repeats": repeats,
        "position": t % bar_steps,
        "remaining": remaining.astype(np.int64),
        "meter": np.full(steps, meter_id, dtype=np.int64),
        "mode": np.full(steps, mode_id, dtype=np.int64),
    }
