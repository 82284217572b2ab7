"""Generating a 500-step melody, the seed's way and ours (a script, not a test).

    python bench/generation_bench.py [--seed-steps 50] [--runs 5] [--batch 64]
                                     [--batch-runs 3] [--steps 500] [--blas-threads 0,1]

Measures, in one run:

(a) the seed's approach: a Keras model of the seed's design (input one-hot
    windows of 64 steps, LSTM(256) -> Dropout(0.2) -> Dense(vocab, softmax))
    and, for every new step, ``to_categorical`` of the last 64 symbols and
    ``model.predict(window[None], verbose=0)``, then sampling with temperature
    as the seed did. Only ``--seed-steps`` steps are timed (after one warm-up
    predict); the per-step median is extrapolated to ``--steps`` steps;
(b) ours: `MelodyGenerator` (the NumPy stateful sampler, state carried from
    step to step) with `LstmStepper.from_keras` of `build_model` for the
    presets "seed" (the seed's size: one LSTM of 256) and "default"; one melody
    (median of ``--runs``) and ``--batch`` melodies sampled as one batch
    (per-melody time = batch time / batch, median of ``--batch-runs``; the
    share spent in the network's steps alone, `LstmStepper.step` without
    sampling, is printed next to it);
    ``min_steps = steps`` so every melody has exactly ``--steps`` steps;
(c) the committed folk bundle (`load_generator("folk")`), when
    ``trained_models/folk/ACTIVE`` exists, timed the same way.

Ours is timed under each ``--blas-threads`` setting (NumPy's OpenBLAS thread
pool, set through its C API; 0 = as NumPy started, i.e. one thread a core).
On a shared machine OpenBLAS's threads oversubscribe the cores: a batch of 64
ran ~35x slower with 2 threads than with 1 on a 2-core machine running a
training job.

Weights are random (speed does not depend on them). The vocabulary has 41
symbols like erk's ("/", "_", "r" and 38 pitches from 48). Targets: ours
single at least 500x faster than the seed's approach; batched at most 5 ms
a melody.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import statistics
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from seed_design import SEED_WINDOW, median_seconds, seed_model  # bench/ is on sys.path

from lstmuse_core.bundle import active_version, default_models_dir
from lstmuse_core.encoding import SONG_END, Vocabulary
from lstmuse_core.generate import LstmStepper, MelodyGenerator, load_generator
from lstmuse_core.model import PRESETS, build_model

SINGLE_TARGET_SPEEDUP = 500.0
BATCH_TARGET_MS = 5.0


def erk_like_vocabulary(size: int) -> Vocabulary:
    """``size`` symbols: the three specials and ``size - 3`` pitches from MIDI 48 upwards."""
    return Vocabulary.from_songs([[str(pitch) for pitch in range(48, 48 + size - 3)]])


def seed_sample_with_temperature(
    probabilities: np.ndarray, temperature: float, rng: np.random.Generator
) -> int:
    """The seed's sampling: log-probabilities divided by the temperature, renormalised."""
    predictions = np.log(probabilities) / temperature
    probabilities = np.exp(predictions) / np.sum(np.exp(predictions))
    return int(rng.choice(len(probabilities), p=probabilities))


def seed_step_seconds(model: Any, vocab: Vocabulary, steps: int, seed: int) -> list[float]:
    """Times of ``steps`` steps of the seed's generation loop (after a warm-up predict)."""
    import keras

    rng = np.random.default_rng(seed)
    # The seed started from 64 delimiters plus its seed melody.
    history = [vocab.index[SONG_END]] * SEED_WINDOW + vocab.encode(["60", "_", "62", "_"]).tolist()
    window = keras.utils.to_categorical(history[-SEED_WINDOW:], num_classes=len(vocab))
    model.predict(window[np.newaxis, ...], verbose=0)  # warm-up: builds the predict function
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        window = keras.utils.to_categorical(history[-SEED_WINDOW:], num_classes=len(vocab))
        probabilities = model.predict(window[np.newaxis, ...], verbose=0)[0]
        history.append(seed_sample_with_temperature(probabilities, 1.0, rng))
        times.append(time.perf_counter() - start)
    return times


def _openblas() -> tuple[Any, Any] | None:
    """(get, set) of the thread count of NumPy's OpenBLAS, or None when not found."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:  # the loaded libraries (Linux)
            libraries = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(libraries):
        library = ctypes.CDLL(path)
        for suffix in ("64_", "_64_", ""):
            prefix = "scipy_openblas" if suffix else "openblas"
            getter = getattr(library, f"{prefix}_get_num_threads{suffix}", None)
            setter = getattr(library, f"{prefix}_set_num_threads{suffix}", None)
            if getter is not None and setter is not None:
                return getter, setter
    return None


@contextlib.contextmanager
def blas_threads(count: int) -> Iterator[str]:
    """Run with ``count`` OpenBLAS threads (0: unchanged); yields a label of the setting."""
    api = _openblas()
    if api is None:
        yield "BLAS threads: unknown"
        return
    get, set_ = api
    before = int(get())
    if count:
        set_(count)
    try:
        yield f"{int(get())} BLAS thread{'s' if int(get()) > 1 else ''}"
    finally:
        set_(before)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500, help="16th-note steps per melody")
    parser.add_argument("--seed-steps", type=int, default=50, help="seed's steps actually timed")
    parser.add_argument("--runs", type=int, default=5, help="single-melody runs (median)")
    parser.add_argument("--batch", type=int, default=64, help="melodies sampled as one batch")
    parser.add_argument("--batch-runs", type=int, default=3, help="batch runs (median)")
    parser.add_argument("--vocab-size", type=int, default=41)
    parser.add_argument(
        "--blas-threads",
        default="0,1",
        help="comma-separated OpenBLAS thread counts to time ours with (0: NumPy's default)",
    )
    args = parser.parse_args(argv)

    import keras

    vocab = erk_like_vocabulary(args.vocab_size)
    steps = args.steps
    print(
        f"Keras backend {keras.backend.backend()}; vocabulary {len(vocab)} symbols;"
        f" {steps} steps a melody",
        file=sys.stderr,
    )

    step_times = seed_step_seconds(seed_model(len(vocab)), vocab, args.seed_steps, seed=1)
    seed_step = statistics.median(step_times)
    seed_melody = seed_step * steps
    print(
        f"  seed: median {seed_step * 1000:.1f} ms a step over {args.seed_steps} steps"
        f" (mean {statistics.fmean(step_times) * 1000:.1f} ms)",
        file=sys.stderr,
    )

    def ours(generator: MelodyGenerator) -> tuple[float, float, float]:
        """Seconds for one melody, per melody in a batch, and of that the network steps only."""

        def sample(n: int) -> list[list[str]]:
            melodies = generator.sample(n=n, steps=steps, min_steps=steps, temperature=1.0, seed=7)
            assert all(len(m) == steps for m in melodies)
            return melodies

        def network_steps(n: int) -> None:
            stepper = generator.stepper
            state = stepper.initial_state(n)
            symbols = np.zeros(n, dtype=np.int64)
            for _ in range(steps + 1):  # +1: the first step reads the start delimiter
                stepper.step(symbols, state)

        single = median_seconds(lambda: sample(1), args.runs)
        batched = median_seconds(lambda: sample(args.batch), args.batch_runs) / args.batch
        network = median_seconds(lambda: network_steps(args.batch), args.batch_runs) / args.batch
        return single, batched, network

    rows: list[tuple[str, float, float, float]] = []
    generators: list[tuple[str, MelodyGenerator]] = []
    for name in ("seed", "default"):
        model = build_model(PRESETS[name], len(vocab))
        units = ", ".join(map(str, PRESETS[name].lstm_units))
        generators.append(
            (
                f'preset "{name}" (LSTM {units})',
                MelodyGenerator(vocab, LstmStepper.from_keras(model)),
            )
        )
    version = active_version("folk")
    if version is not None:
        generator = load_generator("folk")
        config = generator.bundle.model_config if generator.bundle else None
        units = ", ".join(map(str, config.lstm_units)) if config else "?"
        generators.append((f"folk bundle {version} (LSTM {units})", generator))
    else:
        print(f"no folk bundle: {default_models_dir() / 'folk' / 'ACTIVE'} is missing")
    for threads in (int(t) for t in args.blas_threads.split(",")):
        with blas_threads(threads) as setting:
            for name, generator in generators:
                single, batched, network = ours(generator)
                rows.append((f"ours, {name}, {setting}", single, batched, network))
                print(
                    f"  {rows[-1][0]}: {single * 1000:.1f} / {batched * 1000:.2f} ms",
                    file=sys.stderr,
                )

    print()
    print(
        f"| approach ({steps}-step melody) | ms / melody, single | seed / this"
        f" | ms / melody, batch of {args.batch} | seed / this | of which network steps, ms |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| seed: model.predict per step (extrapolated from {args.seed_steps} steps)"
        f" | {seed_melody * 1000:,.0f} | 1 | - | - | - |"
    )
    for name, single, batched, network in rows:
        print(
            f"| {name} | {single * 1000:.1f} | {seed_melody / single:,.0f}"
            f" | {batched * 1000:.2f} | {seed_melody / batched:,.0f} | {network * 1000:.2f} |"
        )
    print()
    print(
        f"seed's approach: {seed_step * 1000:.1f} ms a step (median of {args.seed_steps} timed"
        f" steps) x {steps} steps = {seed_melody:.1f} s a melody (extrapolated)"
    )
    for name, single, batched, _ in rows:
        if 'preset "seed"' not in name:  # the targets are for the seed's network size
            continue
        speedup = seed_melody / single
        print(
            f"{name}: single {speedup:,.0f}x the seed"
            f" ({'meets' if speedup >= SINGLE_TARGET_SPEEDUP else 'MISSES'} target:"
            f" at least {SINGLE_TARGET_SPEEDUP:g}x); batched {batched * 1000:.2f} ms a melody"
            f" ({'meets' if batched * 1000 <= BATCH_TARGET_MS else 'MISSES'} target:"
            f" at most {BATCH_TARGET_MS:g} ms)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
