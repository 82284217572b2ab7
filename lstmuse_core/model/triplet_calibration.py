"""The triplet marker's calibration: one logit offset that brings the triplets a bundle's
replies play to the rate of the songs it was trained on.

A network that stopped on its time budget draws the rare triplet marker less often
than its songs have it: irish v002's replies put a triplet in 0.39x the corpus's
share of 4/4 and 2/2 bars, and even at temperature 1 the network alone wrote
0.031 (4/4) and 0.063 (2/2) against its training songs' 0.049 and 0.162. Where it
puts a triplet is learnt; how often is not yet. The offset is added to the marker's
logit at every step (`SamplingControls.triplet_bias`; a bundle keeps its own in
``config.json``), so the marker keeps its place among the other symbols and only
its odds move.

It is measured, never guessed: replies as a reply samples them (8 bars, best of
`CANDIDATES`, at the style's temperature) in each reel meter the bundle knows, and
the offset moved by the log of the ratio of the training songs' share to the
replies', a few rounds; the offset kept is the measured one nearest the target.
Only the training split is read: the test songs, against which `lstmuse evaluate
--musical` judges the rate, are not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from lstmuse_core.model.bundle import MAX_TRIPLET_BIAS, TRIPLET_BIAS_KEY
from lstmuse_core.model.generate import CANDIDATES, MelodyGenerator, SamplingControls
from lstmuse_core.music.corpus import Song
from lstmuse_core.music.encoding import TRIPLET
from lstmuse_core.music.musicality import REEL_METERS, triplet_bars

_SEEDS = 100_000  # replies' random seeds from here: none of `evaluate`'s (0, 1, ...)


def calibrate_triplet_bias(
    generator: MelodyGenerator,
    train_songs: Sequence[Song],
    *,
    temperature: float,
    tunes: int = 100,
    rounds: int = 3,
) -> dict[str, Any] | None:
    """The offset and how it was found, or None where there is nothing to calibrate
    (no marker in the vocabulary, no reel meter, no triplet in the training songs).

    ``tunes`` replies per reel meter and round. Returns ``{"triplet_bias", "target",
    "reached", "rounds": [{"bias", "share"}, ...], "meters", "tunes"}``: shares of
    bars with a triplet, the target the mean over the meters of the training songs'.
    """
    meters = [m for m in REEL_METERS if m in generator.conditioning.meters]
    if TRIPLET not in generator.vocabulary or not meters:
        return None
    shares = [
        triplet_bars([(s.symbols, s.meter, s.mode) for s in train_songs if s.meter == meter])[
            "share"
        ]
        for meter in meters
    ]
    known = [share for share in shares if share is not None]
    target = sum(known) / len(known) if known else 0.0
    if target <= 0.0:
        return None
    plans = [
        generator.plan(_SEEDS + number, meter=meter, bars=8)
        for meter in meters
        for number in range(tunes)
    ]
    measured: list[dict[str, float]] = []
    bias = 0.0
    for _ in range(rounds):
        controls = SamplingControls(temperature, triplet_bias=bias)
        replies = generator.sample_plans(plans, controls, CANDIDATES)
        share = _mean_share([(r.symbols, r.meter, r.mode) for r in replies], meters)
        measured.append({"bias": round(bias, 4), "share": share})
        # No triplet at all: quadruple the odds and look again.
        step = math.log(target / share) if share > 0.0 else math.log(4.0)
        if abs(step) < 0.05:
            break
        bias = max(-MAX_TRIPLET_BIAS, min(MAX_TRIPLET_BIAS, bias + step))
    best = min(measured, key=lambda m: abs(math.log(max(m["share"], 1e-9) / target)))
    return {
        TRIPLET_BIAS_KEY: best["bias"],
        "target": target,
        "reached": best["share"],
        "rounds": measured,
        "meters": [m.text for m in meters],
        "tunes": tunes,
        "temperature": temperature,
    }


def _mean_share(melodies: Sequence[Any], meters: Sequence[Any]) -> float:
    """The mean over ``meters`` of each meter's share of bars with a triplet."""
    shares = [triplet_bars(melodies, [meter])["share"] or 0.0 for meter in meters]
    return sum(shares) / len(shares)
