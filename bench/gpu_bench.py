"""Training and sampling on this machine's accelerator, or its CPU (a script, not a test).

    KERAS_BACKEND=torch python bench/gpu_bench.py [--style folk] [--batch-sizes 32,256]
        [--epochs 3] [--batches 0] [--early-stop [--max-epochs N]] [--melodies 1,64,1024]
        [--steps 500] [--cache-dir DIR]

Prints one table for the device `train.machine_description()` names:

* training throughput: targets (predicted symbols) per second and seconds per
  epoch of `train.fit`'s inner loop (``train_on_batch`` over the style's train
  split in a fresh order each epoch, whole songs, padding weighted 0, half the
  songs told their length) for each batch size; the first epoch is a warm-up
  (compilation, cuDNN autotuning) and is not timed; ``--batches N`` trains on
  only N of the batches (the same N each epoch: a smoke run). A larger
  batch trains with a learning rate scaled by the square root of the batch
  ratio (2e-3 at 32 -> 5.7e-3 at 256), the rule that kept the loss curves
  comparable when it was measured on an H200;
* ``--early-stop``: `train.fit` with the `default` preset to early stopping
  (or ``--max-epochs``): seconds, epochs and held-out bits/symbol on the test
  split (the figure to compare with the committed CPU bundle's);
* sampling N melodies x ``--steps`` steps (whole bars of the style's commonest
  meter) with the compiled sampler, the one generation path (generation is CPU
  work: see the README, "Running on a GPU").

The network's inputs (meters, modes, metrical and form inputs) are those
`train.train_style` gives it: `Conditioning.from_songs` over the style's songs.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path

import numpy as np

from lstmuse_core.model.batches import song_batches
from lstmuse_core.model.conditioning import Conditioning
from lstmuse_core.model.evaluate import score_model, training_songs
from lstmuse_core.model.generate import MelodyGenerator
from lstmuse_core.model.network import PRESETS, ModelConfig, build_model
from lstmuse_core.model.stepper import LstmStepper
from lstmuse_core.model.train import LENGTH_KNOWN_SHARE, fit, machine_description
from lstmuse_core.music.dataset import Dataset, build_dataset
from lstmuse_core.music.encoding import SONG_END


def conditioning_for(dataset: Dataset, config: ModelConfig) -> Conditioning:
    """The meters, modes and inputs `train.train_style` gives a network of ``config``."""
    return Conditioning.from_songs(dataset.songs, metrical=config.metrical, form=config.form)


def training_rows(
    dataset: Dataset, batch_sizes: list[int], epochs: int, limit: int
) -> list[list[str]]:
    vocabulary = dataset.vocabulary()
    base = PRESETS["default"]
    conditioning = conditioning_for(dataset, base)
    songs = training_songs(vocabulary, dataset.songs_in("train"))
    rows = []
    for batch_size in batch_sizes:
        learning_rate = base.learning_rate * math.sqrt(batch_size / base.batch_size)
        config = base.with_overrides(batch_size=batch_size, learning_rate=learning_rate)
        batches = song_batches(
            songs, conditioning, batch_size, config.pad_multiple, vocabulary.index[SONG_END]
        )
        model = build_model(config, len(vocabulary), conditioning)
        # As `train.fit` trains: a fresh order each epoch, and half the songs of a
        # batch told their length. ``limit`` keeps the same few batches every epoch,
        # so the warm-up epoch compiles every shape the timed ones meet.
        rng = np.random.default_rng(0)
        chosen = rng.permutation(len(batches))[:limit] if limit else np.arange(len(batches))
        seconds = []
        for epoch in range(epochs + 1):  # epoch 0 is the warm-up
            started = time.perf_counter()
            for index in rng.permutation(chosen):
                batch = batches[index]
                told = rng.random(len(batch.targets)) < LENGTH_KNOWN_SHARE
                model.train_on_batch(
                    batch.with_lengths_known(told), batch.targets, sample_weight=batch.weights
                )
            if epoch:
                seconds.append(time.perf_counter() - started)
        targets = sum(float(batches[index].weights.sum()) for index in chosen)
        epoch_seconds = statistics.median(seconds)
        scope = (
            "an epoch"
            if len(chosen) == len(batches)
            else f"{len(chosen)} of {len(batches)} batches"
        )
        rows.append(
            [
                f"training, batch {batch_size} (lr {learning_rate:.1e})",
                f"{targets / epoch_seconds:,.0f} targets/s",
                f"{epoch_seconds:.2f} s {scope} (median of {epochs})",
            ]
        )
    return rows


def early_stop_row(dataset: Dataset, max_epochs: int | None) -> list[str]:
    config = PRESETS["default"]
    vocabulary = dataset.vocabulary()
    conditioning = conditioning_for(dataset, config)
    trained = fit(
        config,
        vocabulary,
        conditioning,
        dataset.songs_in("train"),
        dataset.songs_in("validation"),
        max_epochs=max_epochs,
    )
    test = score_model(
        trained.model, vocabulary, conditioning, dataset.songs_in("test"), config.batch_size
    )
    return [
        "retrain `default` to early stopping",
        f"{trained.seconds:.0f} s, {trained.epochs} epochs ({trained.stopped_by})",
        f"test {test.bits_per_symbol:.3f} bits/symbol",
    ]


def sampling_rows(dataset: Dataset, counts: list[int], steps: int) -> list[list[str]]:
    config = PRESETS["default"]
    vocabulary = dataset.vocabulary()
    conditioning = conditioning_for(dataset, config)
    model = build_model(config, len(vocabulary), conditioning)  # speed does not depend on weights
    generator = MelodyGenerator(
        vocabulary, LstmStepper.from_keras(model, conditioning), conditioning
    )
    # Every melody ``bars`` long in the style's commonest meter: the same number
    # of steps for each (the sampler writes whole bars).
    meter = max(conditioning.meters, key=lambda m: conditioning.meters[m])
    bars = max(1, steps // meter.bar_steps)
    written = bars * meter.bar_steps
    rows = []
    for count in counts:
        seconds = []
        for repeat in range(3):
            started = time.perf_counter()
            generator.sample(count, bars=bars, meter=meter, seed=repeat)
            seconds.append(time.perf_counter() - started)
        total = statistics.median(seconds)
        rows.append(
            [
                f"sampling {count} x {written} steps ({bars} bars of {meter.text}, compiled)",
                f"{total * 1000:,.1f} ms",
                f"{total * 1000 / count:.2f} ms a melody (median of 3)",
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="A smoke run on a CPU: --batch-sizes 32 --epochs 1 --batches 2 "
        "--early-stop --max-epochs 1 --melodies 1 --steps 64",
    )
    parser.add_argument("--style", default="folk")
    parser.add_argument("--batch-sizes", default="32,256")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per batch size")
    parser.add_argument(
        "--batches",
        type=int,
        default=0,
        help="train on only this many batches an epoch, the same each epoch (0: all)",
    )
    parser.add_argument("--early-stop", action="store_true", help="also train to early stopping")
    parser.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="with --early-stop: stop after this many epochs at most (default: the preset's)",
    )
    parser.add_argument("--melodies", default="1,64,1024")
    parser.add_argument(
        "--steps", type=int, default=500, help="steps a melody (rounded down to whole bars)"
    )
    parser.add_argument("--cache-dir", type=Path, default=None, help="dataset cache folder")
    args = parser.parse_args()
    dataset = build_dataset(args.style, cache_dir=args.cache_dir)
    rows = training_rows(
        dataset, [int(b) for b in args.batch_sizes.split(",")], args.epochs, args.batches
    )
    if args.early_stop:
        rows.append(early_stop_row(dataset, args.max_epochs))
    rows += sampling_rows(dataset, [int(n) for n in args.melodies.split(",")], args.steps)
    print(f"\n{args.style} on {machine_description()}")
    print("| what | figure | detail |\n| --- | ---: | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":  # dataset reading uses a process pool that re-imports __main__
    main()
