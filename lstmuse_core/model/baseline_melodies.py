"""Melodies the n-gram samples: the simple baseline beside the network's musical figures.

The 9-gram (`ngram.NGramModel`, fitted on the style's training songs) sees the
last 8 symbols and nothing else: not the meter, the mode, the place in the bar
or the bars left. What its melodies score on the musical measures (strong
beats, tonic endings, repeated figures) is what symbol statistics alone give,
so the network's figures mean something only above it.

It is sampled as the replies are wherever the n-gram allows: the same plans
(meter and mode drawn from the style, `FIXED_BARS`-style whole bars from the
bar line), the same temperature, the encoding's rules (nothing held at the
start; a triplet group inside its bar and the melody, not inside another
group's slots; no end before the last bar), and the same choice among
candidates (`generate.musical_score`; the first of equals).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lstmuse_core.model.generate import musical_score
from lstmuse_core.model.ngram import NGramModel
from lstmuse_core.music.encoding import HOLD, SONG_END, TRIPLET, TRIPLET_STEPS, is_pitch
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.musicality import MelodyEntry


def ngram_melodies(
    ngram: NGramModel,
    plans: Sequence[tuple[Meter, str]],
    bars: int,
    *,
    temperature: float,
    candidates: int,
    seed: int = 0,
) -> list[MelodyEntry]:
    """One melody of ``bars`` bars per (meter, mode) plan, best of ``candidates``."""
    rng = np.random.default_rng(seed)
    rows = [plan for plan in plans for _ in range(candidates)]
    lengths = np.array([bars * meter.bar_steps for meter, _ in rows])
    bar_steps = np.array([meter.bar_steps for meter, _ in rows])
    symbols = list(ngram.symbols)
    hold, end = symbols.index(HOLD), symbols.index(SONG_END)
    marker = symbols.index(TRIPLET) if TRIPLET in symbols else -1
    songs: list[list[str]] = [[] for _ in rows]
    for step in range(int(lengths.max())):
        live = np.flatnonzero(lengths > step)
        # Every symbol the model knows, never the unknown slot nor the song's end.
        weights = ngram.next_symbol_distributions([songs[r] for r in live])[:, : len(symbols)]
        weights[:, end] = 0.0
        if step == 0:
            weights[:, hold] = 0.0
        if marker >= 0:
            fits = (step % bar_steps[live] + TRIPLET_STEPS <= bar_steps[live]) & (
                step + TRIPLET_STEPS <= lengths[live]
            )
            in_slots = np.array([TRIPLET in songs[r][-(TRIPLET_STEPS - 1) :] for r in live])
            weights[~fits | in_slots, marker] = 0.0
        weights = weights ** (1.0 / temperature)
        cumulative = np.cumsum(weights, axis=1)
        draws = rng.random(len(live)) * cumulative[:, -1]
        for row, choice in zip(live, (cumulative < draws[:, None]).sum(axis=1), strict=True):
            songs[row].append(symbols[choice])
    melodies: list[MelodyEntry] = []
    for first in range(0, len(rows), candidates):
        meter, mode = rows[first]
        options = songs[first : first + candidates]
        # A melody with a note first, then the better musical score (max keeps the first).
        best = max(
            options,
            key=lambda s: (any(is_pitch(x) for x in s), musical_score(s, meter, mode)),
        )
        melodies.append((best, meter, mode))
    return melodies
