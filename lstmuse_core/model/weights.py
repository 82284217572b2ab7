"""The sampler's weights file: ``weights.npz`` beside ``model.keras`` in every bundle.

Sampling needs the network's arrays, not Keras: importing Keras and
TensorFlow to read them cost a CLI run 4.3 of its 7.6 s and every generation
worker child ~0.5 GiB. So training writes the same arrays a second time, as a
plain NumPy archive that `numpy.load` reads in milliseconds, and the
generating processes (CLI, console, generation workers) read only that.
Keras stays for training and for the held-out evaluation.

The archive records the SHA-256 of the ``model.keras`` it was read from
(`MODEL_CHECKSUM`): a model replaced or retrained by hand without a new
weights file is refused by name instead of sampling from stale weights.
``lstmuse export-weights`` writes the file for bundles made before it existed.

Keys, by role rather than by Keras' variable paths (which differ between
Keras versions): ``embed_<input>`` per embedding layer (``embed_symbol`` is
shared by the symbol and lookback inputs), ``lstm_<n>.kernel``,
``lstm_<n>.recurrent_kernel``, ``lstm_<n>.bias`` for each LSTM layer from 1,
``dense.kernel`` and ``dense.bias`` for the output layer: each exactly the
float32 values Keras holds (Keras' gate order i, f, c, o).
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

WEIGHTS_FILE = "weights.npz"
MODEL_FILE = "model.keras"
MODEL_CHECKSUM = "model_keras_sha256"
_EMBEDDING_PREFIX = "embed_"


class LstmLayerWeights(NamedTuple):
    """One LSTM layer: input kernel, recurrent kernel and bias, Keras' gate order."""

    kernel: np.ndarray  # (inputs, 4 * units)
    recurrent_kernel: np.ndarray  # (units, 4 * units)
    bias: np.ndarray  # (4 * units,)


@dataclass(frozen=True)
class NetworkWeights:
    """Every array of a network built by `lstmuse_core.model.network.build_model`.

    embeddings: by embedding layer name (``embed_symbol``, ``embed_meter``, ...).
    """

    embeddings: Mapping[str, np.ndarray]
    lstm_layers: tuple[LstmLayerWeights, ...]
    dense_kernel: np.ndarray  # (top units, symbols)
    dense_bias: np.ndarray  # (symbols,)

    @property
    def symbols(self) -> int:
        """How many symbols the network predicts (its output width)."""
        return int(self.dense_bias.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        """The archive's arrays by key (see the module docstring)."""
        arrays = dict(self.embeddings)
        for number, layer in enumerate(self.lstm_layers, start=1):
            for part, values in layer._asdict().items():
                arrays[f"lstm_{number}.{part}"] = values
        arrays["dense.kernel"] = self.dense_kernel
        arrays["dense.bias"] = self.dense_bias
        return arrays

    def all_finite(self) -> bool:
        return all(np.isfinite(values).all() for values in self.arrays().values())

    @classmethod
    def from_keras(cls, model: Any) -> NetworkWeights:
        """Read a Keras model built by ``build_model`` (imports Keras: training and tests only)."""
        import keras

        def values(variable: Any) -> np.ndarray:
            return np.asarray(keras.ops.convert_to_numpy(variable))

        lstm_cells = [layer.cell for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
        denses = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        if not lstm_cells or len(denses) != 1:
            raise ValueError("the model is not an embeddings -> LSTM -> Dense network")
        return cls(
            {
                layer.name: values(layer.embeddings)
                for layer in model.layers
                if isinstance(layer, keras.layers.Embedding)
            },
            tuple(
                LstmLayerWeights(
                    values(cell.kernel), values(cell.recurrent_kernel), values(cell.bias)
                )
                for cell in lstm_cells
            ),
            values(denses[0].kernel),
            values(denses[0].bias),
        )

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> NetworkWeights:
        """The inverse of `arrays`; a missing key raises ``KeyError`` naming it."""
        layers: list[LstmLayerWeights] = []
        while f"lstm_{len(layers) + 1}.kernel" in arrays:
            prefix = f"lstm_{len(layers) + 1}."
            layers.append(
                LstmLayerWeights(*(arrays[prefix + part] for part in LstmLayerWeights._fields))
            )
        return cls(
            {k: v for k, v in arrays.items() if k.startswith(_EMBEDDING_PREFIX)},
            tuple(layers),
            arrays["dense.kernel"],
            arrays["dense.bias"],
        )


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex (a 4 MB ``model.keras``: ~10 ms)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_weights(folder: Path, weights: NetworkWeights) -> Path:
    """Write ``folder/weights.npz`` for the ``model.keras`` already in ``folder``."""
    path = folder / WEIGHTS_FILE
    checksum = np.array(file_sha256(folder / MODEL_FILE))
    arrays: dict[str, Any] = {**weights.arrays(), MODEL_CHECKSUM: checksum}
    with path.open("wb") as handle:  # np.savez would append ".npz" to a name without it
        np.savez(handle, **arrays)
    return path


class StoredWeights(NamedTuple):
    """What a weights file holds: the arrays and the checksum of the model they came from."""

    weights: NetworkWeights
    model_sha256: str


def read_weights(path: Path) -> StoredWeights:
    """Read a weights file (no pickles); ``KeyError``/``ValueError``/``OSError`` if unreadable."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except zipfile.BadZipFile as error:
        raise ValueError(f"not a NumPy archive: {error}") from error
    checksum = str(arrays.pop(MODEL_CHECKSUM))
    return StoredWeights(NetworkWeights.from_arrays(arrays), checksum)


__all__ = [
    "MODEL_CHECKSUM",
    "WEIGHTS_FILE",
    "LstmLayerWeights",
    "NetworkWeights",
    "StoredWeights",
    "file_sha256",
    "read_weights",
    "write_weights",
]
