"""A progression as a player's chord chart: ``| G | D7 | G | C D |``, eight bars a line."""

from __future__ import annotations

from collections.abc import Iterable

BARS_PER_LINE = 8


def chord_chart(
    chords: Iterable[tuple[int, int, str]], bar_steps: int, bars_per_line: int = BARS_PER_LINE
) -> list[str]:
    """Lines of bars, each bar its chords' symbols in order, from the first chord's bar.

    ``chords``: (start step, steps, symbol); ``bar_steps``: 16th-note steps a bar.
    """
    bars: dict[int, list[str]] = {}
    for start, _, symbol in chords:
        bars.setdefault(start // bar_steps, []).append(symbol)
    if not bars:
        return []
    numbers = range(min(bars), max(bars) + 1)
    cells = [" ".join(bars.get(number, ["%"])) for number in numbers]  # %: as the bar before
    return [
        "| " + " | ".join(cells[i : i + bars_per_line]) + " |"
        for i in range(0, len(cells), bars_per_line)
    ]
