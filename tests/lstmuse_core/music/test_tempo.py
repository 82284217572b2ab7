"""A style's tempo in each meter, in the meter's beat (`lstmuse_core.music.tempo`)."""

from __future__ import annotations

import pytest

from lstmuse_core.music.meter import Meter
from lstmuse_core.music.tempo import Tempo, default_tempo, melody_tempo, slowest_tempo


@pytest.mark.parametrize(
    ("style", "meter", "quarter_bpm", "text"),
    [
        ("irish", "6/8", 165.0, "dotted quarter = 110 (165 bpm)"),
        ("irish", "9/8", 165.0, "dotted quarter = 110 (165 bpm)"),
        ("irish", "2/2", 220.0, "half = 110 (220 bpm)"),
        ("fiddle", "4/4", 220.0, "220 bpm"),
        ("irish", "2/4", 132.0, "132 bpm"),
        ("scottish", "6/8", 180.0, "dotted quarter = 120 (180 bpm)"),
        ("folk", "4/4", 100.0, "100 bpm"),
        ("folk", "6/8", 99.0, "dotted quarter = 66 (99 bpm)"),
        ("chorale", "3/4", 100.0, "100 bpm"),
        ("irish", "5/4", 100.0, "100 bpm"),  # no dance in the table: a song's tempo
    ],
)
def test_the_default_tempo_by_style_and_meter(
    style: str, meter: str, quarter_bpm: float, text: str
) -> None:
    """A jig at a dotted quarter of 110 is 165 quarters a minute; folk songs walk at 100."""
    tempo = default_tempo(style, Meter.parse(meter))
    assert tempo.quarter_bpm == pytest.approx(quarter_bpm)
    assert tempo.text == text


def test_an_asked_bpm_wins_and_is_told_in_the_meters_beat() -> None:
    """bpm=90 in 6/8 is a dotted quarter of 60, whatever the style's own tempo."""
    tempo = melody_tempo("irish", Meter(6, 8), 90.0)
    assert (tempo.quarter_bpm, tempo.beats_per_minute) == (90.0, 60.0)
    assert tempo.text == "dotted quarter = 60 (90 bpm)"
    assert melody_tempo("irish", Meter(6, 8), None) == default_tempo("irish", Meter(6, 8))
    assert Tempo.in_beats(Meter(2, 2), 110) == Tempo(Meter(2, 2), 220.0)


def test_the_slowest_tempo_is_the_least_of_the_styles_defaults() -> None:
    """Costing looks at every common meter unless the meter is known."""
    assert slowest_tempo("irish", [Meter(6, 8)]) == 165.0
    assert slowest_tempo("irish") == 100.0  # 3/2 and 6/4 are not dances here: songs
    assert slowest_tempo("folk") == 99.0
