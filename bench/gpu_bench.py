"""Training and sampling on this machine's accelerator, or its CPU (a script, not a test).

    KERAS_BACKEND=torch python bench/gpu_bench.py [--style folk] [--batch-sizes 32,256]
        [--epochs 3] [--early-stop] [--melodies 1,64,1024] [--steps 500]

Prints one table for the device `train.machine_description()` names:

* training throughput: targets (predicted symbols) per second and seconds per
  epoch of `train.fit`'s inner loop (``train_on_batch`` over the style's train
  split, whole songs, padding weighted 0) for each batch size; the first epoch
  is a warm-up (compilation, cuDNN autotuning) and is not timed. A larger
  batch trains with a learning rate scaled by the square root of the batch
  ratio (2e-3 at 32 -> 5.7e-3 at 256), the rule that kept the loss curves
  comparable when it was measured on an H200;
* ``--early-stop``: `train.fit` with the `default` preset to early stopping:
  seconds, epochs and held-out bits/symbol on the test split (the figure to
  compare with the committed CPU bundle's);
* sampling N melodies x ``--steps`` steps with the compiled sampler, the one
  generation path (generation is CPU work: see the README, "Running on a GPU").
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from typing import Any

from lstmuse_core.model.batches import song_batches
from lstmuse_core.model.evaluate import score_model
from lstmuse_core.model.generate import LstmStepper, MelodyGenerator
from lstmuse_core.model.network import PRESETS, build_model
from lstmuse_core.model.train import fit, machine_description
from lstmuse_core.music.dataset import build_dataset
from lstmuse_core.music.encoding import SONG_END


def training_rows(dataset: Any, batch_sizes: list[int], epochs: int) -> list[list[str]]:
    vocabulary = dataset.vocabulary()
    songs = [vocabulary.encode(song) for song in dataset.melodies("train")]
    base = PRESETS["default"]
    rows = []
    for batch_size in batch_sizes:
        learning_rate = base.learning_rate * math.sqrt(batch_size / base.batch_size)
        config = base.with_overrides(batch_size=batch_size, learning_rate=learning_rate)
        batches = song_batches(songs, batch_size, config.pad_multiple, vocabulary.index[SONG_END])
        model = build_model(config, len(vocabulary))
        seconds = []
        for epoch in range(epochs + 1):  # epoch 0 is the warm-up
            started = time.perf_counter()
            for batch in batches:
                model.train_on_batch(batch.inputs, batch.targets, sample_weight=batch.weights)
            if epoch:
                seconds.append(time.perf_counter() - started)
        targets = sum(float(batch.weights.sum()) for batch in batches)
        epoch_seconds = statistics.median(seconds)
        rows.append(
            [
                f"training, batch {batch_size} (lr {learning_rate:.1e})",
                f"{targets / epoch_seconds:,.0f} targets/s",
                f"{epoch_seconds:.2f} s an epoch (median of {epochs})",
            ]
        )
    return rows


def early_stop_row(dataset: Any) -> list[str]:
    vocabulary = dataset.vocabulary()
    trained = fit(
        PRESETS["default"], vocabulary, dataset.melodies("train"), dataset.melodies("validation")
    )
    test = score_model(trained.model, vocabulary, dataset.melodies("test"))
    return [
        "retrain `default` to early stopping",
        f"{trained.seconds:.0f} s, {trained.epochs} epochs ({trained.stopped_by})",
        f"test {test.bits_per_symbol:.3f} bits/symbol",
    ]


def sampling_rows(dataset: Any, counts: list[int], steps: int) -> list[list[str]]:
    vocabulary = dataset.vocabulary()
    model = build_model(PRESETS["default"], len(vocabulary))  # speed does not depend on weights
    generator = MelodyGenerator(vocabulary, LstmStepper.from_keras(model))
    rows = []
    for count in counts:
        seconds = []
        for repeat in range(3):
            started = time.perf_counter()
            generator.sample(count, steps, min_steps=steps, seed=repeat)
            seconds.append(time.perf_counter() - started)
        total = statistics.median(seconds)
        rows.append(
            [
                f"sampling {count} x {steps} steps (NumPy)",
                f"{total * 1000:,.1f} ms",
                f"{total * 1000 / count:.2f} ms a melody (median of 3)",
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--style", default="folk")
    parser.add_argument("--batch-sizes", default="32,256")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per batch size")
    parser.add_argument("--early-stop", action="store_true", help="also train to early stopping")
    parser.add_argument("--melodies", default="1,64,1024")
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args()
    dataset = build_dataset(args.style)
    rows = training_rows(dataset, [int(b) for b in args.batch_sizes.split(",")], args.epochs)
    if args.early_stop:
        rows.append(early_stop_row(dataset))
    rows += sampling_rows(dataset, [int(n) for n in args.melodies.split(",")], args.steps)
    print(f"\n{args.style} on {machine_description()}")
    print("| what | figure | detail |\n| --- | ---: | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":  # dataset reading uses a process pool that re-imports __main__
    main()
