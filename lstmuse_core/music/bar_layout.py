"""Where each written bar of a score is played, and how long each bar is.

A song is laid out on one line of 16th-note steps that starts on a bar line.
Most songs keep one meter, so every bar is the meter's length. Folk songs as
they were sung do not always: a Chinese work song in 2/4 takes a bar of 3/4
for a long word, an old German song in 3/4 turns to 4/4 for a phrase. Such a
song keeps each bar as written, with its own length (`Layout.bar_steps`); the
model is told each bar's meter (`bar_meter`), so every written bar line stays
a bar line.

music21's ABC reader writes a bar longer than its meter as a bar of the meter
plus a one-bar meter of the overflow (a 2/4 bar of 12 16ths: a 2/4 bar, then
a 1/4 one, then 2/4 again); the two are read back as the one bar written.
ESAC's phrase lines often leave a bar open at the end of a line and the next
line's pickup completes it: short bars inside a run add up to whole ones, and
one that cannot (it would cross the bar line) closes a short bar of its own.

Dropped, with the reason: a bar longer than the model's position input
(`MAX_BAR_STEPS`), a meter of such bars (4/1, 3/1), and bars that are not a
whole number of 16ths.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.encoding import STEPS_PER_QUARTER
from lstmuse_core.music.form import Section
from lstmuse_core.music.meter import MAX_BAR_STEPS, Meter, bar_meter

# Bar lines that end a run of bars: a section's short last bar may follow them, and a
# pickup may start after them.
_SECTION_BAR_LINES = frozenset({"double", "final", "heavy", "heavy-light", "light-heavy"})


@dataclass(frozen=True)
class Dropped:
    """Why a score's bars cannot be laid out (the reader counts the reason)."""

    reason: str
    detail: str = ""


@dataclass
class _Run:
    """Written bars between section bar lines (repeat signs, double bars, endings)."""

    first: int  # index of its first measure
    last: int  # index of its last measure
    start: Fraction = Fraction(0)  # where its first bar is placed (quarters)
    stop: Fraction = Fraction(0)  # where its music ends once placed
    repeat_start: bool = False
    repeat_end: bool = False
    ending: int = 0  # 1, 2, ... for a first, second ... ending
    closes: bool = False  # a double bar or final bar after it
    pickup_only: bool = False  # a lone pickup bar: it belongs to the section after it


@dataclass
class Layout:
    """Where each written bar is placed (quarters from bar line 0) and the bars it makes.

    ``meter``: the song's meter (that of most of its bars); ``bar_steps``: every
    bar's length in steps, in order, ending where the last written bar ends
    (the reader holds the last note to it).
    """

    offsets: list[Fraction]  # each measure's written offset, in order
    starts: list[Fraction]  # where each measure is placed
    runs: list[_Run]
    meter: Meter
    bar_steps: list[int]

    def place(self, offset: Fraction) -> Fraction:
        """Where a written offset (quarters in the part) is placed."""
        if not self.offsets:
            return offset
        index = max(bisect.bisect_right(self.offsets, offset) - 1, 0)
        return offset - self.offsets[index] + self.starts[index]

    def placed(self, notes: Iterable[Any]) -> list[tuple[Fraction, Any]]:
        """Each note or chord of a flat stream with its placed start, in time order."""
        found = [(self.place(Fraction(element.offset)), element) for element in notes]
        return sorted(found, key=lambda pair: pair[0])

    def step(self, quarters: Fraction) -> int:
        return int(quarters * STEPS_PER_QUARTER)

    @property
    def irregular_bars(self) -> tuple[int, ...]:
        """Every bar's length in steps where one differs from the meter's; else ()."""
        if all(steps == self.meter.bar_steps for steps in self.bar_steps):
            return ()
        return tuple(self.bar_steps)

    def sections(self, symbols: list[str]) -> tuple[Section, ...]:
        """The runs grouped into sections, each with its body, endings and repeat."""
        if not self.runs:
            return (Section("A", 0, len(symbols)),)
        built: list[tuple[int, int, bool, list[tuple[int, int]]]] = []
        body: list[_Run] = []
        endings: list[_Run] = []

        def close(repeated: bool) -> None:
            nonlocal body, endings
            if body or endings:
                first = body[0] if body else endings[0]
                last_body = body[-1] if body else first
                built.append(
                    (
                        self.step(first.start),
                        self.step(last_body.stop) if body else self.step(first.start),
                        repeated or any(r.repeat_end for r in endings),
                        [(self.step(r.start), self.step(r.stop)) for r in endings],
                    )
                )
            body, endings = [], []

        for number, run in enumerate(self.runs):
            later = self.runs[number + 1] if number + 1 < len(self.runs) else None
            if run.ending:
                endings.append(run)
                if later is None or not later.ending:
                    close(False)
                continue
            if endings or (run.repeat_start and not all(r.pickup_only for r in body)):
                close(False)
            body.append(run)
            if run.pickup_only or (later is not None and later.ending):
                continue
            if run.repeat_end or run.closes or later is None:
                close(run.repeat_end)
        # Labels by content: a section whose body is the same notes as an earlier one's
        # takes its letter.
        labels: dict[tuple[str, ...], str] = {}
        sections = []
        for start, end, repeated, spans in built:
            notes = tuple(symbols[start:end])
            label = labels.setdefault(notes, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[min(len(labels), 25)])
            sections.append(Section(label, start, end, repeated, tuple(spans)))
        last = sections[-1]
        if last.stop < len(symbols):  # the last note held to its bar line
            if last.endings:
                held = (*last.endings[:-1], (last.endings[-1][0], len(symbols)))
                sections[-1] = Section(last.label, last.start, last.end, last.repeated, held)
            else:
                sections[-1] = Section(last.label, last.start, len(symbols), last.repeated)
        return tuple(sections)


def _parse_meter(text: str) -> Meter | Dropped:
    try:
        parsed = Meter.parse(text)
    except InvalidParameter:
        return Dropped("unsupported meter", text)
    if not parsed.fits_model:
        return Dropped("unsupported meter", f"{text}: bars of at most {MAX_BAR_STEPS} 16ths")
    return parsed


def written_meters(measures: Sequence[Any], part: Any) -> list[Meter | None] | Dropped:
    """The meter in force in each measure; None for music21's overflow of the bar before.

    A part without measures (a bare stream) is one meter: its first, or 4/4.
    """
    from music21 import meter

    if not measures:
        stated = [
            str(s.ratioString) for s in part.recurse().getElementsByClass(meter.TimeSignature)
        ]
        found = _parse_meter(stated[0] if stated else "4/4")
        return found if isinstance(found, Dropped) else [found]
    texts: list[str | None] = [
        next((str(s.ratioString) for s in m.getElementsByClass(meter.TimeSignature)), None)
        for m in measures
    ]
    in_force = [""] * len(measures)
    current = next((t for t in texts if t is not None), "4/4")
    for index, text in enumerate(texts):
        current = text or current
        in_force[index] = current
    lengths = {text: meter.TimeSignature(text).barDuration.quarterLength for text in set(in_force)}

    def overflow(index: int) -> bool:
        # The overflow of a full bar, for one bar, then the bar's meter again.
        if index == 0 or texts[index] is None:
            return False
        before = in_force[index - 1]
        return (
            lengths[in_force[index]] < lengths[before]
            and measures[index - 1].duration.quarterLength == lengths[before]
            and (index == len(measures) - 1 or in_force[index + 1] == before)
        )

    meters: list[Meter | None] = []
    for index, text in enumerate(in_force):
        if overflow(index):
            meters.append(None)
            continue
        found = _parse_meter(text)
        if isinstance(found, Dropped):
            return found
        meters.append(found)
    return meters


def lay_out_bars(part: Any) -> Layout | Dropped:
    """Place every written bar on the song's steps, as the music is played.

    A tune is runs of bars between section bar lines (repeat signs, double bars,
    first and second endings). A run may start with a short bar (a pickup: it
    ends on a bar line, a rest before it fills its bar) and end with a short one
    (a section's last bar, which the next pickup completes). Where the written
    bars do not add up to a bar across a section line (a first ending that leaves
    its bar to the repeat's pickup, then a whole second ending; a double bar, then
    a pickup), the bar is completed with rest, so the next run starts where it is
    played. Inside a run, short bars add up to whole ones (a bar split at the end of
    a line); one that would cross the bar line leaves the bar before it short, a bar
    of its own length (`bar_meter` names it), as it was sung.
    """
    from music21 import bar as barline
    from music21 import spanner, stream

    measures = list(part.getElementsByClass(stream.Measure))
    meters = written_meters(measures, part)
    if isinstance(meters, Dropped):
        return meters
    if not measures:
        assert meters[0] is not None
        return Layout([], [], [], meters[0], [])
    brackets = _ending_numbers(part, measures, spanner)
    runs = _runs(measures, brackets, barline)
    bars = _BarLine()
    starts = [Fraction(0)] * len(measures)
    for run in runs:
        for index in range(run.first, run.last + 1):
            length = Fraction(measures[index].duration.quarterLength)
            written = meters[index]
            if length == 0:
                starts[index] = bars.position
                continue
            if written is None:  # music21's overflow: the bar before goes on
                starts[index] = bars.position
                bars.extend(length)
                continue
            target = Fraction(written.bar_steps, STEPS_PER_QUARTER)
            if index == run.first:
                pickup = length < target and not run.ending and index < len(measures) - 1
                if pickup:
                    run.pickup_only = index == run.last
                    bars.pickup(length, target, written)
                elif bars.fill and bars.fill + length > bars.target:
                    bars.complete_with_rest()
                run.start = bars.position
            elif bars.fill and bars.fill + length > bars.target:
                bars.close_short()  # inside a run: the bar before was sung short
            starts[index] = bars.position
            bars.add(length, target, written)
        run.stop = bars.position
    bars.complete_last()
    problem = bars.problem()
    if problem is not None:
        return problem
    counts = Counter(meter for meter, _ in bars.closed if meter is not None)
    if not counts:  # no bar with a note's length in it
        return Dropped("no notes")
    main = max(counts, key=lambda m: (counts[m], -bars.first_index(m)))
    steps = [int(length * STEPS_PER_QUARTER) for _, length in bars.closed]
    offsets = [Fraction(m.offset) for m in measures]
    return Layout(offsets, starts, runs, main, steps)


class _BarLine:
    """The bars closed so far and the one being filled, as measures are placed."""

    def __init__(self) -> None:
        # Each bar's meter (None: no meter names it, such as a bar of 17 16ths) and length.
        self.closed: list[tuple[Meter | None, Fraction]] = []
        self.position = Fraction(0)  # where the next measure goes (quarters)
        self.fill = Fraction(0)  # how much of the open bar is written
        self.target = Fraction(0)  # the open bar's length by its meter
        self.meter: Meter | None = None  # the open bar's written meter

    def _close(self, length: Fraction) -> None:
        assert self.meter is not None
        steps = length * STEPS_PER_QUARTER
        named = self.meter if length == self.target else _named(steps, self.meter)
        self.closed.append((named, length))
        self.fill = Fraction(0)

    def pickup(self, length: Fraction, target: Fraction, meter: Meter) -> None:
        """A run's short first bar: it ends on a bar line (the open bar's, where it fits)."""
        if self.fill and self.fill + length <= self.target:
            self.position += self.target - self.fill - length
            self.fill = self.target - length
            return
        if self.fill:
            self.complete_with_rest()
        self.meter, self.target = meter, target
        self.position += target - length
        self.fill = target - length

    def complete_with_rest(self) -> None:
        self.position += self.target - self.fill
        self._close(self.target)

    def close_short(self) -> None:
        self._close(self.fill)

    def add(self, length: Fraction, target: Fraction, meter: Meter) -> None:
        if not self.fill:
            self.meter, self.target = meter, target
        self.position += length
        self.fill += length
        if self.fill >= self.target:  # whole, or one long bar as written
            self._close(self.fill)

    def extend(self, length: Fraction) -> None:
        """music21's overflow: the bar closed last was longer than its meter."""
        if self.fill or not self.closed:
            self.position += length
            self.fill += length
            return
        meter, before = self.closed.pop()
        self.meter, self.target, self.fill = meter or self.meter, before, before
        self.position += length
        self.fill += length
        self._close(self.fill)

    def complete_last(self) -> None:
        if self.fill:
            self.complete_with_rest()  # the last note is held to the bar line

    def problem(self) -> Dropped | None:
        for meter, length in self.closed:
            steps = length * STEPS_PER_QUARTER
            if steps > MAX_BAR_STEPS:
                return Dropped("overfull bar", f"a bar of {length} quarters")
            if steps.denominator != 1:
                return Dropped("irregular bar lines", f"a bar of {length} quarters")
            if meter is None:
                return Dropped("unsupported meter", f"a bar of {steps} 16ths")
        return None

    def first_index(self, meter: Meter) -> int:
        return next(i for i, (m, _) in enumerate(self.closed) if m == meter)


def _named(steps: Fraction, written: Meter) -> Meter | None:
    """The meter of a bar of ``steps`` written under ``written``; None where none names it."""
    if steps.denominator != 1 or not 1 <= steps <= MAX_BAR_STEPS:
        return None
    try:
        return bar_meter(int(steps), written)
    except InvalidParameter:  # 17 16ths: no meter of at most 16 units
        return None


def _ending_numbers(part: Any, measures: list[Any], spanner: Any) -> dict[int, int]:
    """id of an ending's first bar -> its number. An ending goes on to the next section
    bar line (:| or ||), as ABC players read it; music21's bracket may cover its first bar."""
    brackets: dict[int, int] = {}
    index_of = {id(m): i for i, m in enumerate(measures)}
    for bracket in part.spannerBundle.getByClass(spanner.RepeatBracket):
        spanned = [m for m in bracket.getSpannedElements() if id(m) in index_of]
        numbers = [int(n) for n in re.findall(r"\d+", str(bracket.number or "1"))] or [1]
        if spanned:
            brackets[id(spanned[0])] = numbers[-1]
    return brackets


def _runs(measures: list[Any], brackets: dict[int, int], barline: Any) -> list[_Run]:
    """The measures split into runs at repeat signs, endings and double bars."""
    runs: list[_Run] = []
    for index, measure in enumerate(measures):
        left = measure.leftBarline
        previous = measures[index - 1].rightBarline if index else None
        starts_repeat = isinstance(left, barline.Repeat) and left.direction == "start"
        new_run = (
            not runs
            or starts_repeat
            or id(measure) in brackets
            or (left is not None and left.type in _SECTION_BAR_LINES)
            or (
                previous is not None
                and (isinstance(previous, barline.Repeat) or previous.type in _SECTION_BAR_LINES)
            )
        )
        if new_run:
            runs.append(_Run(index, index, repeat_start=starts_repeat))
            runs[-1].ending = brackets.get(id(measure), 0)
        run = runs[-1]
        run.last = index
        right = measure.rightBarline
        run.repeat_end = isinstance(right, barline.Repeat) and right.direction == "end"
        run.closes = right is not None and right.type in _SECTION_BAR_LINES
    return runs
