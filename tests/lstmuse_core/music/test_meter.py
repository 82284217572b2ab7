"""A melody's length in the words the bot and the CLI both print."""

from __future__ import annotations

import pytest

from lstmuse_core.music.meter import describe_length


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
    assert describe_length(steps, seed_steps, meter) == expected
