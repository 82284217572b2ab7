"""Sampling 512-step melodies: the seed's way, the previous sampler and ours (a script).

    git worktree add /tmp/lstmuse-before 7307fca   # for its 1-input folk network
    python bench/generation_bench.py \
        --before-bundle /tmp/lstmuse-before/trained_models/folk/v001 \
        [--seed-steps 50] [--runs 7] [--batch 64] [--batch-runs 5] [--bars 32] \
        [--blas-threads 0,1]

Measures, in one run, with the committed folk bundle (``trained_models/folk``):

(a) the seed's approach: a Keras model of the seed's design (one-hot windows
    of 64 steps, LSTM(256) -> Dropout(0.2) -> Dense(vocab, softmax), random
    weights: speed does not depend on them) and, for every new step,
    ``to_categorical`` of the last 64 symbols and ``model.predict``, then
    sampling with temperature as the seed did. Only ``--seed-steps`` steps are
    timed (after one warm-up predict); the per-step median is extrapolated to
    ``--steps`` steps;
(b) before: the previous NumPy sampler (commit 0e55639), copied below as
    `PreviousSampler` so it runs beside the new one: float64 softmax, one
    uniform drawn per row and step, masks rebuilt every step, arrays
    allocated every step. It reads only the previous symbol, so it runs the
    previous release's folk network (``--before-bundle``: 2x128 LSTM, one
    input);
(c) after: `MelodyGenerator` of `lstmuse_core.model.generate` on the
    committed folk network, which also reads meter, mode, position in the bar,
    bars remaining and lookbacks: the whole loop compiled with numba
    (`lstmuse_core.model.compiled`), every sample-independent input computed
    before it, uniforms drawn up front, a batch cut into a part per core
    (`lstmuse_core.model.cores`); in 4/4, one candidate per melody;
(d) the same, best of ``CANDIDATES`` (6) candidates per melody: what every
    reply samples (4 rows per melody).

It also times the LSTM layers' matrix products alone for a batch (the same
shapes, steps and parts, nothing else of the loop): the floor under (c) batched.

Each samples one melody at a time (median of ``--runs``) and ``--batch``
melodies as one batch (per-melody time = batch time / batch, median of
``--batch-runs``), alternating samplers run by run so that load on a shared
machine hits all alike, with a pause before each run (`BLAS_IDLE_SECONDS`);
every melody has exactly ``--bars`` bars. All are timed under each
``--blas-threads`` setting (every loaded BLAS, NumPy's and SciPy's if loaded, set
through threadpoolctl; 0 = as started, i.e. one thread a core). The setting
reaches the before sampler only: ours does every matrix product without BLAS,
one row included.
On a loaded machine OpenBLAS's threads oversubscribe the cores and batched
times jump: quote the load average printed with the table.

Targets (issue 15): one melody in at most 15 ms; at most 3 ms a melody in a
batch of 64, with the default BLAS setting.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from seed_design import SEED_WINDOW, seed_model  # bench/ is on sys.path
from threadpoolctl import threadpool_info, threadpool_limits

from lstmuse_core.model.generate import CANDIDATES, SamplingControls, load_generator
from lstmuse_core.music.encoding import HOLD, SONG_END, Vocabulary
from lstmuse_core.music.meter import COMMON_TIME

# Before each timed run: OpenBLAS's helper threads spin for ~0.1 s after a call
# (2^28 cycles), and the before sampler uses NumPy's OpenBLAS while ours uses
# SciPy's; a run started right after the other library's took a core from it
# (measured: 4.74 against 3.89 ms a melody in a batch of 64).
BLAS_IDLE_SECONDS = 0.3
SINGLE_TARGET_MS = 15.0
BATCH_TARGET_MS = 3.0


class PreviousSampler:
    """The sampler as it was before issue 15 (commit 0e55639), kept to be timed beside ours.

    The network step and the sampling loop are copied unchanged; only the
    argument checks of ``sample`` are left out.
    """

    def __init__(self, vocabulary: Vocabulary, model: Any) -> None:
        import keras

        layers = [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
        weights = [
            tuple(
                keras.ops.convert_to_numpy(w)
                for w in (layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias)
            )
            for layer in layers
        ]
        embedding = next(
            keras.ops.convert_to_numpy(layer.embeddings)
            for layer in model.layers
            if isinstance(layer, keras.layers.Embedding)
        )
        dense = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))
        first_kernel, first_recurrent, first_bias = weights[0]
        self.input_table = (embedding @ first_kernel + first_bias).astype(np.float32)
        self.recurrent = [first_recurrent.astype(np.float32)]
        self.stacked = [
            (np.vstack([kernel, recurrent]).astype(np.float32), bias.astype(np.float32))
            for kernel, recurrent, bias in weights[1:]
        ]
        self.units = [recurrent.shape[0] for _, recurrent, _ in weights]
        self.dense_kernel = keras.ops.convert_to_numpy(dense.kernel).astype(np.float32)
        self.dense_bias = keras.ops.convert_to_numpy(dense.bias).astype(np.float32)
        self.vocabulary = vocabulary
        self._hold = vocabulary.index[HOLD]
        self._end = vocabulary.index[SONG_END]

    def sample(self, n: int, steps: int, seed: int, min_steps: int) -> list[list[str]]:
        return self._sample_batch(
            [[] for _ in range(n)],
            [seed + i for i in range(n)],
            steps,
            min_steps,
            SamplingControls(),
        )

    def step(self, symbols: np.ndarray, state: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        h, c = state[0]
        z = self.input_table[symbols] + h @ self.recurrent[0]
        state[0] = self._cell(z, c, self.units[0])
        below = state[0][0]
        for layer, (kernel, bias) in enumerate(self.stacked, start=1):
            h, c = state[layer]
            z = np.concatenate([below, h], axis=1) @ kernel + bias
            state[layer] = self._cell(z, c, self.units[layer])
            below = state[layer][0]
        return np.asarray(below @ self.dense_kernel + self.dense_bias)

    @staticmethod
    def _cell(z: np.ndarray, c: np.ndarray, units: int) -> tuple[np.ndarray, np.ndarray]:
        i = _sigmoid(z[:, :units])
        f = _sigmoid(z[:, units : 2 * units])
        g = np.tanh(z[:, 2 * units : 3 * units])
        o = _sigmoid(z[:, 3 * units :])
        c = f * c + i * g
        return o * np.tanh(c), c

    def _sample_batch(
        self,
        primers: list[list[str]],
        seeds: list[int],
        steps: int,
        min_steps: int,
        controls: SamplingControls,
    ) -> list[list[str]]:
        n = len(primers)
        rngs = [np.random.default_rng(s) for s in seeds]
        primer_lengths = np.array([len(p) for p in primers], dtype=np.int64)
        melodies = np.full((n, int(primer_lengths.max()) + steps), self._end, dtype=np.int64)
        for row, primer in enumerate(primers):
            melodies[row, : len(primer)] = self.vocabulary.encode(primer)
        lengths = primer_lengths.copy()
        state = [(np.zeros((n, u), np.float32), np.zeros((n, u), np.float32)) for u in self.units]
        current = np.full(n, self._end, dtype=np.int64)
        active = np.ones(n, dtype=bool)
        fed = np.zeros(n, dtype=np.int64)
        while active.any():
            logits = self.step(current, state)
            priming = active & (fed < primer_lengths)
            current[priming] = melodies[priming, fed[priming]]
            fed[priming] += 1
            rows = np.flatnonzero(active & ~priming)
            if rows.size == 0:
                continue
            made = lengths[rows] - primer_lengths[rows]
            started = lengths[rows] > 0
            uniforms = np.array([rngs[row].random() for row in rows])
            chosen = self._pick(
                logits[rows],
                uniforms,
                controls,
                allow_end=(made >= min_steps) & started,
                allow_hold=started,
            )
            ended = chosen == self._end
            active[rows[ended]] = False
            rows, chosen = rows[~ended], chosen[~ended]
            melodies[rows, lengths[rows]] = chosen
            lengths[rows] += 1
            current[rows] = chosen
            active[rows[lengths[rows] - primer_lengths[rows] >= steps]] = False
        return [self.vocabulary.decode(melodies[row, : lengths[row]]) for row in range(n)]

    def _pick(
        self,
        logits: np.ndarray,
        uniforms: np.ndarray,
        controls: SamplingControls,
        *,
        allow_end: np.ndarray,
        allow_hold: np.ndarray,
    ) -> np.ndarray:
        scores = logits.astype(np.float64) / controls.temperature
        scores[~allow_end, self._end] = -np.inf
        scores[~allow_hold, self._hold] = -np.inf
        if controls.top_k and controls.top_k < scores.shape[1]:
            kth = np.partition(scores, -controls.top_k, axis=1)[:, -controls.top_k]
            scores[scores < kth[:, None]] = -np.inf
        probabilities = np.exp(scores - scores.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        if controls.top_p < 1.0:
            order = np.argsort(-probabilities, axis=1, kind="stable")
            ranked = np.take_along_axis(probabilities, order, axis=1)
            keep_ranked = np.cumsum(ranked, axis=1) - ranked < controls.top_p
            keep = np.zeros_like(keep_ranked)
            np.put_along_axis(keep, order, keep_ranked, axis=1)
            probabilities = np.where(keep, probabilities, 0.0)
            probabilities /= probabilities.sum(axis=1, keepdims=True)
        cumulative = np.cumsum(probabilities, axis=1)
        drawn = (cumulative <= uniforms[:, None] * cumulative[:, -1:]).sum(axis=1)
        return np.minimum(drawn, probabilities.shape[1] - 1)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (np.tanh(0.5 * x) + 1.0))


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


@contextlib.contextmanager
def blas_threads(count: int) -> Iterator[str]:
    """Run with ``count`` threads in every BLAS (0: as started); yields a label of it."""
    with threadpool_limits(limits=count or None, user_api="blas"):
        now = sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
        yield f"{'/'.join(map(str, now))} BLAS thread{'s' if max(now) > 1 else ''}"


def matrix_products_seconds(generator: Any, batch: int, steps: int, runs: int) -> float:
    """Median seconds per melody of the LSTM layers' matrix products alone, for ``batch``
    rows and ``steps`` steps, cut into parts as the sampler cuts a batch
    (`lstmuse_core.model.cores`): the floor under batched sampling, timed without
    anything else of the loop."""
    from lstmuse_core.model.compiled import compiled, matmul
    from lstmuse_core.model.cores import on_every_core, row_parts, usable_cores

    @compiled
    def products(inputs: Any, gates: Any, kernels: Any, steps: int) -> None:
        for _ in range(steps):
            for layer in range(len(kernels)):
                matmul(inputs[layer], kernels[layer], gates[layer], len(inputs[layer]))

    kernels = generator.stepper.network.kernels
    # Each part's state, made before the timing (the parts `on_every_core` will cut).
    states = {
        part.start: generator.stepper.initial_state(len(part))
        for part in row_parts(batch, usable_cores())
    }

    def part_products(part: range) -> None:
        state = states[part.start]
        products(state.inputs, state.gates, kernels, steps)

    on_every_core(part_products, batch)  # compile
    times = []
    for _ in range(runs):
        time.sleep(BLAS_IDLE_SECONDS)
        start = time.perf_counter()
        on_every_core(part_products, batch)
        times.append((time.perf_counter() - start) / batch)
    return statistics.median(times)


@dataclass(frozen=True)
class Timing:
    """Median seconds for one melody alone and per melody in a batch."""

    single: float
    batched: float


def before_and_after(
    samplers: dict[str, Callable[[int], object]], runs: int, batch: int, batch_runs: int
) -> dict[str, Timing]:
    """Each sampler timed alone and batched, alternating samplers run by run (medians)."""
    single: dict[str, list[float]] = {name: [] for name in samplers}
    batched: dict[str, list[float]] = {name: [] for name in samplers}
    for sample in samplers.values():  # warm-up
        sample(1)
        sample(batch)
    for run in range(max(runs, batch_runs)):
        for name, sample in samplers.items():
            if run < runs:
                time.sleep(BLAS_IDLE_SECONDS)
                start = time.perf_counter()
                sample(1)
                single[name].append(time.perf_counter() - start)
            if run < batch_runs:
                time.sleep(BLAS_IDLE_SECONDS)
                start = time.perf_counter()
                sample(batch)
                batched[name].append((time.perf_counter() - start) / batch)
    return {
        name: Timing(statistics.median(single[name]), statistics.median(batched[name]))
        for name in samplers
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=32, help="bars of 4/4 per melody")
    parser.add_argument(
        "--before-bundle", type=Path, required=True, help="the previous release's folk bundle"
    )
    parser.add_argument("--seed-steps", type=int, default=50, help="seed's steps actually timed")
    parser.add_argument("--runs", type=int, default=7, help="single-melody runs (median)")
    parser.add_argument("--batch", type=int, default=64, help="melodies sampled as one batch")
    parser.add_argument("--batch-runs", type=int, default=5, help="batch runs (median)")
    parser.add_argument(
        "--blas-threads",
        default="0,1",
        help="comma-separated OpenBLAS thread counts to time with (0: NumPy's default)",
    )
    args = parser.parse_args(argv)

    import keras

    generator = load_generator("folk")
    assert generator.bundle is not None
    bundle = generator.bundle
    vocab = generator.vocabulary
    steps = args.bars * 16
    units = ", ".join(map(str, bundle.model_config.lstm_units))
    print(
        f"Keras backend {keras.backend.backend()}; folk bundle {bundle.version} (LSTM {units});"
        f" vocabulary {len(vocab)} symbols; {steps} steps a melody",
        file=sys.stderr,
    )
    step_times = seed_step_seconds(seed_model(len(vocab)), vocab, args.seed_steps, seed=1)
    seed_step = statistics.median(step_times)
    seed_melody = seed_step * steps
    print(f"  seed: median {seed_step * 1000:.1f} ms a step", file=sys.stderr)

    before_folder = args.before_bundle
    previous = PreviousSampler(
        Vocabulary.load(before_folder / "vocab.json"),
        keras.saving.load_model(before_folder / "model.keras", compile=False),
    )

    def checked(melodies: list[list[str]]) -> list[list[str]]:
        # A chosen candidate may open with a pickup bar before its bars (`MelodyPlan.pickup`).
        assert all(len(m) in (steps, steps + COMMON_TIME.bar_steps) for m in melodies)
        return melodies

    def after(n: int, candidates: int = 1) -> list[list[str]]:
        sampled = generator.sample(
            n=n, bars=args.bars, seed=7, meter=COMMON_TIME, mode="major", candidates=candidates
        )
        return checked([m.symbols for m in sampled])

    samplers: dict[str, Callable[[int], object]] = {
        "before": lambda n: checked(previous.sample(n, steps, seed=7, min_steps=steps)),
        "after": after,
        f"after, best of {CANDIDATES}": lambda n: after(n, CANDIDATES),
    }
    # (BLAS setting, timings, matrix products alone per melody in a batch)
    results: list[tuple[str, dict[str, Timing], float]] = []
    for threads in (int(t) for t in args.blas_threads.split(",")):
        with blas_threads(threads) as setting:
            timings = before_and_after(samplers, args.runs, args.batch, args.batch_runs)
            floor = matrix_products_seconds(generator, args.batch, steps, args.batch_runs)
            results.append((setting, timings, floor))
            for name, timing in timings.items():
                print(
                    f"  {setting}, {name}: {timing.single * 1000:.1f} ms single,"
                    f" {timing.batched * 1000:.2f} ms a melody batched",
                    file=sys.stderr,
                )

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print()
    print(
        f"Folk bundle {bundle.version} (LSTM {units}), {steps}-step melodies;"
        f" load average {load} (1, 5, 15 min) at the end"
    )
    print()
    print(
        f"| sampler | BLAS | ms, one melody | seed / this | before / this"
        f" | ms a melody, batch of {args.batch} | before / this |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| seed: `model.predict` on a 64-step window per step (extrapolated from"
        f" {args.seed_steps} steps) | default | {seed_melody * 1000:,.0f} | 1 | - | - | - |"
    )
    for setting, timings, _ in results:
        before = timings["before"]
        for name, label in (
            ("before", "before: previous NumPy sampler (0e55639)"),
            ("after", "after: this sampler, one candidate"),
            (
                f"after, best of {CANDIDATES}",
                f"after: best of {CANDIDATES} candidates, as a reply samples",
            ),
        ):
            timing = timings[name]
            print(
                f"| {label} | {setting} | {timing.single * 1000:.1f}"
                f" | {seed_melody / timing.single:,.0f} | {before.single / timing.single:.2f}"
                f" | {timing.batched * 1000:.2f} | {before.batched / timing.batched:.2f} |"
            )
    print()
    for setting, timings, floor in results:
        print(
            f"{setting}: the LSTM layers' matrix products alone take {floor * 1000:.2f} ms"
            f" a melody in a batch of {args.batch}"
            f" ({floor / timings['after'].batched:.0%} of the batched sampler's time)"
        )
    print()
    for setting, timings, _ in results:
        after = timings["after"]
        single_ok = after.single * 1000 <= SINGLE_TARGET_MS
        batch_ok = after.batched * 1000 <= BATCH_TARGET_MS
        print(
            f"{setting}: one melody {after.single * 1000:.1f} ms"
            f" ({'meets' if single_ok else 'MISSES'} target: at most {SINGLE_TARGET_MS:g} ms);"
            f" batched {after.batched * 1000:.2f} ms a melody"
            f" ({'meets' if batch_ok else 'MISSES'} target: at most {BATCH_TARGET_MS:g} ms)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
