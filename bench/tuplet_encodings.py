"""Three ways to encode tuplets, measured on the real corpora (issue 21).

For every tune of a style the reader lays out (its meter and bars usable), the
notes are timed exactly (Fractions of a 16th) and each encoding is asked:

* ``16th``: today's grid; a tune with any off-grid time is dropped;
* ``grid12``: 12 steps a quarter (a 16th is 3 steps, an 8th triplet 4): the
  tune is read exactly when every time is on that grid;
* ``marker``: the 16th grid with a triplet marker (`encoding.TRIPLET`): a
  group of three 8th triplets in a quarter is the marker and three slots;
* ``onset/duration``: a pitch (or rest) token and a duration token per note:
  any tuplet is exact.

Printed per style: tunes read exactly, symbols per bar (the sampler's cost is
per step, so this is the cost of sampling a bar relative to today, for the same
network; counted over every tune laid out on bars), vocabulary size, and the
tunes with tuplets each encoding loses.

    .venv/bin/python bench/tuplet_encodings.py [--styles irish fiddle scottish]
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections import Counter
from fractions import Fraction
from typing import Any

from lstmuse_core.music import corpus
from lstmuse_core.music.bar_layout import Dropped, lay_out_bars
from lstmuse_core.music.encoding import HOLD, REST, NoteEvent, encode_notes, is_pitch

ENCODINGS = ("16th", "grid12", "marker", "onset/duration")


def exact_notes(tune: str) -> tuple[list[NoteEvent], int, Any] | str:
    """A tune's notes timed exactly in 16th steps, its bar length in steps; or why not."""
    from music21 import converter

    marked, _ = corpus.prepare_abc_tune(tune)
    try:
        score = converter.parse(marked, format="abc", forceSource=True)
    except corpus.parse_errors():
        return "not readable"
    part = corpus._choose_part(score, None)
    layout = lay_out_bars(part)
    if isinstance(layout, Dropped):
        return layout.reason
    meter = layout.meter
    timed = corpus._top_line(layout.placed(part.flatten().notes))
    notes = corpus._on_grid(timed, "triplets", origin=Fraction(0)) if timed else None
    if not notes:
        return "no notes"
    return notes, meter.bar_steps, meter


def measure(style: str, limit: int | None) -> dict[str, Any]:
    chosen = corpus.STYLES[style]
    tunes = [t for path in chosen.files() for t in corpus.split_abc_tunes(path.read_text())]
    tunes = tunes[:limit] if limit else tunes
    kept = Counter[str]()
    symbols = Counter[str]()
    bars = 0
    with_tuplets = 0
    reasons = Counter[str]()
    vocab: dict[str, set[str]] = {name: set() for name in ENCODINGS}
    off_grid_kinds = Counter[str]()
    with corpus.without_beaming():
        for tune in tunes:
            read = exact_notes(tune)
            if isinstance(read, str):
                reasons[read] += 1
                continue
            notes, bar_steps, _ = read
            end = notes[-1].end
            length = -(-end // bar_steps) * bar_steps  # held to the bar line, as the reader does
            tune_bars = int(length // bar_steps)
            times = [t for n in notes for t in (n.start, n.end)]
            tuplet = any(n.in_tuplet for n in notes)
            with_tuplets += tuplet
            pitches = {str(n.pitch) for n in notes if n.pitch is not None}
            base = pitches | {HOLD, REST}
            exact12 = all((Fraction(t) * 3).denominator == 1 for t in times)
            try:
                marked = encode_notes(notes)
                marked_ok = True
            except ValueError:
                marked_ok = False
                off_grid_kinds[_kind(notes)] += 1
            # Symbols per bar over the same tunes (every tune laid out): what each
            # encoding would spend on them.
            symbols["16th"] += length
            symbols["grid12"] += 3 * length
            symbols["marker"] += length
            if not tuplet:
                kept["16th"] += 1
                vocab["16th"] |= base
            if exact12:
                kept["grid12"] += 1
                vocab["grid12"] |= base
            if marked_ok:
                kept["marker"] += 1
                vocab["marker"] |= base | set(marked)
            kept["onset/duration"] += 1
            gaps = sum(1 for a, b in itertools.pairwise(notes) if b.start > a.end)
            symbols["onset/duration"] += 2 * (len(notes) + gaps)
            durations = {f"d{n.duration}" for n in notes}
            vocab["onset/duration"] |= pitches | {REST} | durations
            bars += tune_bars
    return {
        "style": style,
        "tunes": len(tunes),
        "laid_out": sum(kept[e] for e in ("onset/duration",)),
        "with_tuplets": with_tuplets,
        "kept": dict(kept),
        "symbols_per_bar": {e: symbols[e] / max(1, bars) for e in ENCODINGS},
        "bars": bars,
        "vocab": {e: len(v) + 1 for e, v in vocab.items()},  # + the song delimiter
        "not_laid_out": dict(reasons),
        "marker_misses": dict(off_grid_kinds.most_common(6)),
        "pitch_vocab_check": all(is_pitch(s) or s in (HOLD, REST) for s in vocab["16th"]),
    }


def _kind(notes: list[NoteEvent]) -> str:
    """What the marker cannot write: the first off-grid time's fraction of a step."""
    first = next(n for n in notes if n.in_tuplet)
    time_ = Fraction(first.start if Fraction(first.start).denominator != 1 else first.end)
    return f"off-grid at {time_ % 1} of a step, duration {first.duration}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", nargs="+", default=["irish", "fiddle", "scottish"])
    parser.add_argument("--limit", type=int, help="first N tunes of each style")
    args = parser.parse_args()
    print("style    encoding        tunes read exactly   symbols/bar  vs 16th   vocab")
    for style in args.styles:
        started = time.perf_counter()
        figures = measure(style, args.limit)
        base = figures["symbols_per_bar"]["16th"]
        for name in ENCODINGS:
            per_bar = figures["symbols_per_bar"][name]
            print(
                f"{style:8} {name:15} {figures['kept'].get(name, 0):5} of {figures['laid_out']:5}"
                f"          {per_bar:6.2f}  {per_bar / base:6.2f}x  {figures['vocab'][name]:5}"
            )
        print(
            f"         {figures['tunes']} tunes, {figures['laid_out']} laid out on bars,"
            f" {figures['with_tuplets']} with tuplets; not laid out: {figures['not_laid_out']}"
        )
        print(f"         marker misses: {figures['marker_misses']}")
        print(f"         ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
