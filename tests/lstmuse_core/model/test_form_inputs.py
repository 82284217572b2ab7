"""The form input: where each step stands in its tune's parts, read from a real tune's
repeat signs and endings for training, and the same numbers for a form the sampler writes."""

from __future__ import annotations

import numpy as np

from lstmuse_core.model.conditioning import (
    PART_NONE,
    REMAINING_OVER,
    Conditioning,
    form_inputs,
    part_class,
    remaining_class,
    song_inputs,
)
from lstmuse_core.music.corpus import (
    ReadOptions,
    Song,
    music21_corpus_root,
    read_abc_tunes,
    split_abc_tunes,
)
from lstmuse_core.music.form import Form, Section, tune_form
from lstmuse_core.music.meter import Meter


def _bars(values: np.ndarray, bar_steps: int) -> list[int]:
    """One value per bar (the bar's first step's), checking the bar holds only it."""
    bars = values[:-1].reshape(-1, bar_steps)
    assert (bars == bars[:, :1]).all()
    return bars[:, 0].tolist()


def _left(bars_left: int) -> int:
    return int(remaining_class(0, bars_left + 1))


def test_a_real_reel_is_told_its_parts_and_endings() -> None:
    """'The Geese in the Bog' (O'Neill's 1850, 6/8): ``|: A :|`` then ``|: B |1 .. :|2 ..||``.
    A's bars count down to A's end; B's body counts down through its second ending (the part
    as played the last time); the first ending is told a bar more (it leads back)."""
    text = split_abc_tunes(
        (music21_corpus_root() / "oneills1850" / "1031-1115.abc").read_text(errors="replace")
    )[54]
    (song,) = read_abc_tunes([text], "1031-1115.abc", ReadOptions(), 55)
    assert isinstance(song, Song) and song.form == "AABB"
    bar = song.meter.bar_steps
    a_part, b_part = song.sections
    (first_start, first_end), (second_start, second_end) = b_part.endings
    remaining, part = form_inputs(song.sections, len(song.symbols), bar)
    assert remaining[-1] == REMAINING_OVER
    assert part[0] == part[a_part.end - 1] == part_class(0, 0)
    assert remaining[a_part.end - 1] == _left(0)  # A's last bar: close the part
    assert part[b_part.start] == part_class(1, 0)
    assert part[first_start] == part_class(1, 1) and part[second_start] == part_class(1, 2)
    assert remaining[first_start - 1] == _left(1)  # B's body, its last bar: one more to come
    assert remaining[first_end - 1] == _left(1)  # the first ending leads back
    assert remaining[second_end - 1] == _left(0)  # the second closes the tune
    # Told its length, the song reads its form; not told, neither.
    inputs = {
        known: song_inputs(
            np.zeros(len(song.symbols), dtype=np.int64),
            bar_steps=bar,
            meter_id=0,
            mode_id=0,
            delimiter=1,
            length_known=known,
            sections=song.sections,
        )
        for known in (True, False)
    }
    np.testing.assert_array_equal(inputs[True]["part"], part)
    assert (inputs[False]["part"] == PART_NONE).all()


def test_a_tune_of_one_line_reads_as_before() -> None:
    """No sections, or one played once: the song's own countdown and no part."""
    bar, steps = 12, 96
    plain = song_inputs(
        np.zeros(steps, dtype=np.int64),
        bar_steps=bar,
        meter_id=0,
        mode_id=0,
        delimiter=1,
        length_known=True,
    )
    one_part, part = form_inputs((Section("A", 0, steps),), steps, bar)
    np.testing.assert_array_equal(one_part, plain["remaining"])
    assert (part == PART_NONE).all() and (plain["part"] == PART_NONE).all()


def test_a_form_the_sampler_writes_is_laid_out_as_the_reader_keeps_a_tune() -> None:
    """A1A2B with a pickup bar, parts of 4 bars of 6/8: A's body holds the pickup bar and
    three bars, its endings follow; B has none. Told as training tells a read tune: the
    bars count down to each part's end, the first ending leads on, the second closes."""
    form = Form.parse("A1A2B")
    assert form is not None
    bar = Meter(6, 8).bar_steps
    layout = tune_form(form, 4, bar, True)
    assert layout.sections == (
        Section("A", 0, 4 * bar, True, ((4 * bar, 5 * bar), (5 * bar, 6 * bar))),
        Section("B", 6 * bar, 10 * bar, False),
    )
    remaining, part = form_inputs(layout.sections, layout.written_steps, bar)
    # Pickup, A's 3 body bars, first ending, second ending, then B's 4 bars.
    assert _bars(remaining, bar) == [_left(n) for n in (4, 3, 2, 1, 1, 0, 3, 2, 1, 0)]
    a_body, a_first, a_second, b_body = (part_class(*p) for p in ((0, 0), (0, 1), (0, 2), (1, 0)))
    assert _bars(part, bar) == [a_body] * 4 + [a_first, a_second] + [b_body] * 4
    assert remaining[-1] == REMAINING_OVER


def test_only_networks_trained_with_it_read_the_form_input() -> None:
    """Bundles trained before the form input (no "form" in their conditioning) lack it."""
    meters, modes = {Meter(6, 8): 3}, {"major": 3}
    assert "part" in Conditioning(meters, modes, form=True).inputs
    assert "part" not in Conditioning(meters, modes).inputs
    old = Conditioning(meters, modes, form=True).to_json()
    del old["form"]
    assert "part" not in Conditioning.from_json(old).inputs
    assert "part" not in Conditioning(meters, modes, metrical=False, form=True).categories(9)
