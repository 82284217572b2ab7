"""A tune's form: its parts in play order, repeats, first and second endings.

The grammar of ``form=`` (what a player calls a tune's form):

* ``none``: one line, no parts (what LSTMuse wrote before forms);
* letters in play order, the first ``A``, each new part the next letter
  (``AB``, ``AABB``, ``AAB``, ``ABA``, ``AABA``, ``ABAB``, ``AABBCC``...);
* a letter twice in a row is a repeated part, written once between repeat
  signs (``|: ... :|``) and played twice; no part plays more than twice in a row;
* ``A1A2`` is a repeated part with a first and a second ending: its last bar is
  written twice, the first time leading back, the second closing the part
  (``A1A2B1B2``, ``A1A2BB``). A part that comes back later (``AABA``'s last A)
  plays its second ending;
* at most `MAX_PLAYED_PARTS` parts played and `MAX_DISTINCT_PARTS` different ones.

`Form` is the parsed value. `TuneForm` lays a form out for one melody (the
part length in bars, the bar's steps, a pickup bar or not) three ways: as the
network writes it (each part once, its endings after its body, as the tunes it
learnt from are read: `lstmuse_core.music.corpus.Section`), as it is played
(repeats played out: what MIDI and audio hear) and as a score writes it
(repeat signs, volta brackets, a rehearsal mark per part).

Plain Python: the bot validates forms without numpy or music21.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.encoding import HOLD

if TYPE_CHECKING:
    from lstmuse_core.music.harmony import ChordSpan

FORM_NONE = "none"
MAX_PLAYED_PARTS = 12
MAX_DISTINCT_PARTS = 6
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TOKEN = re.compile(r"([A-Z])1\1(?:2)|([A-Z])")
FORM_ALLOWED = (
    "none, or parts in play order: AB, AABB, AAB, ABA, AABA, ABAB, AABBCC ...; "
    "a doubled letter repeats its part, A1A2 gives it first and second endings"
)


@dataclass(frozen=True)
class Run:
    """A part played once or twice in a row (``times``); ``endings``: with first and
    second endings (``A1A2``)."""

    label: str
    times: int
    endings: bool = False

    @property
    def text(self) -> str:
        if self.endings:
            return f"{self.label}1{self.label}2"
        return self.label * self.times


@dataclass(frozen=True)
class Form:
    """A form as parsed from ``form=`` (see the module docstring): its runs in play order."""

    runs: tuple[Run, ...]

    @classmethod
    def parse(cls, text: str, parameter: str = "form") -> Form | None:
        """The form written ``text`` (any case); None for ``none``. Refused naming
        ``parameter``, the text and the grammar."""
        typed = str(text).strip()
        if typed.lower() == FORM_NONE:
            return None
        tokens = _tokens(typed.upper())
        if tokens is None:
            raise InvalidParameter(parameter, typed, FORM_ALLOWED)
        runs: list[Run] = []
        for label, endings in tokens:
            if runs and runs[-1].label == label and not runs[-1].endings and not endings:
                if runs[-1].times == 2:
                    raise InvalidParameter(
                        parameter, typed, "a part played at most twice in a row (AABB, not AAAB)"
                    )
                runs[-1] = Run(label, 2)
            elif runs and runs[-1].label == label:
                raise InvalidParameter(
                    parameter, typed, f"{label}1{label}2 is the whole repeat: not {typed}"
                )
            else:
                runs.append(Run(label, 2 if endings else 1, endings))
        form = cls(tuple(runs))
        order = form.labels
        if order != _LETTERS[: len(order)]:
            raise InvalidParameter(
                parameter, typed, "parts lettered in order of first playing: A, then B, then C"
            )
        if len(order) > MAX_DISTINCT_PARTS or form.played_parts > MAX_PLAYED_PARTS:
            raise InvalidParameter(
                parameter,
                typed,
                f"at most {MAX_DISTINCT_PARTS} different parts and {MAX_PLAYED_PARTS} played",
            )
        if len(order) == 1 and form.played_parts == 1:
            raise InvalidParameter(parameter, typed, "two parts or more played, or none")
        return form

    @property
    def text(self) -> str:
        """As typed canonically: ``AABB``, ``A1A2BB``."""
        return "".join(run.text for run in self.runs)

    @property
    def played(self) -> str:
        """The parts as played, one letter each: ``A1A2BB`` plays ``AABB``."""
        return "".join(run.label * run.times for run in self.runs)

    @property
    def played_parts(self) -> int:
        return len(self.played)

    @property
    def labels(self) -> str:
        """The different parts, in order of first playing: ``AB``."""
        return "".join(dict.fromkeys(run.label for run in self.runs))

    def has_endings(self, label: str) -> bool:
        return any(run.endings for run in self.runs if run.label == label)

    def sampled_bars(self, part_bars: int) -> int:
        """Bars the network writes (each part once, a first ending's bar extra), pickup
        bar not included."""
        return sum(
            part_bars + (self.has_endings(label) and part_bars >= 2) for label in self.labels
        )

    def played_bars(self, part_bars: int) -> int:
        """Bars played (repeats played out), pickup bar not included."""
        return self.played_parts * part_bars

    def __str__(self) -> str:
        return self.text


def _tokens(text: str) -> list[tuple[str, bool]] | None:
    """``A1A2BB`` -> [(A, True), (B, False), (B, False)]; None if it does not read."""
    tokens, at = [], 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            return None
        tokens.append((match.group(1), True) if match.group(1) else (match.group(2), False))
        at = match.end()
    return tokens or None


def form_text(text: str) -> str:
    """A typed form as the request keeps it: ``none`` or the canonical form (``AABB``)."""
    form = Form.parse(text)
    return form.text if form is not None else FORM_NONE


@dataclass(frozen=True)
class Section:
    """A part of a tune as written: steps ``start``-``end`` of its song (its pickup included).

    ``repeated``: played twice (``|: ... :|``, or a ``:|`` back to the tune's start or
    the last double bar); ``endings``: the (start, end) steps of its first, second, ...
    endings, which follow the body in the song. ``label``: a letter, the same for
    sections whose bodies are note for note the same.
    """

    label: str
    start: int
    end: int
    repeated: bool = False
    endings: tuple[tuple[int, int], ...] = ()

    @property
    def stop(self) -> int:
        """The step after the section's last ending (or its body)."""
        return self.endings[-1][1] if self.endings else self.end

    def to_json(self) -> list[Any]:
        return [self.label, self.start, self.end, self.repeated, [list(e) for e in self.endings]]

    @classmethod
    def from_json(cls, data: list[Any]) -> Section:
        label, start, end, repeated, endings = data
        return cls(label, start, end, repeated, tuple((a, b) for a, b in endings))


# Roles of a bar as the network writes it.
PICKUP, BODY, FIRST_ENDING, SECOND_ENDING = "pickup", "body", "first", "second"


@dataclass(frozen=True)
class WrittenBar:
    """One bar as the network writes it: its part and its role."""

    label: str
    role: str


@dataclass(frozen=True)
class ScoreBar:
    """One bar of the written score: the played bar it shows, and its marks."""

    played_bar: int
    label: str = ""  # a rehearsal mark: the first bar of a part as written
    repeat_start: bool = False
    repeat_end: bool = False
    volta: int = 0  # 1 or 2: in a first or second ending's bracket
    fine: bool = False  # the tune ends here after the D.C.
    da_capo: bool = False  # D.C. al Fine: from here back to the start


@dataclass(frozen=True)
class PlayedPart:
    """A part as heard: ``label``, steps ``start``-``end`` of the played melody, ``time``
    1 or 2 through a repeat (0: played once there)."""

    label: str
    start: int
    end: int
    time: int = 0


@dataclass(frozen=True)
class TuneForm:
    """One melody's form laid out: `Form`, part length, bar length, pickup bar.

    ``part_bars``: bars of each part (a pickup bar not counted); ``bar_steps``:
    16th notes a bar; ``pickup``: the melody opens with a pickup bar (bar 0, its
    leading rest unwritten) before the first part, played once. Bars are indexed
    on the melody's bar grid; steps are 16th notes.
    """

    form: Form
    part_bars: int
    bar_steps: int
    pickup: bool = False

    @cached_property
    def written(self) -> tuple[WrittenBar, ...]:
        """The bars the network writes, in its order: each part once, body then endings."""
        bars = [WrittenBar("A", PICKUP)] if self.pickup else []
        for label in self.form.labels:
            endings = self.form.has_endings(label) and self.part_bars >= 2
            bars += [WrittenBar(label, BODY)] * (self.part_bars - endings)
            if endings:
                bars += [WrittenBar(label, FIRST_ENDING), WrittenBar(label, SECOND_ENDING)]
        return tuple(bars)

    @cached_property
    def sections(self) -> tuple[Section, ...]:
        """The parts as written, laid out as the reader keeps a tune's (`Section`): each
        part once, its body (the pickup bar in the first) then its endings. The network
        is told where it stands from these, as it was told of the tunes it learnt from
        (`lstmuse_core.model.conditioning.form_inputs`)."""
        step, sections = self.bar_steps, []
        for label in self.form.labels:
            bars = [i for i, b in enumerate(self.written) if b.label == label]
            body = [i for i in bars if self.written[i].role in (PICKUP, BODY)]
            endings = tuple((i * step, (i + 1) * step) for i in bars if i not in body)
            repeated = any(run.label == label and run.times == 2 for run in self.form.runs)
            sections.append(
                Section(label, body[0] * step, (body[-1] + 1) * step, repeated, endings)
            )
        return tuple(sections)

    def _part_bars(self, label: str, time: int, of: int) -> list[int]:
        """Written bar indices of part ``label`` played the ``time``-th of ``of`` times."""
        bars = [i for i, b in enumerate(self.written) if b.label == label and b.role == BODY]
        roles = {b.role: i for i, b in enumerate(self.written) if b.label == label}
        if FIRST_ENDING in roles:
            bars.append(roles[FIRST_ENDING] if time == 1 and of == 2 else roles[SECOND_ENDING])
        return bars

    @cached_property
    def played(self) -> tuple[int, ...]:
        """The written bar of each played bar, in play order (repeats played out)."""
        bars = [0] if self.pickup else []
        for run in self.form.runs:
            for time in range(1, run.times + 1):
                bars += self._part_bars(run.label, time, run.times)
        return tuple(bars)

    @property
    def written_steps(self) -> int:
        return len(self.written) * self.bar_steps

    @property
    def played_steps(self) -> int:
        return len(self.played) * self.bar_steps

    @cached_property
    def parts(self) -> tuple[PlayedPart, ...]:
        """Each part as heard, in play order (the pickup bar belongs to the first)."""
        parts: list[PlayedPart] = []
        at = 0
        for run in self.form.runs:
            for time in range(1, run.times + 1):
                steps = len(self._part_bars(run.label, time, run.times)) * self.bar_steps
                if not parts and self.pickup:
                    steps += self.bar_steps
                parts.append(PlayedPart(run.label, at, at + steps, time if run.times > 1 else 0))
                at += steps
        return tuple(parts)

    @cached_property
    def score(self) -> tuple[ScoreBar, ...]:
        """The bars a score writes, with repeat signs, volta brackets and part marks:
        a repeated part once between repeat signs, its endings bracketed 1 and 2. A part
        that comes back is written out again (`da_capo_score` writes D.C. al Fine)."""
        return self._score_bars(self.form.runs)

    @cached_property
    def da_capo_runs(self) -> int:
        """How many runs at the end replay the tune's opening, so that a score may write
        ``D.C. al Fine`` for them: ABA's last A (1), ABCAB's last AB (2); 0 where none
        can. Only runs played once (a D.C. takes no repeats, and a return through a repeat
        or ending would be written differently), never after a pickup (a D.C. would play
        the pickup bar again, which the tune as played does not)."""
        runs = self.form.runs
        if self.pickup:
            return 0
        for count in range((len(runs) - 1) // 2, 0, -1):
            opening = runs[:count]
            if runs[-count:] == opening and all(r.times == 1 and not r.endings for r in opening):
                return count
        return 0

    @cached_property
    def da_capo_score(self) -> tuple[ScoreBar, ...]:
        """`score`, with the parts that come back at the end written as a classical score
        writes them: ``Fine`` after the opening parts, ``D.C. al Fine`` at the end of the
        rest (ABA: A Fine, B D.C. al Fine). `score` where the form has none."""
        count = self.da_capo_runs
        if not count:
            return self.score
        opening = self._score_bars(self.form.runs[:count])
        bars = list(self._score_bars(self.form.runs[:-count]))
        bars[len(opening) - 1] = replace(bars[len(opening) - 1], fine=True)
        bars[-1] = replace(bars[-1], da_capo=True)
        return tuple(bars)

    def _score_bars(self, runs: Sequence[Run]) -> tuple[ScoreBar, ...]:
        """The score bars of the form's first ``runs``."""
        first_played = self.first_played()
        bars = [ScoreBar(0)] if self.pickup else []
        for run in runs:
            repeated = run.times == 2
            part = self._part_bars(run.label, 2, 2) if not repeated else []
            if repeated:
                first, second = self._part_bars(run.label, 1, 2), self._part_bars(run.label, 2, 2)
                part = first if first == second else [*first, second[-1]]
            for n, written_bar in enumerate(part):
                role = self.written[written_bar].role
                volta = {FIRST_ENDING: 1, SECOND_ENDING: 2}.get(role, 0) if repeated else 0
                bars.append(
                    ScoreBar(
                        first_played[written_bar],
                        label=run.label if n == 0 else "",
                        repeat_start=repeated and n == 0,
                        repeat_end=repeated and (volta == 1 or (not volta and n == len(part) - 1)),
                        volta=volta,
                    )
                )
        return tuple(bars)

    def jump_targets(self) -> set[int]:
        """Written bars that some played bar reaches from a bar other than the one written
        before it (a repeat's first bar, an ending, a part that comes back), first endings
        and bars after a repeat sign in the score: a note tied over ``:|`` would be tied
        back to the repeat's start too (music21 read such an ABC tune so, and played a note
        8 bars long)."""
        targets = set()
        for before, after in itertools.pairwise(self.played):
            if after != before + 1:
                targets.add(after)
        for before_bar, after_bar in itertools.pairwise(self.score):
            # A note tied into a first ending would be tied into the second as well.
            if before_bar.repeat_end or after_bar.volta:
                targets.add(self.played[after_bar.played_bar])
        for before_bar, after_bar in itertools.pairwise(self.da_capo_score):
            if before_bar.fine:  # the tune ends at Fine the last time: nothing tied over it
                targets.add(self.played[after_bar.played_bar])
        return targets

    @cached_property
    def _sorted_jump_targets(self) -> tuple[int, ...]:
        """`jump_targets` in order, found once: every chosen melody is cleaned with them."""
        return tuple(sorted(self.jump_targets()))

    def clean_starts(self, written: Sequence[str]) -> list[str]:
        """``written`` with every jump target's leading hold struck again as the note (or
        rest) it held, so a bar reached by a repeat never holds a note it does not follow;
        written order, unchanged elsewhere."""
        symbols = list(written)
        for bar in self._sorted_jump_targets:
            at = bar * self.bar_steps
            if 0 < at < len(symbols) and symbols[at] == HOLD:
                held = next(symbols[i] for i in range(at - 1, -1, -1) if symbols[i] != HOLD)
                symbols[at] = held
        return symbols

    def play(self, written: Sequence[str]) -> list[str]:
        """The melody as played from the ``written`` symbols (cleaned by `clean_starts`)."""
        step = self.bar_steps
        return [s for bar in self.played for s in written[bar * step : (bar + 1) * step]]

    def first_played(self) -> dict[int, int]:
        """Each written bar's first played bar."""
        first: dict[int, int] = {}
        for played_bar, written_bar in enumerate(self.played):
            first.setdefault(written_bar, played_bar)
        return first

    def repeat_chords(self, chords: Sequence[ChordSpan]) -> tuple[ChordSpan, ...]:
        """Chords (spans with ``start``, ``steps``, ``symbol``, in played steps) played the
        same each time a bar comes back: every bar takes its first playing's chords, so a
        repeat is harmonized as it is written, once."""
        step, first = self.bar_steps, self.first_played()
        pieces: list[Any] = []
        for played_bar, written_bar in enumerate(self.played):
            source = first[written_bar] * step
            for chord in chords:
                start, end = max(chord.start, source), min(chord.start + chord.steps, source + step)
                if start >= end:
                    continue
                at = start - source + played_bar * step
                last = pieces[-1] if pieces else None
                if (
                    last is not None
                    and last.symbol == chord.symbol
                    and last.start + last.steps == at
                ):
                    pieces[-1] = replace(last, steps=last.steps + end - start)
                else:
                    pieces.append(replace(chord, start=at, steps=end - start))
        return tuple(pieces)

    def score_symbols(
        self, played: Sequence[str], bars: Sequence[ScoreBar] | None = None
    ) -> list[str]:
        """The symbols a score writes (``bars``, by default `score`), from the melody as
        played."""
        step = self.bar_steps
        return [
            s
            for bar in (self.score if bars is None else bars)
            for s in played[bar.played_bar * step : (bar.played_bar + 1) * step]
        ]

    def score_chords(
        self, chords: Sequence[ChordSpan], bars: Sequence[ScoreBar] | None = None
    ) -> tuple[ChordSpan, ...]:
        """Chords (in played steps) where the score (``bars``, by default `score`) writes
        them: each score bar's from its played bar; a bar not written after the bar played
        before it starts with the chord sounding there."""
        step = self.bar_steps
        score = self.score if bars is None else bars
        placed: list[ChordSpan] = []
        for number, bar in enumerate(score):
            source = bar.played_bar * step
            follows = number > 0 and score[number - 1].played_bar == bar.played_bar - 1
            for chord in chords:
                end = chord.start + chord.steps
                starts_here = source <= chord.start < source + step
                sounding = not follows and chord.start < source < end
                if starts_here or sounding:
                    start = max(chord.start, source) - source + number * step
                    placed.append(
                        replace(
                            chord,
                            start=start,
                            steps=min(end, source + step) - max(chord.start, source),
                        )
                    )
        return tuple(placed)

    def summary(self, meter_text: str) -> str:
        """The reply's line: ``AABB, 2 x 8 bars of 6/8, 16 bars played twice``."""
        labels, runs = self.form.labels, self.form.runs
        text = f"{self.form.text}, {len(labels)} x {self.part_bars} bars of {meter_text}"
        written = len(labels) * self.part_bars
        if all(run.times == 2 for run in runs) and len(runs) == len(labels):
            return f"{text}, {written} bars played twice"
        played = self.form.played_bars(self.part_bars)
        return f"{text}, {played} bars played" + (" after a pickup" if self.pickup else "")

    def to_json(self) -> dict[str, Any]:
        return {"form": self.form.text, "part_bars": self.part_bars, "pickup": self.pickup}

    def closing(self, written: Sequence[str]) -> Sequence[str]:
        """The written symbols up to the end of the bar the tune is played to (ABA closes
        on A's last bar): what its last cadence is read from, on the same bar grid."""
        return written[: self.closing_steps]

    @property
    def closing_steps(self) -> int:
        """How many written steps `closing` keeps."""
        return (self.played[-1] + 1) * self.bar_steps

    @classmethod
    def from_json(cls, data: dict[str, Any], bar_steps: int) -> TuneForm:
        form = Form.parse(str(data["form"]))
        if form is None:
            raise InvalidParameter("form", data["form"], "a form with parts")
        return cls(form, int(data["part_bars"]), bar_steps, bool(data["pickup"]))


@cache
def tune_form(form: Form, part_bars: int, bar_steps: int, pickup: bool) -> TuneForm:
    """The `TuneForm` of these values, made once: the sampler asks for it per candidate."""
    return TuneForm(form, part_bars, bar_steps, pickup)
