"""Bars with a triplet, by meter and temperature: a bundle's samples beside its corpus.

`lstmuse evaluate --musical` gives one pooled figure (4/4 and 2/2 together, at the
style's temperature, meters drawn as the sampler draws them). This splits it: for
each reel meter, the share of bars with a triplet in the bundle's recorded training
and test songs, and in 100 tunes of 8 bars sampled in that meter at temperatures
0.8, 0.9 and 1.0, by the network alone (1 candidate) and as replies are (best of 6),
with the triplet marker drawn at its temperature-1 chance and the bundle's calibrated
offset (today's sampler, `triplet_calibration`), at that chance without the offset, and
tempered like every other symbol without it (before both), in the same run.

    .venv/bin/python bench/triplet_rates.py trained_models/irish/v002
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lstmuse_core.model.bundle import bundle_from_path
from lstmuse_core.model.generate import SamplingControls, load_generator_from_path
from lstmuse_core.model.held_out import trained_split
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.musicality import triplet_bars

METERS = (Meter(4, 4), Meter(2, 2))
TEMPERATURES = (0.8, 0.9, 1.0)
# (marker at its temperature-1 chance, offset to its logit: None, the bundle's calibrated one)
SETTINGS = ((True, None), (True, 0.0), (False, 0.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="a bundle folder")
    parser.add_argument("--tunes", type=int, default=100)
    args = parser.parse_args()
    split = trained_split(bundle_from_path(args.bundle))
    generator = load_generator_from_path(args.bundle)
    for meter in METERS:
        if split is not None:
            for part in ("train", "test"):
                songs = [(s.symbols, s.meter, s.mode) for s in split[part] if s.meter == meter]
                print(f"{meter.text} corpus {part}: {triplet_bars(songs)}")
        plans = [generator.plan(seed, meter=meter, bars=8) for seed in range(args.tunes)]
        for temperature in TEMPERATURES:
            for candidates in (1, 6):
                for untempered, bias in SETTINGS:
                    controls = SamplingControls(
                        temperature, triplets_untempered=untempered, triplet_bias=bias
                    )
                    melodies = generator.sample_plans(plans, controls, candidates)
                    counted = triplet_bars([(m.symbols, m.meter, m.mode) for m in melodies])
                    marker = "marker at T 1" if untempered else "marker tempered"
                    offset = (
                        f"calibrated ({generator.triplet_bias:+.2f})"
                        if bias is None
                        else "no offset"
                    )
                    print(
                        f"{meter.text} T {temperature} best of {candidates}, {marker}, {offset}: "
                        f"{counted}"
                    )


if __name__ == "__main__":
    main()
