"""Sampling melodies from a trained bundle, fast, one symbol per step.

The seed's design re-ran a 64-step window through ``model.predict`` for every
new note (~44 ms a step). Here the network is primed once with the seed
melody and then fed one symbol per step while its LSTM state is carried, in
NumPy with the bundle's own weights (no framework overhead per step; the
Keras model is only used to read the weights, and a test checks that both
give the same probabilities). Many melodies are sampled together as one
batch: each row has its own primer, random generator and stopping point, so
a melody depends only on its own seed, not on what else was in the batch.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lstmuse_core.bundle import Bundle, bundle_folder, bundle_from_path, load_bundle
from lstmuse_core.encoding import HOLD, SONG_END, Vocabulary
from lstmuse_core.errors import InvalidParameter

MAX_STEPS = 4096


@dataclass(frozen=True)
class SamplingControls:
    """How to pick each next symbol; validated, so the message names the bad one."""

    temperature: float = 1.0
    top_k: int = 0  # 0: off
    top_p: float = 1.0  # 1.0: off

    def __post_init__(self) -> None:
        if not 0.05 <= self.temperature <= 5.0:
            raise InvalidParameter("temperature", self.temperature, "a number from 0.05 to 5.0")
        if not 0 <= self.top_k <= 1000:
            raise InvalidParameter("top_k", self.top_k, "0 (off) or a whole number up to 1000")
        if not 0.0 < self.top_p <= 1.0:
            raise InvalidParameter("top_p", self.top_p, "a number above 0 and at most 1 (1: off)")


class LstmStepper:
    """The network as NumPy arrays, advanced one symbol at a time for a batch."""

    def __init__(
        self,
        embedding: np.ndarray,
        lstm_layers: list[tuple[np.ndarray, ...]],
        dense_kernel: np.ndarray,
        dense_bias: np.ndarray,
    ) -> None:
        first_kernel, first_recurrent, first_bias = lstm_layers[0]
        # Embedding followed by the first layer's input projection is a table lookup.
        self.input_table = (embedding @ first_kernel + first_bias).astype(np.float32)
        self.recurrent = [first_recurrent.astype(np.float32)]
        self.stacked: list[tuple[np.ndarray, np.ndarray]] = []
        for kernel, recurrent, bias in lstm_layers[1:]:
            # One matmul of [h_below, h_own] against the stacked kernels.
            self.stacked.append(
                (np.vstack([kernel, recurrent]).astype(np.float32), bias.astype(np.float32))
            )
        self.units = [recurrent.shape[0] for _, recurrent, _ in lstm_layers]
        self.dense_kernel = dense_kernel.astype(np.float32)
        self.dense_bias = dense_bias.astype(np.float32)

    @classmethod
    def from_keras(cls, model: Any) -> LstmStepper:
        import keras

        embedding = None
        lstm_layers = []
        dense = None
        for layer in model.layers:
            if isinstance(layer, keras.layers.Embedding):
                embedding = keras.ops.convert_to_numpy(layer.embeddings)
            elif isinstance(layer, keras.layers.LSTM):
                cell = layer.cell
                lstm_layers.append(
                    tuple(
                        keras.ops.convert_to_numpy(w)
                        for w in (cell.kernel, cell.recurrent_kernel, cell.bias)
                    )
                )
            elif isinstance(layer, keras.layers.Dense):
                dense = layer
        if embedding is None or not lstm_layers or dense is None:
            raise ValueError("the model is not an Embedding -> LSTM -> Dense network")
        return cls(
            embedding,
            lstm_layers,
            keras.ops.convert_to_numpy(dense.kernel),
            keras.ops.convert_to_numpy(dense.bias),
        )

    def initial_state(self, batch: int) -> list[tuple[np.ndarray, np.ndarray]]:
        return [
            (np.zeros((batch, u), np.float32), np.zeros((batch, u), np.float32)) for u in self.units
        ]

    def step(self, symbols: np.ndarray, state: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Feed one symbol index per row; updates ``state`` in place, returns logits."""
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
        # Keras gate order: input, forget, cell candidate, output.
        i = _sigmoid(z[:, :units])
        f = _sigmoid(z[:, units : 2 * units])
        g = np.tanh(z[:, 2 * units : 3 * units])
        o = _sigmoid(z[:, 3 * units :])
        c = f * c + i * g
        return o * np.tanh(c), c


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (np.tanh(0.5 * x) + 1.0))  # overflow-free logistic


class MelodyGenerator:
    """A style's network ready to sample; see `load_generator`."""

    def __init__(
        self, vocabulary: Vocabulary, stepper: LstmStepper, bundle: Bundle | None = None
    ) -> None:
        self.bundle = bundle
        self.vocabulary = vocabulary
        self.stepper = stepper
        self._hold = self.vocabulary.index[HOLD]
        self._end = self.vocabulary.index[SONG_END]

    @property
    def version(self) -> str:
        return self.bundle.version if self.bundle else "unsaved"

    @property
    def style(self) -> str:
        return self.bundle.style if self.bundle else "unsaved"

    def check_primer(self, primer: Sequence[str], parameter: str = "seed") -> None:
        """Raise naming the first symbol the model does not know (e.g. a pitch out of range)."""
        for position, symbol in enumerate(primer, start=1):
            if symbol not in self.vocabulary or symbol == SONG_END:
                pitches = self.vocabulary.pitches
                raise InvalidParameter(
                    parameter,
                    symbol,
                    f"the {self.style} model knows pitches {min(pitches)}-{max(pitches)} "
                    "(in C major / A minor), '_' and 'r'",
                    hint=f"symbol {position} of the seed melody after moving it to C",
                )

    def sample(
        self,
        n: int = 1,
        steps: int = 256,
        temperature: float = 1.0,
        seed: int = 0,
        *,
        top_k: int = 0,
        top_p: float = 1.0,
        primer: Sequence[str] = (),
        min_steps: int = 0,
        seeds: Sequence[int] | None = None,
        primers: Sequence[Sequence[str]] | None = None,
    ) -> list[list[str]]:
        """Sample ``n`` melodies (symbol lists, in C major / A minor, primer included).

        steps: at most this many new 16th-note steps after the primer.
        min_steps: the song delimiter is not allowed before this many new steps;
            otherwise a melody ends where the model ends the song.
        seed: melody ``i`` uses random seed ``seed + i`` (or ``seeds[i]``).
        primers: one primer per melody (batching different requests); else
            every melody starts from ``primer``.
        """
        controls = SamplingControls(temperature, top_k, top_p)
        if not 1 <= n <= 1024:
            raise InvalidParameter("count", n, "1 to 1024 melodies")
        if not 1 <= steps <= MAX_STEPS:
            raise InvalidParameter("steps", steps, f"1 to {MAX_STEPS} 16th-note steps")
        if not 0 <= min_steps <= steps:
            raise InvalidParameter("min_steps", min_steps, f"0 to steps ({steps})")
        row_primers = [list(p) for p in primers] if primers is not None else [list(primer)] * n
        row_seeds = list(seeds) if seeds is not None else [seed + i for i in range(n)]
        if len(row_primers) != n or len(row_seeds) != n:
            raise ValueError("give one primer and one seed per melody")
        for row_primer in row_primers:
            self.check_primer(row_primer)
        return self._sample_batch(row_primers, row_seeds, steps, min_steps, controls)

    def _sample_batch(
        self,
        primers: list[list[str]],
        seeds: list[int],
        steps: int,
        min_steps: int,
        controls: SamplingControls,
    ) -> list[list[str]]:
        """One step for every row at a time; rows still priming are fed their primer."""
        n = len(primers)
        rngs = [np.random.default_rng(s) for s in seeds]
        primer_lengths = np.array([len(p) for p in primers], dtype=np.int64)
        melodies = np.full((n, int(primer_lengths.max()) + steps), self._end, dtype=np.int64)
        for row, primer in enumerate(primers):
            melodies[row, : len(primer)] = self.vocabulary.encode(primer)
        lengths = primer_lengths.copy()
        state = self.stepper.initial_state(n)
        current = np.full(n, self._end, dtype=np.int64)
        active = np.ones(n, dtype=bool)
        fed = np.zeros(n, dtype=np.int64)  # primer symbols fed so far, per row
        while active.any():
            logits = self.stepper.step(current, state)
            priming = active & (fed < primer_lengths)
            current[priming] = melodies[priming, fed[priming]]
            fed[priming] += 1
            rows = np.flatnonzero(active & ~priming)
            if rows.size == 0:
                continue
            made = lengths[rows] - primer_lengths[rows]
            started = lengths[rows] > 0  # a hold needs a note or rest before it
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
        """Draw one symbol per row (inverse CDF of its own uniform) under the controls."""
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
            # Keep the likeliest symbols until their mass reaches top_p (that one included).
            keep_ranked = np.cumsum(ranked, axis=1) - ranked < controls.top_p
            keep = np.zeros_like(keep_ranked)
            np.put_along_axis(keep, order, keep_ranked, axis=1)
            probabilities = np.where(keep, probabilities, 0.0)
            probabilities /= probabilities.sum(axis=1, keepdims=True)
        cumulative = np.cumsum(probabilities, axis=1)
        drawn = (cumulative <= uniforms[:, None] * cumulative[:, -1:]).sum(axis=1)
        return np.minimum(drawn, probabilities.shape[1] - 1)


_cache_lock = threading.Lock()
_cache: dict[Path, MelodyGenerator] = {}


def load_generator(
    style: str, models_dir: Path | None = None, version: str | None = None
) -> MelodyGenerator:
    """The generator of a style's active bundle (or a given version); names only.

    Loaded once per process and kept; a new ACTIVE version is picked up on
    the next call because the cache is keyed by the bundle folder. ``style``
    and ``version`` pass the one name check (`lstmuse_core.names`); a bundle
    folder path is the CLI's business: `load_generator_from_path`.
    """
    # Only ACTIVE is read per call: a cached bundle is not parsed and validated again.
    return _cached_generator(bundle_folder(style, models_dir, version).resolve())


def load_generator_from_path(path: str | Path) -> MelodyGenerator:
    """The generator of a bundle folder given as a path (the CLI's ``--style PATH``)."""
    return _cached_generator(bundle_from_path(path).path)


def _cached_generator(folder: Path) -> MelodyGenerator:
    with _cache_lock:
        if folder not in _cache:
            bundle = load_bundle(folder)
            stepper = LstmStepper.from_keras(bundle.load_model())
            _cache[folder] = MelodyGenerator(bundle.vocabulary, stepper, bundle)
        return _cache[folder]
