"""Measures of a tune's form: what a player checks of its parts.

Used by the sampler to choose among candidates of a tune with a form
(`lstmuse_core.model.generate`) and by the musical evaluation to set
generated tunes beside the corpus's (`lstmuse_core.model.musical_evaluation`).
Melodies are symbols, one per 16th note, bar-aligned (step 0 is a bar line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from lstmuse_core.music.encoding import HOLD, REST, is_pitch
from lstmuse_core.music.form import FIRST_ENDING, SECOND_ENDING, Section, TuneForm
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.musicality import MelodyNotes, ends_on_tonic

# B contrasts with A when at most this share of its bars are bars of the parts before it.
MAX_SHARED_BARS = 0.5


def _bars(symbols: Sequence[str], bar_steps: int, bars: Sequence[int]) -> list[tuple[str, ...]]:
    return [tuple(symbols[b * bar_steps : (b + 1) * bar_steps]) for b in bars]


def shared_bars(parts: Sequence[Sequence[tuple[str, ...]]]) -> float:
    """The largest share of a later part's bars that are bars of the parts before it
    (0: every part new; 1: a part made only of earlier bars)."""
    worst = 0.0
    for number, part in enumerate(parts[1:], start=1):
        earlier = {bar for before in parts[:number] for bar in before}
        if part:
            worst = max(worst, sum(bar in earlier for bar in part) / len(part))
    return worst


@dataclass(frozen=True)
class _Layout:
    """Where a `TuneForm`'s measures read its written bars: ``bodies``, each distinct
    part's body bars; ``endings``, each (first, second) ending's bar."""

    bodies: tuple[tuple[int, ...], ...]
    endings: tuple[tuple[int, int], ...]


@cache
def _layout(form: TuneForm) -> _Layout:
    """`_Layout` of a form, made once: the sampler scores every candidate with it."""
    bodies, endings = [], []
    for label in form.form.labels:
        bodies.append(
            tuple(
                i for i, bar in enumerate(form.written) if bar.label == label and bar.role == "body"
            )
        )
        roles = {b.role: i for i, b in enumerate(form.written) if b.label == label}
        if FIRST_ENDING in roles:
            endings.append((roles[FIRST_ENDING], roles[SECOND_ENDING]))
    return _Layout(tuple(bodies), tuple(endings))


def written_parts(written: Sequence[str], form: TuneForm) -> list[list[tuple[str, ...]]]:
    """Each distinct part's bars as written (body, no endings; pickup bar left out)."""
    return [_bars(written, form.bar_steps, bars) for bars in _layout(form).bodies]


def first_endings_lead_on(written: Sequence[str], form: TuneForm, meter: Meter, mode: str) -> bool:
    """Whether every first ending leads back rather than closes: it does not end on the
    tonic on a strong beat, and it differs from its second ending."""
    return _first_endings_lead_on(MelodyNotes(written), written, form, meter, mode)


def _first_endings_lead_on(
    notes: MelodyNotes, written: Sequence[str], form: TuneForm, meter: Meter, mode: str
) -> bool:
    """`first_endings_lead_on`, ``notes`` being ``written``'s."""
    step = form.bar_steps
    for first, second in _layout(form).endings:
        if notes.ends_on_tonic(meter, mode, (first + 1) * step):
            return False
        if _bars(written, step, [first]) == _bars(written, step, [second]):
            return False
    return True


@dataclass(frozen=True)
class PartCadences:
    """How a tune's parts close, read from its sections as written (a read tune's
    `Section`s or a generated one's `TuneForm.sections`).

    ``closes``: per part, whether it ends on the tonic as played the last time (its
    body, then its last ending); ``first_endings``: per first ending, whether it ends on
    the tonic (a first ending usually leads back instead); ``b_above_a``: the mean pitch
    of B's body above A's in semitones (None without a B): a B strain often climbs.
    """

    closes: list[bool]
    first_endings: list[bool]
    b_above_a: float | None


def part_cadences(
    symbols: Sequence[str], sections: Sequence[Section], meter: Meter, mode: str
) -> PartCadences:
    """`PartCadences` of a tune written as ``symbols`` (bar-aligned) in ``sections``."""
    bar = meter.bar_steps
    closes: list[bool] = []
    first_endings: list[bool] = []
    means: dict[str, float] = {}
    for section in sections:
        # From the bar line before the part (a pickup's bar), so beats read true; a note
        # held over that bar line from the part before is heard as a rest here.
        body = list(symbols[section.start - section.start % bar : section.end])
        if body and body[0] == HOLD:
            body[0] = REST
        whole = [(a, b) for a, b in section.endings if a % bar == 0]
        if whole:
            first, last = whole[0], whole[-1]
            if len(whole) > 1:
                first_endings.append(
                    ends_on_tonic(body + list(symbols[first[0] : first[1]]), meter, mode)
                )
            body_then_last = body + list(symbols[last[0] : last[1]])
        else:
            body_then_last = body
        closes.append(ends_on_tonic(body_then_last, meter, mode))
        pitches = [int(s) for s in symbols[section.start : section.end] if is_pitch(s)]
        if pitches:
            means.setdefault(section.label, sum(pitches) / len(pitches))
    b_above_a = means["B"] - means["A"] if "A" in means and "B" in means else None
    return PartCadences(closes, first_endings, b_above_a)


def parts_end_on_bar_lines(played: Sequence[str], form: TuneForm) -> float:
    """Share of part ends (before the last) where no note is held into the next part."""
    ends = [part.end for part in form.parts[:-1]]
    if not ends:
        return 1.0
    return sum(played[end] != HOLD for end in ends if end < len(played)) / len(ends)


def form_score(written: Sequence[str], form: TuneForm, meter: Meter, mode: str) -> int:
    """How the sampler chooses among a tune's candidates (0-5): the tune as played ends
    on the tonic (counted twice: it outweighs any one of the others; measured, 100 irish
    tunes: 0.65 tonic endings, 0.54 counted once), it repeats a figure (as
    `cadence_and_repeat` scores a single line, read once over the parts as written), its
    first endings lead back, and each new part contrasts with those before it. The
    notes are decoded once for all of these (the closing and each first ending are
    openings of the tune as written)."""
    notes = MelodyNotes(written)
    return (
        2 * int(notes.ends_on_tonic(meter, mode, form.closing_steps))
        + int(notes.repeats_a_figure(meter))
        + int(_first_endings_lead_on(notes, written, form, meter, mode))
        + int(shared_bars(written_parts(written, form)) <= MAX_SHARED_BARS)
    )
