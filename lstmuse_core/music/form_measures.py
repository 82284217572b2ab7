"""Measures of a tune's form: what a player checks of its parts.

Used by the sampler to choose among candidates of a tune with a form
(`lstmuse_core.model.generate`) and by the musical evaluation to set
generated tunes beside the corpus's (`lstmuse_core.model.musical_evaluation`).
Melodies are symbols, one per 16th note, bar-aligned (step 0 is a bar line).
"""

from __future__ import annotations

from collections.abc import Sequence

from lstmuse_core.music.encoding import HOLD
from lstmuse_core.music.form import FIRST_ENDING, SECOND_ENDING, TuneForm
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.musicality import ends_on_tonic, repeats_a_figure

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


def written_parts(written: Sequence[str], form: TuneForm) -> list[list[tuple[str, ...]]]:
    """Each distinct part's bars as written (body, no endings; pickup bar left out)."""
    return [
        _bars(
            written,
            form.bar_steps,
            [i for i, bar in enumerate(form.written) if bar.label == label and bar.role == "body"],
        )
        for label in form.form.labels
    ]


def first_endings_lead_on(written: Sequence[str], form: TuneForm, meter: Meter, mode: str) -> bool:
    """Whether every first ending leads back rather than closes: it does not end on the
    tonic on a strong beat, and it differs from its second ending."""
    step = form.bar_steps
    for label in form.form.labels:
        roles = {b.role: i for i, b in enumerate(form.written) if b.label == label}
        if FIRST_ENDING not in roles:
            continue
        first, second = roles[FIRST_ENDING], roles[SECOND_ENDING]
        if ends_on_tonic(written[: (first + 1) * step], meter, mode):
            return False
        if _bars(written, step, [first]) == _bars(written, step, [second]):
            return False
    return True


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
    first endings lead back, and each new part contrasts with those before it."""
    return (
        2 * int(ends_on_tonic(form.closing(written), meter, mode))
        + int(repeats_a_figure(written, meter))
        + int(first_endings_lead_on(written, form, meter, mode))
        + int(shared_bars(written_parts(written, form)) <= MAX_SHARED_BARS)
    )
