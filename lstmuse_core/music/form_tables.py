"""Each style's forms, as its own tunes are written: the default of ``form=``.

``form_tables.json`` (next to this file) holds, per style, how many of its
tunes have each form (`lstmuse_core.music.form` spells a tune's sections:
``AABB``, ``A1A2BB``; one unrepeated part is ``none``) and each form's
commonest part length in bars. A melody whose request leaves ``form`` open
draws its form from these counts, as it draws its meter and mode, and a form
without ``bars`` gets its style's part length (`part_bars`). The table is
small and read without the corpora: the bot and the worker never read a
corpus. It is made from the corpora by::

    python -m lstmuse_core.music.form_tables [--styles folk irish ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.form import FORM_NONE, Form

if TYPE_CHECKING:
    from lstmuse_core.music.corpus import Song

TABLES_PATH = Path(__file__).with_name("form_tables.json")
FORM_STREAM = 2  # random stream of a melody's form draw (0: its notes, 1: meter and mode)
DEFAULT_PART_BARS = 8  # a strain of a dance tune; for a style or form the table lacks


def song_form(song: Song) -> str | None:
    """A corpus tune's form in ``form=``'s grammar: ``none`` for one unrepeated part,
    None for one the grammar does not write (too many parts)."""
    text = "".join(
        f"{s.label}1{s.label}2"
        if s.repeated and len(s.endings) >= 2
        else s.label * (1 + s.repeated)
        for s in song.sections
    )
    if len(song.sections) <= 1 and not any(s.repeated for s in song.sections):
        return FORM_NONE
    try:
        form = Form.parse(text)
    except InvalidParameter:
        return None
    return form.text if form is not None else FORM_NONE


def song_part_bars(song: Song) -> int:
    """Bars of a tune's first part: its body and first ending, its pickup bar not counted."""
    first = song.sections[0]
    bar = song.meter.bar_steps
    stop = first.endings[0][1] if first.endings else first.end
    steps = stop - first.start - (bar if song.pickup and first.start == 0 else 0)
    return max(1, round(steps / bar))


def style_table(songs: Iterable[Song]) -> dict[str, Any]:
    """Counts of forms and each form's commonest part length (bars) in ``songs``."""
    forms: Counter[str] = Counter()
    lengths: dict[str, list[int]] = defaultdict(list)
    other = 0
    for song in songs:
        form = song_form(song)
        if form is None:
            other += 1
            continue
        forms[form] += 1
        if form != FORM_NONE:
            lengths[form].append(song_part_bars(song))
    return {
        "forms": dict(forms.most_common()),
        "part_bars": {form: statistics.mode(bars) for form, bars in sorted(lengths.items())},
        "not_written_by_the_grammar": other,
    }


@cache
def _tables() -> dict[str, Any]:
    return dict(json.loads(TABLES_PATH.read_text(encoding="utf-8"))["styles"])


def style_forms(style: str) -> dict[str, int]:
    """The style's forms and how many of its tunes have each; ``{"none": 1}`` for a style
    the table lacks (one made from uploaded files)."""
    table = _tables().get(style)
    return dict(table["forms"]) if table else {FORM_NONE: 1}


def part_bars(style: str, form: str) -> int:
    """The commonest part length (bars) of ``form`` in the style's tunes, else
    `DEFAULT_PART_BARS`."""
    table = _tables().get(style)
    return int(table["part_bars"].get(form, DEFAULT_PART_BARS)) if table else DEFAULT_PART_BARS


def draw_form(forms: dict[str, int], seed: int) -> str:
    """One of ``forms`` (a form and its count of tunes) drawn by count from the melody's
    ``seed`` (its own stream: the meter and mode draws are unchanged); ``none`` if empty."""
    if not forms:
        return FORM_NONE
    import numpy as np

    names = sorted(forms)
    weights = np.array([forms[name] for name in names], dtype=float)
    rng = np.random.default_rng([seed, FORM_STREAM])
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def main(argv: list[str] | None = None) -> None:
    from lstmuse_core.music.corpus import STYLES
    from lstmuse_core.music.dataset import build_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", nargs="*", default=list(STYLES))
    parser.add_argument("--out", type=Path, default=TABLES_PATH)
    args = parser.parse_args(argv)
    styles: dict[str, Any] = {}
    for style in args.styles:
        started = time.perf_counter()
        dataset = build_dataset(style)
        styles[style] = {"songs": len(dataset.songs), **style_table(dataset.songs)}
        print(f"{style}: {len(dataset.songs)} songs, {time.perf_counter() - started:.0f} s")
    document = {
        "source": "music21 corpus, each style's songs as lstmuse_core.music.corpus reads them",
        "styles": styles,
    }
    args.out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
