"""The network as float32 arrays, advanced one step at a time for a batch.

The network's weights come from the bundle's ``weights.npz``
(`lstmuse_core.model.weights`), so sampling never imports Keras.
Every input of a step is an embedding followed by the first LSTM layer's
input projection, so each becomes a table lookup: ``table[value] =
embedding[value] @ kernel_block`` (`LstmStepper.tables`). The meter and mode
are fixed for a melody, so their rows and the layer's bias are added once per
melody and form part (`LstmStepper.constant`); the two lookbacks are looked up as one pair
and position, bars remaining and repeat flags as one context (tables of sums,
made once). A step is then three lookups, one matrix product per layer and
the cell updates, compiled (`lstmuse_core.model.compiled.advance_layers`).

A test compares this with the Keras model on the committed bundles' networks
(`tests/lstmuse_core/model/test_stepper.py`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstmuse_core.model.compiled import Network, State, advance_layers, initial_state
from lstmuse_core.model.conditioning import REMAINING_CLASSES, SYMBOL_INPUTS, Conditioning
from lstmuse_core.model.weights import NetworkWeights


def context_index(position: Any, remaining: Any, repeats: Any) -> Any:
    """The row of the context table (`Network.context_table`) for these inputs (arrays or ints)."""
    return (position * REMAINING_CLASSES + remaining) * 4 + repeats


class LstmStepper:
    """The network as float32 arrays, advanced one step at a time for a batch."""

    def __init__(
        self,
        tables: dict[str, np.ndarray],
        first_bias: np.ndarray,
        first_recurrent: np.ndarray,
        deeper_layers: list[tuple[np.ndarray, ...]],
        dense_kernel: np.ndarray,
        dense_bias: np.ndarray,
    ) -> None:
        """``tables``: per input, ``embedding @ kernel_block`` (Keras' gate order)."""
        self.units = [first_recurrent.shape[0], *(r.shape[0] for _, r, _ in deeper_layers)]

        def f32(array: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(array, dtype=np.float32)

        self.tables = {name: f32(t) for name, t in tables.items()}
        self.first_bias = f32(first_bias)
        metrical = "position" in tables
        pairs = contexts = np.zeros((1, self.first_bias.size))  # not read unless metrical
        if metrical:
            # Inputs looked up as one: the two lookbacks as a pair (symbols x symbols
            # rows), and position, bars remaining and repeat flags as one context.
            pairs = tables["lookback_1"][:, None, :] + tables["lookback_2"][None, :, :]
            contexts = (
                tables["position"][:, None, None, :]
                + tables["remaining"][None, :, None, :]
                + tables["repeats"][None, None, :, :]
            )
        # Layer 0 multiplies its own hidden vector (its bias comes with the lookups);
        # deeper layers multiply [h below, own h] by the stacked kernels.
        self.network = Network(
            self.tables["symbol"],
            f32(pairs.reshape(-1, pairs.shape[-1])),
            f32(contexts.reshape(-1, contexts.shape[-1])),
            metrical,
            (
                f32(first_recurrent.T),
                *(f32(np.vstack([k, r]).T) for k, r, _ in deeper_layers),
            ),
            (np.zeros_like(self.first_bias), *(f32(bias) for _, _, bias in deeper_layers)),
            f32(dense_kernel.T),
            f32(dense_bias),
        )

    @classmethod
    def from_weights(cls, weights: NetworkWeights, conditioning: Conditioning) -> LstmStepper:
        """The stepper of a network built by `build_model` for ``conditioning``.

        The tables are products of float32 weights, made in float64 and rounded once.
        """

        def f64(values: np.ndarray) -> np.ndarray:
            return np.asarray(values, dtype=np.float64)

        first, *deeper = weights.lstm_layers
        first_kernel = f64(first.kernel)
        tables, row = {}, 0
        for name in conditioning.inputs:
            layer = "embed_symbol" if name in SYMBOL_INPUTS else f"embed_{name}"
            if layer not in weights.embeddings:
                raise ValueError(f"the network has no {layer} layer for its {name} input")
            embedding = f64(weights.embeddings[layer])
            width = embedding.shape[1]
            tables[name] = embedding @ first_kernel[row : row + width]
            row += width
        if row != first_kernel.shape[0]:
            raise ValueError(
                f"the first LSTM reads {first_kernel.shape[0]} values, inputs give {row}"
            )
        return cls(
            tables,
            f64(first.bias),
            f64(first.recurrent_kernel),
            [tuple(f64(w) for w in layer) for layer in deeper],
            f64(weights.dense_kernel),
            f64(weights.dense_bias),
        )

    @classmethod
    def from_keras(cls, model: Any, conditioning: Conditioning) -> LstmStepper:
        """Read a Keras model directly (training's sample statistics, benches and tests)."""
        return cls.from_weights(NetworkWeights.from_keras(model), conditioning)

    @property
    def part_classes(self) -> int:
        """Values of the ``part`` input (1 for a network without it)."""
        return self.tables["part"].shape[0] if "part" in self.tables else 1

    def constant(self, meter_ids: np.ndarray, mode_ids: np.ndarray) -> np.ndarray:
        """Each melody's fixed part of the first layer's input, for each value of the
        ``part`` input: meter, mode, part and bias rows. Melody ``r`` in part ``p`` reads
        row ``r * part_classes + p`` (`part_classes` is 1 without a form input)."""
        fixed = self.tables["meter"][meter_ids] + self.tables["mode"][mode_ids] + self.first_bias
        parts = self.tables.get("part", np.zeros((1, fixed.shape[1]), np.float32))
        return np.ascontiguousarray(
            (fixed[:, None, :] + parts[None, :, :]).reshape(-1, fixed.shape[1]), dtype=np.float32
        )

    def initial_state(self, rows: int) -> State:
        return initial_state(rows, self.units)

    def advance(self, state: State) -> None:
        """One step from ``state.looked_up`` (the first layer's input projection and bias,
        from the tables), in place; the sampler does the same inside its compiled loop."""
        advance_layers(state, self.network, state.top.shape[0])

    def logits(self, state: State) -> np.ndarray:
        """The next-symbol logits of every row (a new array)."""
        return np.asarray(state.top @ self.network.dense_kernel.T + self.network.dense_bias)


__all__ = ["LstmStepper", "context_index"]
