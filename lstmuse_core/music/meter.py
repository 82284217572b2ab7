"""Meter: time signatures, where the bar is, and which beats are strong.

A meter is written ``N/D`` (``"6/8"``); on the 16th-note grid a bar is
``N * 16 / D`` steps. Simple meters count beats of ``1/D`` (3/4: three
quarters); compound ones (a numerator of 6, 9, 12 or 15: 6/8, 9/8, 12/8,
15/8, 6/4) count dotted beats of three ``1/D`` units, as a musician counts
them: 6/8 has two dotted-quarter beats, 15/8 five, 6/4 two dotted halves.

Strong positions are where a melody's weight falls: the downbeat and every
other beat of a simple meter (1 and 3 of 4/4; 1 of 2/4 and 3/4 plus beat 3,
which a long note seldom starts on), and every main beat of a compound one
(1 and 4 of 6/8). A *long* note is two beats of a simple meter (a half note
in 2/4-4/4) or one beat of a compound one (a dotted quarter in 6/8): those
are the notes whose placement shows the meter (`lstmuse_core.music.musicality`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.encoding import STEPS_PER_QUARTER, is_pitch

METER_ALLOWED = "beats/beat-unit such as 4/4, 3/4 or 6/8: 1-16 beats, a unit of 2, 4, 8 or 16"
# The longest bar a model's position-in-bar input covers (2 whole notes: 4/2, 8/4, 16/8).
MAX_BAR_STEPS = 32
_STEPS_PER_WHOLE = 4 * STEPS_PER_QUARTER


def _allowed(numerator: int, denominator: int) -> bool:
    """1-16 beats of a 2, 4, 8 or 16 unit (whole numbers, not booleans)."""
    whole = type(numerator) is int and type(denominator) is int
    return whole and 1 <= numerator <= 16 and denominator in (2, 4, 8, 16)


@dataclass(frozen=True)
class Meter:
    """A time signature and what follows from it on the 16th-note grid.

    Numerator 1-16, denominator 2, 4, 8 or 16, checked on construction:
    every bar is then a whole number of 16th-note steps (1 to 128), and no
    single bar can make a request that looks short cost thousands of steps.
    Text (``"6/8"``) becomes a `Meter` once, by `Meter.parse`, where it
    enters: a typed option, a JSON payload or result, a corpus file, a
    bundle's config.
    """

    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if not _allowed(self.numerator, self.denominator):
            raise InvalidParameter("meter", f"{self.numerator}/{self.denominator}", METER_ALLOWED)

    @classmethod
    def parse(cls, text: str, parameter: str = "meter") -> Meter:
        """``"6/8"`` -> ``Meter(6, 8)``; anything else is refused naming ``parameter``."""
        match = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{1,2})\s*", str(text))
        if match and _allowed(int(match[1]), int(match[2])):
            return cls(int(match[1]), int(match[2]))
        raise InvalidParameter(parameter, text, METER_ALLOWED)

    @property
    def text(self) -> str:
        return f"{self.numerator}/{self.denominator}"

    def __str__(self) -> str:
        return self.text

    @property
    def bar_steps(self) -> int:
        return self.numerator * _STEPS_PER_WHOLE // self.denominator

    @property
    def compound(self) -> bool:
        """Whether beats are dotted: three ``1/D`` units each (a numerator of 6, 9, 12, 15)."""
        return self.numerator in (6, 9, 12, 15) and self.denominator >= 4

    @property
    def beat_steps(self) -> int:
        """One counted beat in steps (a dotted beat in a compound meter)."""
        unit = _STEPS_PER_WHOLE // self.denominator
        return 3 * unit if self.compound else unit

    @property
    def beats(self) -> int:
        return self.bar_steps // self.beat_steps

    @cached_property
    def strong_positions(self) -> frozenset[int]:
        """Positions in the bar (steps from the bar line) that count as strong."""
        every = 1 if self.compound else 2
        return frozenset(range(0, self.bar_steps, every * self.beat_steps))

    @property
    def long_note_steps(self) -> int:
        """The shortest note whose placement shows the meter (see the module docstring)."""
        return self.beat_steps if self.compound else min(2 * self.beat_steps, self.bar_steps)

    def is_strong(self, step: int | Fraction) -> bool:
        """Whether song step ``step`` (0: a bar line) falls on a strong position."""
        return step % self.bar_steps in self.strong_positions

    @property
    def fits_model(self) -> bool:
        """Whether a bar fits the network's position input (at most `MAX_BAR_STEPS`)."""
        return 1 <= self.bar_steps <= MAX_BAR_STEPS and (
            self.numerator * _STEPS_PER_WHOLE % self.denominator == 0
        )


def bar_meter(steps: int, written: Meter) -> Meter:
    """The meter of one bar of ``steps`` 16ths in a song written in ``written``.

    A bar of the written length is in it; another is counted in the written unit
    where it is whole units (a bar of 12 in 2/4: 3/4), else in quarters, 8ths or 16ths (10 in
    2/4: 5/8). ``steps`` is 1 to 256.
    """
    if steps == written.bar_steps:
        return written
    for denominator in (written.denominator, 4, 8, 16):
        numerator, left = divmod(steps * denominator, _STEPS_PER_WHOLE)
        if not left and _allowed(numerator, denominator):
            return Meter(numerator, denominator)
    raise InvalidParameter("bar", f"{steps} sixteenths", "a bar of 1 to 256 sixteenths")


def bar_meters_of(meter: Meter, bars: Sequence[int]) -> list[Meter]:
    """The meter of each bar of a song in ``meter`` whose bars are ``bars`` long (`bar_meter`)."""
    return [bar_meter(steps, meter) for steps in bars]


def bar_lines(song_steps: int, bar_steps: int, bars: Sequence[int] = ()) -> list[int]:
    """The step of every bar line of a song, 0 first: every ``bar_steps``, or after each
    of ``bars`` (each bar's length, for a song whose bars change length)."""
    if not bars:
        return list(range(0, song_steps, bar_steps))
    starts = [0]
    for length in bars[:-1]:
        starts.append(starts[-1] + length)
    return [s for s in starts if s < song_steps]


COMMON_TIME = Meter(4, 4)  # the meter of a melody or request that names none


def pickup_steps(symbols: Sequence[str], meter: Meter) -> int:
    """The pickup (anacrusis) before the first bar line, in steps: from the first note to
    the end of the first bar when that note falls inside it, off the bar line; else 0."""
    first = next((step for step, symbol in enumerate(symbols) if is_pitch(symbol)), 0)
    return meter.bar_steps - first if 0 < first < meter.bar_steps else 0


def describe_length(steps: int, seed_steps: int, meter: Meter, pickup: int = 0) -> str:
    """A melody's length as a musician reads it, ``8 bars of 3/4``.

    With a seed, the bars counted are those after the seed's last bar line,
    as ``bars=`` asks for them: ``8 bars of 3/4 after a 2-bar seed``; a seed
    that ends inside a bar (a pickup) is told in beats, or in sixteenths
    where it is not whole beats, and its bar is named: ``4 bars of 6/8 after
    the bar of a 1-beat seed``. A length that is not whole bars shows one
    decimal (``7.5 bars``). A melody without a seed that opens with a ``pickup``
    (`pickup_steps`) counts its bars after it, as players count them: ``7 bars
    of 6/8 after a 1-eighth pickup``.
    """
    bar = meter.bar_steps
    if pickup and not seed_steps:
        return f"{_bars(steps / bar - 1)} of {meter} after a {_short_length(pickup, meter)} pickup"
    seed_bars = -(-seed_steps // bar)  # the bars the seed reaches into
    text = f"{_bars(steps / bar - seed_bars)} of {meter}"
    if seed_steps % bar == 0:
        return text + (f" after a {seed_bars}-bar seed" if seed_steps else "")
    beat = meter.beat_steps
    seed = f"{seed_steps // beat}-beat" if seed_steps % beat == 0 else f"{seed_steps}-sixteenth"
    where = "the bar" if seed_bars == 1 else f"the {seed_bars} bars"
    return f"{text} after {where} of a {seed} seed"


def _short_length(steps: int, meter: Meter) -> str:
    """``1-beat``, ``1-eighth``, ``3-sixteenth``: in beats, else in the meter's unit."""
    unit = _STEPS_PER_WHOLE // meter.denominator
    names = {1: "sixteenth", 2: "eighth", 4: "quarter", 8: "half"}
    if steps % meter.beat_steps == 0:
        return f"{steps // meter.beat_steps}-beat"
    if steps % unit == 0 and unit in names:
        return f"{steps // unit}-{names[unit]}"
    return f"{steps}-sixteenth"


def _bars(bars: float) -> str:
    """``8 bars``, ``1 bar``, ``7.5 bars``."""
    whole = abs(bars - round(bars)) < 1e-9
    if whole:
        return "1 bar" if round(bars) == 1 else f"{round(bars)} bars"
    return f"{bars:.1f} bars"
