"""A style's tunes with a form, generated beside its corpus's and beside one line.

For ``lstmuse evaluate --musical``: ``count`` tunes in forms drawn from the
style's own tunes (`lstmuse_core.music.form_tables`; its forms with parts, each
at its style's part length), sampled as every reply samples them, measured as
a player checks a tune in parts:

* adherence: the parts asked for are played, each repeat is the same notes,
  a first and a second ending differ and only they do;
* contrast: each new part shares at most half its bars with the parts before it;
* each part ends on a bar line (no note held into the next part);
* the tune ends on the tonic;
* how its parts close (`PartCadences`): each part on the tonic as played the
  last time, first endings on the tonic (they usually lead back), and B's
  register above A's. These are also measured for the network alone (one
  candidate a tune, as `candidates=1` samples): the reply's choice among
  candidates prefers first endings that lead on, the network alone shows what
  it learnt from its form input.

Beside them: the corpus's tunes with parts (from `Song.sections`) and the same
plans sampled as one line of as many bars (today's reply), cut into parts of
the same length where a measure needs parts.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from lstmuse_core.model.generate import CANDIDATES, MelodyGenerator, SamplingControls
from lstmuse_core.music.corpus import Song
from lstmuse_core.music.encoding import HOLD
from lstmuse_core.music.form import FORM_NONE, Form, TuneForm
from lstmuse_core.music.form_measures import (
    MAX_SHARED_BARS,
    PartCadences,
    part_cadences,
    parts_end_on_bar_lines,
    shared_bars,
    written_parts,
)
from lstmuse_core.music.form_tables import draw_form, part_bars, song_form, style_forms
from lstmuse_core.music.musicality import ends_on_tonic


def _share(values: Sequence[bool | float]) -> float:
    return sum(values) / len(values) if values else 0.0


def adheres(played: Sequence[str], form: TuneForm) -> bool:
    """The asked parts are played; a repeat plays the same bars; endings differ, bodies not."""
    parts = form.parts
    if [p.label for p in parts] != list(form.form.played):
        return False
    step = form.bar_steps
    for first, second in itertools.pairwise(parts):
        if (first.label, first.time, second.time) != (second.label, 1, 2):
            continue
        # The first time may hold the pickup bar: compare from the end.
        a = played[first.start : first.end][-(second.end - second.start) :]
        b = played[second.start : second.end]
        endings = form.form.has_endings(first.label) and form.part_bars >= 2
        if endings:
            if a[:-step] != b[:-step] or a[-step:] == b[-step:]:
                return False
        elif a != b:
            return False
    return True


def _cadence_figures(cadences: Sequence[PartCadences]) -> dict[str, Any]:
    """Shares over every part and first ending of ``cadences``; B above A, mean."""
    climbs = [c.b_above_a for c in cadences if c.b_above_a is not None]
    return {
        "parts_close_on_tonic": _share([x for c in cadences for x in c.closes]),
        "first_endings_on_tonic": _share([x for c in cadences for x in c.first_endings]),
        "first_endings": sum(len(c.first_endings) for c in cadences),
        "b_above_a_semitones": sum(climbs) / len(climbs) if climbs else None,
    }


def _tune_cadences(tunes: Sequence[Any]) -> dict[str, Any]:
    return _cadence_figures(
        [
            part_cadences(t.symbols, t.form.sections, t.meter, t.mode)
            for t in tunes
            if t.form is not None
        ]
    )


def _line_parts(symbols: Sequence[str], bar: int, part: int) -> list[list[tuple[str, ...]]]:
    """A line cut into parts of ``part`` bars (after a pickup bar if it has one)."""
    first_note = next((i for i, s in enumerate(symbols) if s not in (HOLD, "r")), 0)
    start = bar if first_note >= bar // 2 and len(symbols) % (part * bar) else 0
    bars = [tuple(symbols[i : i + bar]) for i in range(start, len(symbols), bar)]
    return [bars[i : i + part] for i in range(0, len(bars), part)]


def _corpus_figures(corpus: Sequence[Song]) -> dict[str, Any]:
    formed = [s for s in corpus if song_form(s) not in (None, FORM_NONE)]
    contrast, bar_lines, tonic = [], [], []
    for song in formed:
        bar = song.meter.bar_steps
        bodies: dict[str, list[tuple[str, ...]]] = {}
        for section in song.sections:
            bodies.setdefault(
                section.label,
                [
                    tuple(song.symbols[i : i + bar])
                    for i in range(section.start - section.start % bar, section.end, bar)
                ],
            )
        contrast.append(shared_bars(list(bodies.values())) <= MAX_SHARED_BARS)
        ends = [s.end for s in song.sections] + [e for s in song.sections for _, e in s.endings]
        bar_lines.append(_share([end % bar == 0 for end in ends]))
        tonic.append(ends_on_tonic(song.ending_symbols, song.meter, song.mode))
    return {
        "tunes_with_parts": len(formed),
        "of_songs": len(corpus),
        "contrast": _share(contrast),
        "parts_end_on_bar_lines": _share(bar_lines),
        "tonic_endings": _share(tonic),
        **_cadence_figures([part_cadences(s.symbols, s.sections, s.meter, s.mode) for s in formed]),
    }


def evaluate_forms(
    generator: MelodyGenerator,
    corpus: Sequence[Song],
    *,
    count: int = 100,
    seed: int = 0,
    temperature: float | None = None,
) -> dict[str, Any]:
    """Form figures of ``count`` generated tunes, the corpus's, and one line's; see above."""
    forms = {f: n for f, n in style_forms(generator.style).items() if f != FORM_NONE}
    result: dict[str, Any] = {"corpus": _corpus_figures(corpus)}
    if not forms:
        result["generated"] = {"tunes": 0, "why": "the style's tunes are one line (form none)"}
        return result
    controls = SamplingControls(temperature or generator.default_temperature)
    plans = []
    for s in range(seed, seed + count):
        drawn_form = draw_form(forms, s)
        plans.append(
            generator.plan(
                s, bars=part_bars(generator.style, drawn_form), form=Form.parse(drawn_form)
            )
        )
    tunes = generator.sample_plans(plans, controls, CANDIDATES)
    alone = generator.sample_plans(plans, controls, 1)
    lines = generator.sample_plans(
        [replace(p, form=None, bars=p.form.sampled_bars(p.bars or 1)) for p in plans if p.form],
        controls,
        CANDIDATES,
    )
    adherence, contrast, bar_lines, tonic = [], [], [], []
    for tune in tunes:
        form = tune.form
        assert form is not None
        played = tune.played
        adherence.append(adheres(played, form))
        contrast.append(shared_bars(written_parts(tune.symbols, form)) <= MAX_SHARED_BARS)
        bar_lines.append(parts_end_on_bar_lines(played, form))
        tonic.append(ends_on_tonic(form.closing(tune.symbols), tune.meter, tune.mode))
    line_contrast, line_bar_lines, line_tonic = [], [], []
    for line, plan in zip(lines, plans, strict=True):
        bar, part = plan.bar_steps, plan.bars or 1
        chunks = _line_parts(line.symbols, bar, part)
        line_contrast.append(shared_bars(chunks) <= MAX_SHARED_BARS)
        boundaries = [i * part * bar for i in range(1, len(chunks))]
        offset = len(line.symbols) - sum(len(c) for c in chunks) * bar
        line_bar_lines.append(
            _share([line.symbols[offset + b] != HOLD for b in boundaries]) if boundaries else 1.0
        )
        line_tonic.append(ends_on_tonic(line.symbols, line.meter, line.mode))
    drawn: dict[str, int] = {}
    for tune in tunes:
        assert tune.form is not None
        drawn[tune.form.form.text] = drawn.get(tune.form.form.text, 0) + 1
    result["generated"] = {
        "tunes": len(tunes),
        "forms": dict(sorted(drawn.items(), key=lambda item: -item[1])),
        "adherence": _share(adherence),
        "contrast": _share(contrast),
        "parts_end_on_bar_lines": _share(bar_lines),
        "tonic_endings": _share(tonic),
        **_tune_cadences(tunes),
    }
    result["network_alone"] = {"tunes": len(alone), **_tune_cadences(alone)}
    result["one_line"] = {
        "tunes": len(lines),
        "contrast": _share(line_contrast),
        "parts_end_on_bar_lines": _share(line_bar_lines),
        "tonic_endings": _share(line_tonic),
    }
    return result
