"""Training throughput on the folk train split, the seed's way and ours (a script, not a test).

    [KERAS_BACKEND=jax] python bench/training_bench.py [--seed-batches 30] [--batches 0]
                                                       [--presets seed,default]

Measures targets (predicted symbols) per second of ``model.train_on_batch``, in
one run, on the folk train split (`build_dataset("folk")`, cached):

(a) the seed's design, one target per 64-step window: the train songs joined,
    each followed by 64 "/" delimiters as the seed's single-file dataset did;
    inputs are 64 one-hot steps (float32), the target the one-hot next symbol;
    LSTM(256) -> Dropout(0.2) -> Dense(softmax), categorical cross-entropy,
    Adam 1e-3, batches of 64. All windows as one-hot float32 would take
    ~3 GB, so ``--seed-batches`` batches of 64 random windows are built on the
    fly; building them is timed apart from ``train_on_batch`` (both are
    printed). targets/s = 64 * batches / seconds. Half the batches are timed
    before ours and half after, so a change in the machine's load shows;
(b) ours: `song_batches` (whole songs, input ["/"] + song, target song + ["/"],
    length-sorted, padded, padding weighted 0) and `build_model(PRESETS[p], V,
    conditioning)` for each of ``--presets``, with the meters, modes and inputs
    `train.train_style` gives it (`Conditioning.from_songs` over all the folk
    songs); ``train_on_batch(inputs, targets, sample_weight=weights)`` over one
    epoch in a shuffled order (or the first ``--batches`` of it), half the songs
    of each batch told their length as `train.fit` does. targets/s = sum of the
    weights / seconds.

Compile time is excluded: before timing, each model trains on one batch of
every distinct batch shape it is timed on (the warm-up's seconds are printed).
The Keras backend is ``KERAS_BACKEND`` (default tensorflow); it is printed.
Target: ours at least 40x the seed's targets/s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from seed_design import SEED_WINDOW, seed_model  # bench/ is on sys.path

from lstmuse_core.model.batches import TrainingSong, song_batches
from lstmuse_core.model.conditioning import Conditioning
from lstmuse_core.model.evaluate import training_songs
from lstmuse_core.model.network import PRESETS, build_model
from lstmuse_core.model.train import LENGTH_KNOWN_SHARE
from lstmuse_core.music.dataset import build_dataset
from lstmuse_core.music.encoding import SONG_END, Vocabulary

SEED_BATCH = 64
TARGET_SPEEDUP = 40.0


def seed_series(vocab: Vocabulary, songs: list[list[str]]) -> np.ndarray:
    """The seed's single time series: every song followed by 64 delimiters."""
    delimiters = [SONG_END] * SEED_WINDOW
    return np.concatenate([vocab.encode([*song, *delimiters]) for song in songs])


def seed_batch(
    series: np.ndarray, vocab_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """64 random windows as one-hot float32: inputs (64, 64, V), targets (64, V)."""
    starts = rng.integers(0, len(series) - SEED_WINDOW, size=SEED_BATCH)
    windows = series[starts[:, None] + np.arange(SEED_WINDOW + 1)]
    one_hot = np.eye(vocab_size, dtype=np.float32)
    return one_hot[windows[:, :SEED_WINDOW]], one_hot[windows[:, SEED_WINDOW]]


def seed_throughput(
    model: Any, series: np.ndarray, vocab_size: int, batches: int, rng: np.random.Generator
) -> dict[str, Any]:
    """Seconds of ``train_on_batch`` and of building the one-hot batches."""
    train: list[float] = []
    build = 0.0
    for _ in range(batches):
        started = time.perf_counter()
        inputs, targets = seed_batch(series, vocab_size, rng)
        built = time.perf_counter()
        model.train_on_batch(inputs, targets)
        train.append(time.perf_counter() - built)
        build += built - started
    return {"targets": float(SEED_BATCH * batches), "train": train, "build": build}


def our_throughput(
    preset_name: str,
    vocab: Vocabulary,
    conditioning: Conditioning,
    songs: list[TrainingSong],
    limit: int,
    seed: int,
) -> dict[str, float]:
    """Seconds of ``train_on_batch`` over one epoch (or ``limit`` batches) of whole songs."""
    config = PRESETS[preset_name]
    batches = song_batches(
        songs, conditioning, config.batch_size, config.pad_multiple, vocab.index[SONG_END]
    )
    model = build_model(config, len(vocab), conditioning)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(batches))
    if limit:
        order = order[:limit]
    # As `train.fit` trains: half the songs of a batch told their length, drawn
    # before the clock starts (only ``train_on_batch`` is timed).
    inputs = [
        batches[i].with_lengths_known(rng.random(len(batches[i].targets)) < LENGTH_KNOWN_SHARE)
        for i in order
    ]
    all_shapes = {batch.targets.shape for batch in batches}
    shapes: dict[tuple[int, ...], int] = {}
    for position, index in enumerate(order):
        shapes.setdefault(batches[index].targets.shape, position)
    started = time.perf_counter()
    for position in shapes.values():  # warm-up: one batch of each shape timed below
        batch = batches[order[position]]
        model.train_on_batch(inputs[position], batch.targets, sample_weight=batch.weights)
    warm_up = time.perf_counter() - started
    targets = train = 0.0
    step_seconds = []
    for position, index in enumerate(order):
        batch = batches[index]
        started = time.perf_counter()
        model.train_on_batch(inputs[position], batch.targets, sample_weight=batch.weights)
        step_seconds.append(time.perf_counter() - started)
        targets += float(batch.weights.sum())
    train = sum(step_seconds)
    return {
        "targets": targets,
        "train": train,
        "build": 0.0,
        "warm_up": warm_up,
        "batches": float(len(order)),
        "all_batches": float(len(batches)),
        "shapes": float(len(shapes)),
        "all_shapes": float(len(all_shapes)),
        "median_batch": statistics.median(step_seconds),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="A smoke run: --seed-batches 2 --batches 2 --presets tiny",
    )
    parser.add_argument("--seed-batches", type=int, default=30, help="seed: timed batches of 64")
    parser.add_argument("--batches", type=int, default=0, help="ours: timed batches (0: an epoch)")
    parser.add_argument("--presets", default="seed,default", help="comma-separated presets")
    parser.add_argument("--cache-dir", type=Path, default=None, help="dataset cache folder")
    parser.add_argument("--seed", type=int, default=0, help="random seed (batches, order)")
    args = parser.parse_args(argv)
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    unknown = [p for p in presets if p not in PRESETS]
    if unknown:
        parser.error(f"unknown presets {unknown}; use {', '.join(PRESETS)}")

    import keras

    keras.utils.set_random_seed(args.seed)
    dataset = build_dataset("folk", cache_dir=args.cache_dir)
    vocab = dataset.vocabulary()
    train = dataset.songs_in("train")
    train_songs = [song.symbols for song in train]
    series = seed_series(vocab, train_songs)
    print(
        f"Keras {keras.__version__}, backend {keras.backend.backend()};"
        f" folk train split: {len(train_songs)} songs,"
        f" {sum(len(s) for s in train_songs):,} symbols; vocabulary {len(vocab)};"
        f" seed's series {len(series):,} steps = {len(series) - SEED_WINDOW:,} windows"
        f" ({(len(series) - SEED_WINDOW) * SEED_WINDOW * len(vocab) * 4 / 2**30:.1f} GiB"
        " as one-hot float32)",
        file=sys.stderr,
    )

    # The seed's batches are timed in two halves, before and after ours, so a
    # change in the machine's load during the run shows (and averages out).
    rng = np.random.default_rng(args.seed)
    model = seed_model(len(vocab))
    started = time.perf_counter()
    model.train_on_batch(*seed_batch(series, len(vocab), rng))  # warm-up: compiles
    seed_warm_up = time.perf_counter() - started
    before = seed_throughput(model, series, len(vocab), (args.seed_batches + 1) // 2, rng)
    print(
        f"  seed (first half): {before['targets'] / sum(before['train']):,.0f} targets/s;"
        f" warm-up {seed_warm_up:.1f} s",
        file=sys.stderr,
    )
    rows: list[tuple[str, dict[str, float]]] = []
    encoded = training_songs(vocab, train)
    for name in presets:
        config = PRESETS[name]
        # The meters, modes and inputs `train.train_style` gives this preset's network.
        conditioning = Conditioning.from_songs(
            dataset.songs, metrical=config.metrical, form=config.form
        )
        result = our_throughput(name, vocab, conditioning, encoded, args.batches, args.seed)
        rows.append((name, result))
        print(
            f"  ours {name}: {result['targets'] / result['train']:,.0f} targets/s;"
            f" warm-up over {result['shapes']:.0f} shapes {result['warm_up']:.1f} s",
            file=sys.stderr,
        )
    after = seed_throughput(model, series, len(vocab), args.seed_batches // 2, rng)
    seed_times = before["train"] + after["train"]
    seed = {
        "targets": before["targets"] + after["targets"],
        "train": sum(seed_times),
        "build": before["build"] + after["build"],
        "warm_up": seed_warm_up,
        "batches": float(len(seed_times)),
    }
    seed_rate = seed["targets"] / seed["train"]
    halves = [half["targets"] / sum(half["train"]) for half in (before, after) if half["train"]]
    print(
        "  seed (halves before / after ours): "
        + " / ".join(f"{rate:,.0f}" for rate in halves)
        + f" targets/s; median batch {statistics.median(seed_times) * 1000:.0f} ms",
        file=sys.stderr,
    )

    backend = keras.backend.backend()
    print()
    print(
        f"| approach (backend {backend}) | batches timed | targets | train_on_batch s"
        " | targets/s | ours / seed | warm-up s (excluded) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| seed: one target per 64-window, one-hot, LSTM 256, batch 64"
        f" | {seed['batches']:.0f} | {seed['targets']:,.0f} | {seed['train']:.2f}"
        f" | {seed_rate:,.0f} | 1.0 | {seed['warm_up']:.1f} |"
    )
    for name, result in rows:
        rate = result["targets"] / result["train"]
        config = PRESETS[name]
        units = ", ".join(map(str, config.lstm_units))
        print(
            f'| ours: preset "{name}", whole songs, LSTM {units}, batch {config.batch_size}'
            f" | {result['batches']:.0f} of {result['all_batches']:.0f}"
            f" | {result['targets']:,.0f} | {result['train']:.2f} | {rate:,.0f}"
            f" | {rate / seed_rate:.1f} | {result['warm_up']:.1f} |"
        )
    print()
    with_build = seed["targets"] / (seed["train"] + seed["build"])
    print(
        "seed targets/s in the halves timed before / after ours: "
        + " / ".join(f"{rate:,.0f}" for rate in halves)
        + f"; from the median batch: {SEED_BATCH / statistics.median(seed_times):,.0f}"
    )
    print(
        f"seed: building the one-hot batches took {seed['build'] / seed['batches'] * 1000:.1f} ms"
        f" a batch, not in the figure above ({with_build:,.0f} targets/s with it);"
        ' each song followed by 64 "/" as in the seed'
    )
    for name, result in rows:
        ratio = result["targets"] / result["train"] / seed_rate
        verdict = "meets" if ratio >= TARGET_SPEEDUP else "MISSES"
        epoch = result["train"] / result["batches"] * result["all_batches"]
        print(
            f'ours "{name}": {ratio:.1f}x the seed ({verdict} target: at least'
            f" {TARGET_SPEEDUP:g}x); an epoch ~{epoch:.1f} s"
            f" ({result['all_batches']:.0f} batches, {result['all_shapes']:.0f} shapes)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
