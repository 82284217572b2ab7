"""Held-out quality of the `seed` preset vs the `default` preset, same time budget.

Both presets train on the folk (ESAC erk) train split with early stopping on
the validation split and the same wall-clock budget; both are scored on the
same test split, next to the interpolated Kneser-Ney 9-gram baseline.

    KERAS_BACKEND=jax python bench/quality_bench.py --minutes 12
    python bench/quality_bench.py --minutes 1 --style scottish   # a quick look

The committed folk bundles (trained_models/folk/v001, v002) are this very
comparison at 12 minutes each; their metrics.json hold the figures.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from lstmuse_core.model.train import train_style


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--style", default="folk")
    parser.add_argument("--minutes", type=float, default=12.0, help="budget per preset")
    parser.add_argument("--presets", nargs="+", default=["seed", "default"])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as models:
        for preset_name in args.presets:
            started = time.perf_counter()
            result = train_style(
                args.style,
                preset_name=preset_name,
                max_minutes=args.minutes,
                models_dir=Path(models),
                force=True,
            )
            metrics = result.bundle.metrics
            rows.append(
                (
                    preset_name,
                    metrics["test"]["bits_per_symbol"],
                    metrics["test"]["accuracy"],
                    metrics["test"]["onset_accuracy"],
                    metrics["ngram"]["bits_per_symbol"],
                    result.trained.epochs,
                    result.trained.stopped_by,
                    time.perf_counter() - started,
                )
            )
    print(f"\n{args.style}: held-out (test split) after at most {args.minutes:g} min of training")
    print(
        f"{'preset':<9}{'bits/sym':>9}{'acc':>7}{'onset acc':>10}{'9-gram':>8}"
        f"{'epochs':>7}  stopped by      seconds"
    )
    for name, bits, acc, onset, ngram, epochs, stopped, seconds in rows:
        print(
            f"{name:<9}{bits:>9.3f}{acc:>7.3f}{onset:>10.3f}{ngram:>8.3f}{epochs:>7}  "
            f"{stopped:<15} {seconds:>7.0f}"
        )
    if len(rows) == 2:
        print(f"ratio {rows[0][0]}/{rows[1][0]} bits: {rows[0][1] / rows[1][1]:.3f}")


if __name__ == "__main__":
    main()
