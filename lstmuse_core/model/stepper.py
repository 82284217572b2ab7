"""The network in NumPy: float32 arrays advanced one step at a time for a batch.

The Keras model (`lstmuse_core.model.network`) is only read for its weights.
Every input of a step is an embedding followed by the first LSTM layer's
input projection, so each becomes a table lookup: ``table[value] =
embedding[value] @ kernel_block`` (`LstmStepper.tables`). The meter and mode
are fixed for a melody, so their rows and the layer's bias are added once per
melody (`LstmStepper.constant`); the two lookbacks are looked up as one pair
and position, bars remaining and repeat flags as one context (tables of sums,
made once). A step is then three lookups, the recurrent matmuls and the cell
updates, writing into buffers made once.

A test compares this with the Keras model on the committed bundles' networks
(`tests/lstmuse_core/model/test_stepper.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lstmuse_core.model.conditioning import REMAINING_CLASSES, SYMBOL_INPUTS, Conditioning

_HALF = np.float32(0.5)
_add, _multiply, _tanh, _matmul = np.add, np.multiply, np.tanh, np.matmul


def _stepper_gates(weights: np.ndarray, units: int) -> np.ndarray:
    """Keras gate columns [i, f, c, o] reordered to [i, f, o, c], sigmoid gates halved.

    With the three sigmoid gates side by side and their weights halved (exact
    in floating point), one ``tanh`` over all four gates gives ``tanh(x / 2)``
    there and ``sigmoid(x) = (tanh(x / 2) + 1) / 2`` is one multiply-add on one
    block; the candidate gets its plain ``tanh``.
    """
    i, f, c, o = (weights[..., k * units : (k + 1) * units] for k in range(4))
    return np.concatenate([0.5 * i, 0.5 * f, 0.5 * o, c], axis=-1).astype(np.float32)


class _LayerBuffers:
    """One layer's cell state, gate buffer and the views of them a step uses (made once)."""

    __slots__ = (
        "candidate",
        "cell",
        "forget_gate",
        "gates",
        "hidden",
        "input_gate",
        "inputs",
        "output_gate",
        "scratch",
        "sigmoid_gates",
    )

    def __init__(self, inputs: np.ndarray, hidden: np.ndarray, cell: np.ndarray) -> None:
        batch, units = cell.shape
        self.inputs = inputs  # what multiplies the layer's kernel: [h below, own h] (or own h)
        self.hidden = hidden
        self.cell = cell
        self.gates = np.empty((batch, 4 * units), np.float32)
        self.sigmoid_gates = self.gates[:, : 3 * units]
        self.input_gate = self.gates[:, :units]
        self.forget_gate = self.gates[:, units : 2 * units]
        self.output_gate = self.gates[:, 2 * units : 3 * units]
        self.candidate = self.gates[:, 3 * units :]
        self.scratch = np.empty((batch, units), np.float32)


class LstmState:
    """A batch's LSTM state in preallocated float32 buffers, updated in place by a step.

    The hidden vectors of all layers lie side by side in one array, so layer
    ``L``'s input ``[h of L-1, h of L]`` is one slice of it: no concatenation
    and no allocation per step.
    """

    def __init__(self, batch: int, units: Sequence[int], input_width: int) -> None:
        edges = [0, *np.cumsum(units).tolist()]
        self.hidden = np.zeros((batch, edges[-1]), np.float32)
        self.layers = [
            _LayerBuffers(
                self.hidden[:, edges[max(layer - 1, 0)] : edges[layer + 1]],
                self.hidden[:, edges[layer] : edges[layer + 1]],
                np.zeros((batch, units[layer]), np.float32),
            )
            for layer in range(len(units))
        ]
        # The first layer's input projection of a step, and room to add one lookup to it.
        self.looked_up = np.empty((batch, input_width), np.float32)
        self.extra = np.empty((batch, input_width), np.float32)

    @property
    def batch(self) -> int:
        return int(self.hidden.shape[0])

    @property
    def top(self) -> np.ndarray:
        """The last layer's hidden vectors, one row per melody."""
        return self.layers[-1].hidden

    def zero_rows(self, rows: np.ndarray) -> None:
        """Set these rows (a bool mask or indices) back to the initial, all-zero state."""
        self.hidden[rows] = 0.0
        for layer in self.layers:
            layer.cell[rows] = 0.0

    def take_rows(self, rows: np.ndarray) -> LstmState:
        """A smaller state holding only these rows (indices), in this order."""
        units = [layer.cell.shape[1] for layer in self.layers]
        taken = LstmState(len(rows), units, self.looked_up.shape[1])
        taken.hidden[...] = self.hidden[rows]
        for mine, theirs in zip(self.layers, taken.layers, strict=True):
            theirs.cell[...] = mine.cell[rows]
        return taken


def context_index(position: Any, remaining: Any, repeats: Any) -> Any:
    """The row of `LstmStepper.contexts` for these inputs (NumPy arrays or ints)."""
    return (position * REMAINING_CLASSES + remaining) * 4 + repeats


class LstmStepper:
    """The network as NumPy float32 arrays, advanced one step at a time for a batch."""

    def __init__(
        self,
        tables: dict[str, np.ndarray],
        first_bias: np.ndarray,
        first_recurrent: np.ndarray,
        deeper_layers: list[tuple[np.ndarray, ...]],
        dense_kernel: np.ndarray,
        dense_bias: np.ndarray,
    ) -> None:
        """``tables``: per input, ``embedding @ kernel_block`` in Keras' gate order."""
        self.units = [first_recurrent.shape[0], *(r.shape[0] for _, r, _ in deeper_layers)]
        first = self.units[0]
        self.tables = {name: _stepper_gates(t, first) for name, t in tables.items()}
        self.metrical = "position" in tables
        self.first_bias = _stepper_gates(first_bias, first)
        self.recurrent = _stepper_gates(first_recurrent, first)
        if self.metrical:
            # Inputs looked up as one: the two lookbacks as a pair (symbols x symbols
            # rows), and position, bars remaining and repeat flags as one context.
            pairs = tables["lookback_1"][:, None, :] + tables["lookback_2"][None, :, :]
            self.lookback_pairs = _stepper_gates(pairs.reshape(-1, pairs.shape[-1]), first)
            context = (
                tables["position"][:, None, None, :]
                + tables["remaining"][None, :, None, :]
                + tables["repeats"][None, None, :, :]
            )
            self.contexts = _stepper_gates(context.reshape(-1, context.shape[-1]), first)
        # Deeper layers: one matmul of [h below, own h] against the stacked kernels.
        self.stacked = [
            (
                _stepper_gates(np.vstack([kernel, recurrent]), units),
                _stepper_gates(bias, units),
            )
            for (kernel, recurrent, bias), units in zip(deeper_layers, self.units[1:], strict=True)
        ]
        self.dense_kernel = dense_kernel.astype(np.float32)
        self.dense_bias = dense_bias.astype(np.float32)

    @classmethod
    def from_keras(cls, model: Any, conditioning: Conditioning) -> LstmStepper:
        """Read a network built by `build_model` for ``conditioning``."""
        import keras

        def weights(variable: Any) -> np.ndarray:
            return np.asarray(keras.ops.convert_to_numpy(variable), dtype=np.float64)

        lstm_cells = [layer.cell for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
        denses = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        if not lstm_cells or len(denses) != 1:
            raise ValueError("the model is not an embeddings -> LSTM -> Dense network")
        first_kernel = weights(lstm_cells[0].kernel)
        tables, row = {}, 0
        for name in conditioning.inputs:
            layer = model.get_layer("embed_symbol" if name in SYMBOL_INPUTS else f"embed_{name}")
            embedding = weights(layer.embeddings)
            width = embedding.shape[1]
            tables[name] = embedding @ first_kernel[row : row + width]
            row += width
        if row != first_kernel.shape[0]:
            raise ValueError(
                f"the first LSTM reads {first_kernel.shape[0]} values, inputs give {row}"
            )
        return cls(
            tables,
            weights(lstm_cells[0].bias),
            weights(lstm_cells[0].recurrent_kernel),
            [
                tuple(weights(w) for w in (cell.kernel, cell.recurrent_kernel, cell.bias))
                for cell in lstm_cells[1:]
            ],
            weights(denses[0].kernel),
            weights(denses[0].bias),
        )

    def constant(self, meter_ids: np.ndarray, mode_ids: np.ndarray) -> np.ndarray:
        """Each melody's fixed part of the first layer's input: meter, mode and bias rows."""
        return np.asarray(
            self.tables["meter"][meter_ids] + self.tables["mode"][mode_ids] + self.first_bias,
            dtype=np.float32,
        )

    def initial_state(self, batch: int) -> LstmState:
        return LstmState(batch, self.units, self.recurrent.shape[1])

    def look_up(
        self,
        state: LstmState,
        constant: np.ndarray,
        symbols: np.ndarray,
        lookback_pairs: np.ndarray | None = None,
        contexts: np.ndarray | None = None,
    ) -> None:
        """Write the first layer's input projection of one step into ``state.looked_up``.

        Indices are int64 arrays, one per row: ``lookback_pairs`` is
        ``lookback_1 * symbols + lookback_2`` and ``contexts`` is ``(position *
        REMAINING_CLASSES + remaining) * 4 + repeats`` (`context_index`); both
        are required when the network reads them.
        """
        out, extra = state.looked_up, state.extra
        self.tables["symbol"].take(symbols, 0, out, "clip")
        _add(out, constant, out)
        if not self.metrical:
            return
        assert lookback_pairs is not None and contexts is not None
        self.lookback_pairs.take(lookback_pairs, 0, extra, "clip")
        _add(out, extra, out)
        self.contexts.take(contexts, 0, extra, "clip")
        _add(out, extra, out)

    def advance(self, state: LstmState) -> None:
        """One step from ``state.looked_up`` (see `look_up`); in place, allocates nothing."""
        # Positional ``out`` arguments and ufuncs rather than their Python wrappers:
        # for one melody the step is ~25 tiny calls, and their overhead is the cost.
        first = state.layers[0]
        _matmul(first.inputs, self.recurrent, first.gates)
        _add(first.gates, state.looked_up, first.gates)
        _update_cell(first)
        for (kernel, bias), layer in zip(self.stacked, state.layers[1:], strict=True):
            _matmul(layer.inputs, kernel, layer.gates)
            _add(layer.gates, bias, layer.gates)
            _update_cell(layer)

    def logits(self, state: LstmState) -> np.ndarray:
        """The next-symbol logits of every row (a new array)."""
        return np.asarray(state.top @ self.dense_kernel + self.dense_bias)


def _update_cell(layer: _LayerBuffers) -> None:
    """The LSTM cell update from the layer's gate pre-activations, in place."""
    _tanh(layer.gates, layer.gates)
    _multiply(layer.sigmoid_gates, _HALF, layer.sigmoid_gates)
    _add(layer.sigmoid_gates, _HALF, layer.sigmoid_gates)  # now sigmoid(x)
    _multiply(layer.cell, layer.forget_gate, layer.cell)
    _multiply(layer.input_gate, layer.candidate, layer.scratch)
    _add(layer.cell, layer.scratch, layer.cell)
    _tanh(layer.cell, layer.scratch)
    _multiply(layer.output_gate, layer.scratch, layer.hidden)


__all__ = ["LstmState", "LstmStepper"]
