"""Meters: beats and strong positions as musicians count them; lengths in their words."""

from __future__ import annotations

import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.meter import Meter, describe_length, pickup_steps


@pytest.mark.parametrize(
    ("steps", "seed_steps", "meter", "expected"),
    [
        (96, 0, "3/4", "8 bars of 3/4"),
        (12, 0, "6/8", "1 bar of 6/8"),
        (120, 0, "4/4", "7.5 bars of 4/4"),
        (120, 24, "3/4", "8 bars of 3/4 after a 2-bar seed"),
        # A pickup seed: the bars asked for start at the next bar line.
        (60, 4, "3/4", "4 bars of 3/4 after the bar of a 1-beat seed"),
        (36, 6, "6/8", "2 bars of 6/8 after the bar of a 1-beat seed"),  # a dotted beat
        (96, 24, "4/4", "4 bars of 4/4 after the 2 bars of a 6-beat seed"),
        (48, 3, "4/4", "2 bars of 4/4 after the bar of a 3-sixteenth seed"),
    ],
)
def test_bars_are_counted_after_the_seed_bar_and_the_seed_in_its_own_unit(
    steps: int, seed_steps: int, meter: str, expected: str
) -> None:
    assert describe_length(steps, seed_steps, Meter.parse(meter)) == expected


@pytest.mark.parametrize(
    ("opening", "meter", "pickup", "expected"),
    [
        (["r"] + ["_"] * 9 + ["62", "_"], "6/8", 2, "7 bars of 6/8 after a 1-eighth pickup"),
        (["r", "_", "_", "_", "_", "_", "62"], "6/8", 6, "7 bars of 6/8 after a 1-beat pickup"),
        (["r"] * 12 + ["67"], "4/4", 4, "7 bars of 4/4 after a 1-beat pickup"),
        (["r"] * 15 + ["67"], "4/4", 1, "7 bars of 4/4 after a 1-sixteenth pickup"),
        (["67"], "6/8", 0, "8 bars of 6/8"),  # on the bar line: no pickup
        (["r"] * 12 + ["67"], "6/8", 0, "8 bars of 6/8"),  # a whole bar of rest is no pickup
    ],
)
def test_a_pickup_is_counted_outside_the_bars(
    opening: list[str], meter: str, pickup: int, expected: str
) -> None:
    """Eight bars whose first note falls inside the first bar: the bars after the pickup."""
    bar = Meter.parse(meter).bar_steps
    symbols = [*opening, *["_"] * (8 * bar - len(opening))]
    assert pickup_steps(symbols, Meter.parse(meter)) == pickup
    assert describe_length(len(symbols), 0, Meter.parse(meter), pickup) == expected


def test_a_meter_is_read_from_text_once_and_knows_its_bar() -> None:
    """Meter.parse reads "N/D" (spaces allowed) into the value; a bar is N * 16 / D steps."""
    assert Meter.parse(" 6 / 8 ") == Meter(6, 8) and Meter(6, 8).text == str(Meter(6, 8)) == "6/8"
    meters = ("4/4", "3/4", "6/8", "2/2", "7/8")
    assert [Meter.parse(m).bar_steps for m in meters] == [16, 12, 12, 16, 14]


@pytest.mark.parametrize("text", ["5/5", "0/4", "17/8", "4/1", "three four", "4/4/4", ""])
def test_a_meter_that_is_no_time_signature_is_refused_by_name(text: str) -> None:
    """Text that is not 1-16 beats of 2, 4, 8 or 16 is refused naming the parameter given."""
    with pytest.raises(InvalidParameter) as raised:
        Meter.parse(text, "seed_meter")
    assert raised.value.parameter == "seed_meter"
    with pytest.raises(InvalidParameter, match=r"^meter="):
        Meter.parse(text)


@pytest.mark.parametrize(("numerator", "denominator"), [(5, 5), (0, 4), (17, 8), (4, 1), (True, 4)])
def test_a_meter_is_checked_when_made_from_numbers(numerator: int, denominator: int) -> None:
    """Meter(N, D) refuses what parse refuses, so every Meter is a valid one."""
    with pytest.raises(InvalidParameter, match=r"^meter="):
        Meter(numerator, denominator)


@pytest.mark.parametrize(
    ("meter", "beat_steps", "beats", "strong"),
    [
        ("4/4", 4, 4, (0, 8)),
        ("3/4", 4, 3, (0, 8)),
        ("6/8", 6, 2, (0, 6)),
        ("9/8", 6, 3, (0, 6, 12)),
        ("12/8", 6, 4, (0, 6, 12, 18)),
        ("15/8", 6, 5, (0, 6, 12, 18, 24)),  # five dotted quarters, not fifteen eighths
        ("6/4", 12, 2, (0, 12)),  # two dotted halves, not six quarters
        ("5/8", 2, 5, (0, 4, 8)),  # not a multiple of three: simple
        ("3/8", 2, 3, (0, 4)),
    ],
)
def test_beats_are_counted_as_a_musician_counts_them(
    meter: str, beat_steps: int, beats: int, strong: tuple[int, ...]
) -> None:
    """Compound meters beat in dotted units (15/8 and 6/4 included); simple ones in 1/D."""
    parsed = Meter.parse(meter)
    assert (parsed.beat_steps, parsed.beats) == (beat_steps, beats)
    assert sorted(parsed.strong_positions) == list(strong)
