"""A style's tempo in each meter, stated as a musician states it: in the meter's beat.

A jig is played at a dotted quarter of about 110, a reel at a half note of
about 110, a German song at a walking quarter: one tempo for every style
(120 quarter notes a minute) plays a jig at a dotted quarter of 80 and a
slow air as fast as a polka. A request's ``bpm`` (quarter notes a minute)
still wins; without one, each melody plays at its style's tempo for the
meter it was drawn in (`default_tempo`).

Where the numbers come from:

- **irish, fiddle** (O'Neill, Ryan): the corpus files rarely state a tempo
  (22 of O'Neill's 2,009 tunes and 5 of Ryan's 1,059 have a ``Q:``), so the
  meter names the dance it usually is in a session, at a moderate session
  tempo (`DANCE_TEMPOS`);
- **scottish** (Aird): 1,172 of its 1,180 tunes state a ``Q:``; the table
  holds the median of those per meter (`AIRD_TEMPOS`);
- **folk** (ESAC, no ``Q:`` at all), **chorale** and any other style: a
  song's tempo (`SONG_QUARTER_BPM`, `SONG_COMPOUND_BEAT_BPM`).

The corpus reader does not keep a tune's ``Q:``, so the measured figures are
written here rather than read from each style's bundle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lstmuse_core.music.encoding import STEPS_PER_QUARTER
from lstmuse_core.music.meter import Meter

# Beats a minute of the meter's beat (`Meter.beat_steps`: a dotted quarter in
# 6/8, a half note in 2/2, a quarter in 4/4), by meter: the dance a session
# player hears in that meter. Set dancers' tempos (Sydney Irish Ceili Dancers,
# "Dance Music", sydneyirishceilidancers.com.au/dance-music-1): reels and jigs
# 116-124 beats of two a bar, polkas and slides 132-140, hornpipes 92-100; a
# session plays a little under a dancer's pace, so reels and jigs at 110 here.
# The waltz (~50 bars a minute) is a common ballroom pace, not from that source.
DANCE_TEMPOS: Mapping[str, tuple[str, float]] = {
    "6/8": ("jig", 110),  # dotted quarter
    "9/8": ("slip jig", 110),  # dotted quarter, as a jig's
    # The dancers' 132-140 for a slide counts its dotted quarters, as for a
    # single jig: four a 12/8 bar (198 quarter notes a minute).
    "12/8": ("slide", 132),  # dotted quarter
    "2/2": ("reel", 110),  # half note
    "4/4": ("reel", 220),  # quarter: a half note of 110
    "2/4": ("polka", 132),  # quarter
    "3/4": ("waltz", 150),  # quarter: a bar of 50
}
# The median ``Q:`` of Aird's tunes per meter, in the meter's beat (C is 4/4,
# C| is 2/2; 374, 336, 239, 127, 49 and 26 tunes).
AIRD_TEMPOS: Mapping[str, tuple[str, float]] = {
    "4/4": ("air", 120),
    "6/8": ("jig", 120),
    "2/4": ("march", 104),
    "2/2": ("reel", 100),
    "3/4": ("air", 100),
    "9/8": ("slip jig", 120),
}
SONG_QUARTER_BPM = 100.0  # a song in a simple meter: a walking quarter ("mäßig")
SONG_COMPOUND_BEAT_BPM = 66.0  # a song's dotted beat: a lilt, 6/8 at 99 quarters a minute
STYLE_TEMPOS: Mapping[str, Mapping[str, tuple[str, float]]] = {
    "irish": DANCE_TEMPOS,
    "fiddle": DANCE_TEMPOS,
    "scottish": AIRD_TEMPOS,
}
# The meters the slowest possible default is looked for in (see `slowest_tempo`).
_COMMON_METERS = ("2/4", "3/4", "4/4", "2/2", "3/2", "3/8", "6/8", "9/8", "12/8", "6/4")
_BEAT_NAMES = {
    1: "sixteenth",
    2: "eighth",
    3: "dotted eighth",
    4: "quarter",
    6: "dotted quarter",
    8: "half",
    12: "dotted half",
    16: "whole",
    24: "dotted whole",
}


@dataclass(frozen=True)
class Tempo:
    """``quarter_bpm`` quarter notes a minute (what MIDI and ``bpm=`` use) in ``meter``."""

    meter: Meter
    quarter_bpm: float

    @classmethod
    def in_beats(cls, meter: Meter, beats_per_minute: float) -> Tempo:
        """The tempo of ``beats_per_minute`` of the meter's own beat."""
        return cls(meter, beats_per_minute * meter.beat_steps / STEPS_PER_QUARTER)

    @property
    def beats_per_minute(self) -> float:
        """Beats of the meter's beat a minute (a jig at 165 bpm: 110 dotted quarters)."""
        return self.quarter_bpm * STEPS_PER_QUARTER / self.meter.beat_steps

    @property
    def text(self) -> str:
        """``dotted quarter = 110 (165 bpm)``; just ``120 bpm`` where the beat is a quarter."""
        if self.meter.beat_steps == STEPS_PER_QUARTER:
            return f"{self.quarter_bpm:.4g} bpm"
        beat = _BEAT_NAMES.get(self.meter.beat_steps, f"{self.meter.beat_steps}-sixteenth")
        return f"{beat} = {self.beats_per_minute:.0f} ({self.quarter_bpm:.4g} bpm)"


def default_tempo(style: str, meter: Meter) -> Tempo:
    """The tempo a melody of ``style`` in ``meter`` plays at when no ``bpm`` is asked."""
    table = STYLE_TEMPOS.get(style, {})
    if meter.text in table:
        return Tempo.in_beats(meter, table[meter.text][1])
    if meter.compound:
        return Tempo.in_beats(meter, SONG_COMPOUND_BEAT_BPM)
    return Tempo(meter, SONG_QUARTER_BPM)


def melody_tempo(style: str, meter: Meter, bpm: float | None) -> Tempo:
    """The tempo a melody plays at: the asked ``bpm`` (quarter notes), else the default."""
    return Tempo(meter, bpm) if bpm is not None else default_tempo(style, meter)


def slowest_tempo(style: str, meters: Iterable[Meter] = ()) -> float:
    """The slowest default (quarter notes a minute) ``style`` has in ``meters``, or in the
    common meters when none is given: what a request's audio length is costed at before
    its meter is drawn, so nothing admitted is refused later."""
    candidates = list(meters) or [Meter.parse(text) for text in _COMMON_METERS]
    return min(default_tempo(style, meter).quarter_bpm for meter in candidates)
