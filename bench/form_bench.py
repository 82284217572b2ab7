"""Sampling a tune with a form against today's single line of the same length (a script).

    python bench/form_bench.py [--styles irish folk] [--runs 15] [--batch 64]

In one run, alternated run by run, with each committed bundle and the
candidates every reply samples (`CANDIDATES`), in 6/8 (4/4 where a style lacks it):

* line: ``bars=16``, one line (what a reply of 16 bars samples today);
* AABB: ``form=AABB bars=8``: 16 bars written once and played twice
  (the repeats copied, not sampled: 32 bars heard);
* A1A2B1B2: the same with first and second endings (18 bars written).

Prints, per style and setting, the median time of one reply (one melody) and
the per-melody time of a batch of ``--batch`` melodies, and the ratio to the line.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from lstmuse_core.model.generate import CANDIDATES, SamplingControls, load_generator
from lstmuse_core.music.form import Form
from lstmuse_core.music.meter import Meter

SETTINGS = {"line": (16, None), "AABB": (8, "AABB"), "A1A2B1B2": (8, "A1A2B1B2")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", nargs="*", default=["irish", "folk"])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    for style in args.styles:
        generator = load_generator(style)
        meter = Meter(6, 8) if Meter(6, 8) in generator.conditioning.meters else Meter(4, 4)
        controls = SamplingControls(generator.default_temperature)

        def plans(
            count: int, setting: str, run: int, generator: Any = generator, meter: Meter = meter
        ) -> list[Any]:
            bars, form = SETTINGS[setting]
            parsed = Form.parse(form) if form else None
            return [
                generator.plan(run * 1000 + s, meter=meter, bars=bars, form=parsed)
                for s in range(count)
            ]

        generator.sample_plans(plans(2, "AABB", 0), controls, CANDIDATES)  # warm up
        single: dict[str, list[float]] = {name: [] for name in SETTINGS}
        batch: dict[str, list[float]] = {name: [] for name in SETTINGS}
        for run in range(args.runs):
            for name in SETTINGS:
                for count, times in ((1, single), (args.batch, batch)):
                    chosen = plans(count, name, run)
                    started = time.perf_counter()
                    generator.sample_plans(chosen, controls, CANDIDATES)
                    times[name].append((time.perf_counter() - started) / count)
        line_single, line_batch = (statistics.median(t["line"]) for t in (single, batch))
        print(f"{style} ({meter}, {CANDIDATES} candidates, medians of {args.runs})")
        for name in SETTINGS:
            one, many = statistics.median(single[name]), statistics.median(batch[name])
            print(
                f"  {name:9s} one reply {one * 1000:6.1f} ms ({one / line_single:.2f}x line)"
                f"   batch of {args.batch}: {many * 1000:5.1f} ms a melody"
                f" ({many / line_batch:.2f}x line)"
            )


if __name__ == "__main__":
    main()
