"""The piano roll: a melody drawn as a PNG, bars and beats on x, named pitches on y,
its chord symbols (if any) above the bars."""

from __future__ import annotations

import functools
import importlib.util
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lstmuse_core.errors import MissingToolError
from lstmuse_core.music.form import PlayedPart
from lstmuse_core.music.harmony import ChordSpan
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.pitch import note_name
from lstmuse_core.music.render.base import RenderJob, require_notes

PIANOROLL_SIZE = (1200, 500)  # px: one phone screen wide
# The plot area inside the picture, px (left, top, right, bottom): room for
# the title above, note names on the left, bar numbers below.
PIANOROLL_PLOT = (90, 55, 1182, 445)
PIANOROLL_COLOURS = {
    "background": (255, 255, 255),
    "black_key_row": (238, 240, 244),
    "beat_line": (208, 208, 208),
    "bar_line": (85, 85, 85),
    "note": (59, 111, 182),
    "note_edge": (29, 58, 99),
    "text": (0, 0, 0),
    # The seed melody's bars: a warm paper tone, so what was given stands apart
    # from what was generated, and a line where the seed ends.
    "seed": (255, 244, 222),
    "seed_black_key_row": (240, 228, 204),
    "seed_line": (196, 120, 20),
}
PIANOROLL_FONT_PX = {"title": 22, "label": 17, "chord": 15}
# With chord symbols the title moves up by this much, px, leaving a row above
# the plot for them (the picture keeps its size: the title had room to spare).
CHORD_ROW_PX = 18
# Chord symbols closer than this to the one before, px, are left out: a 32-bar
# tune with two chords a bar has 17 px a chord, where "F#m" needs ~30.
MIN_CHORD_GAP_PX = 4
# zlib level 1: 2.5 ms less than the default 6 for 28 KB instead of 21 KB; the
# rest of the ~7 ms is Pillow choosing a PNG filter for every row.
PIANOROLL_PNG_COMPRESS_LEVEL = 1
# A beat line is drawn only where beats are at least this far apart, px: not crammed.
MIN_BEAT_LINE_GAP_PX = 4


def render_job(job: RenderJob, path: Path) -> Path:
    return render_pianoroll(
        job.melody,
        path,
        title=job.title,
        seed_steps=job.seed_steps,
        chords=job.chords,
        parts=job.form.parts if job.form is not None else (),
    )


def render_pianoroll(
    melody: Melody,
    path: Path,
    *,
    title: str = "",
    seed_steps: int = 0,
    chords: Sequence[ChordSpan] = (),
    parts: Sequence[PlayedPart] = (),
) -> Path:
    """Draw the melody as a piano roll PNG (`PIANOROLL_SIZE`, 1200 x 500 px) at ``path``.

    x: 16th-note steps, with bar lines, beat lines and bar numbers from the
    melody's meter; y: pitches named as the melody's key spells them (C4,
    F#4 in sharp keys, Bb4 in flat ones), black-key rows shaded; ``title``
    on top. The first ``seed_steps`` steps, the seed melody, are shaded and
    labelled "seed" up to a line where the generated music begins. Each of
    ``chords`` that differs from the one before is written above the plot
    where it starts, as on a lead sheet (one that would run into the symbol
    before it is left out, `MIN_CHORD_GAP_PX`). Drawn
    with Pillow straight onto pixels (~5 ms; the matplotlib figure it
    replaces took ~60 ms for the same picture). Each of ``parts`` (a form's parts as
    played) is labelled inside the plot's top left corner, ``A``, ``A2`` for a repeat's
    second time, after a heavier line where it starts.
    """
    try:
        from PIL import Image, ImageDraw
    except ImportError as error:
        raise MissingToolError("Pillow", "pip install 'lstmuse[render]'") from error

    require_notes(melody)
    notes = [(e.pitch, e.start, e.duration) for e in melody.notes if e.pitch is not None]
    total_steps = len(melody)
    low = min(p for p, _, _ in notes) - 1  # a free row below ...
    high = max(p for p, _, _ in notes) + 1  # ... and above
    left, top, right, bottom = PIANOROLL_PLOT
    step_px = (right - left) / total_steps
    row_px = (bottom - top) / (high - low + 1)
    colours, text = PIANOROLL_COLOURS, PIANOROLL_COLOURS["text"]

    def x_at(step: float) -> int:
        return left + round(step * step_px)

    def y_at(pitch: float) -> int:  # pitch rows run upwards; row `low` ends at `bottom`
        return bottom - round((pitch - low + 0.5) * row_px)

    image = Image.new("RGB", PIANOROLL_SIZE, colours["background"])
    draw = ImageDraw.Draw(image)
    seed_end = x_at(min(seed_steps, total_steps))
    if seed_steps > 0:
        draw.rectangle((left, top, seed_end, bottom), colours["seed"])
    # Black-key rows shaded, like a keyboard on its side: pitches read at a glance.
    for pitch in range(low, high + 1):
        if pitch % 12 in (1, 3, 6, 8, 10):
            row_top, row_bottom = y_at(pitch + 0.5), y_at(pitch - 0.5) - 1
            draw.rectangle((left, row_top, right, row_bottom), colours["black_key_row"])
            if seed_steps > 0:
                draw.rectangle((left, row_top, seed_end, row_bottom), colours["seed_black_key_row"])
    for step in beat_line_steps(melody.meter, total_steps, step_px):
        draw.line((x_at(step), top, x_at(step), bottom), colours["beat_line"])
    bar_starts = range(0, total_steps, melody.meter.bar_steps)
    for step in bar_starts:  # 2 px wide, ending at the bar's first pixel
        draw.rectangle((x_at(step) - 1, top, x_at(step), bottom), colours["bar_line"])
    for pitch, start, duration in notes:
        draw.rectangle(
            (
                x_at(float(start)),
                y_at(pitch + 0.4),
                # at least one pixel wide: a 16th is under a pixel in a long melody
                max(x_at(float(start)), x_at(float(start + duration)) - 1),
                y_at(pitch - 0.4),
            ),
            fill=colours["note"],
            outline=colours["note_edge"],
        )
    draw.rectangle((left, top, right, bottom), outline=text)  # the frame, over the rows' ends

    label_font = _font(PIANOROLL_FONT_PX["label"])
    flats = melody.key is not None and melody.key.flats
    if seed_steps > 0:  # over the bar line a seed of whole bars ends on
        draw.rectangle((seed_end - 1, top, seed_end, bottom), colours["seed_line"])
        draw.text((seed_end - 5, top + 3), "seed", colours["seed_line"], label_font, anchor="ra")
    for pitch in pitch_ticks(low, high):
        y = y_at(pitch)
        draw.line((left - 5, y, left - 1, y), text)
        draw.text((left - 8, y), note_name(pitch, flats=flats), text, label_font, anchor="rm")
    label_every = max(1, math.ceil(len(bar_starts) / 16))  # at most 16 bar numbers
    for bar in range(0, len(bar_starts), label_every):
        x = x_at(bar_starts[bar])
        draw.line((x, bottom + 1, x, bottom + 5), text)
        draw.text((x, bottom + 8), str(bar + 1), text, label_font, anchor="mt")
    draw.text(((left + right) // 2, PIANOROLL_SIZE[1] - 10), "bar", text, label_font, anchor="mb")
    for part in parts:
        x = x_at(part.start)
        if part.start:
            draw.rectangle((x - 2, top, x + 1, bottom), colours["seed_line"])
        name = part.label + ("2" if part.time == 2 else "")
        draw.text((x + 5, top + 3), name, colours["seed_line"], label_font, anchor="la")
    _draw_chord_symbols(draw, chords, x_at, top - 4)
    if title:
        title_font = _font(PIANOROLL_FONT_PX["title"])
        title_bottom = top - 8 - (CHORD_ROW_PX if chords else 0)
        draw.text((left, title_bottom), title, text, title_font, anchor="ld")
    image.save(path, format="PNG", compress_level=PIANOROLL_PNG_COMPRESS_LEVEL)
    return path


def _draw_chord_symbols(draw: Any, chords: Sequence[ChordSpan], x_at: Any, bottom: int) -> None:
    """Each chord change's symbol, its left edge at the chord's start, resting on ``bottom``."""
    font = _font(PIANOROLL_FONT_PX["chord"])
    free_from = -math.inf  # the first x past the symbol drawn last
    previous = None
    for chord in chords:
        changed, previous = chord.symbol != previous, chord.symbol
        x = x_at(chord.start) + 2
        if not changed or x < free_from:
            continue
        draw.text((x, bottom), chord.symbol, PIANOROLL_COLOURS["text"], font, anchor="ld")
        free_from = x + draw.textlength(chord.symbol, font=font) + MIN_CHORD_GAP_PX


def beat_line_steps(meter: Meter, total_steps: int, step_px: float) -> range:
    """Steps that start a beat of ``meter`` (the dotted beat of a compound one), where
    beat lines are drawn: none when a beat is one 16th (x/16) or the lines would be
    closer than `MIN_BEAT_LINE_GAP_PX` pixels (``step_px``: pixels per step)."""
    beat = meter.beat_steps
    if beat < 2 or beat * step_px < MIN_BEAT_LINE_GAP_PX:
        return range(0)
    return range(0, total_steps, beat)


@functools.cache
def _font(size_px: int) -> Any:
    """DejaVu Sans at ``size_px`` (matplotlib's old font, if installed), else Pillow's own."""
    from PIL import ImageFont

    for candidate in _dejavu_sans_paths():
        try:
            return ImageFont.truetype(str(candidate), size_px)
        except OSError:
            continue
    return ImageFont.load_default(size_px)


def _dejavu_sans_paths() -> list[Path]:
    paths = [Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")]
    # find_spec locates matplotlib's bundled copy without importing matplotlib.
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.origin is not None:
        paths.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf")
    return [p for p in paths if p.is_file()]


def pitch_ticks(low: int, high: int) -> list[int]:
    """Pitches to name on the y axis: every one if they fit, else C, E, G; else C."""
    rows = high - low + 1
    pixels_per_row = (PIANOROLL_PLOT[3] - PIANOROLL_PLOT[1]) / rows
    if pixels_per_row >= 15:
        return list(range(low, high + 1))
    classes = (0, 4, 7) if 3 * pixels_per_row >= 15 else (0,)
    return [p for p in range(low, high + 1) if p % 12 in classes]
