"""The LSTM network: a frozen config with named presets, and the Keras model.

Written against ``keras`` layers only, so the same model trains under
``KERAS_BACKEND=tensorflow`` (the default), ``jax`` or ``torch``.

The network reads, at every step, the previous symbol and what it is told
about the song (meter, mode, position in the bar, bars remaining, the symbols
one and two bars back: `lstmuse_core.model.conditioning`), each through an
embedding (the three symbol inputs share one); the embeddings side by side
feed one or more LSTM layers over a whole song, which predict the next symbol
at *every* position (logits; the softmax is applied by the loss and by the
sampler). Predicting every position instead of one target per 64-step window
is what makes training tens of times faster than the seed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.model.conditioning import SYMBOL_INPUTS, Conditioning


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and training hyper-parameters; stored in every bundle."""

    preset: str = "default"
    embedding_dim: int = 64
    lstm_units: tuple[int, ...] = (128, 128)
    dropout: float = 0.2
    learning_rate: float = 2e-3
    clipnorm: float = 1.0  # without it the training loss rose and validation stalled
    batch_size: int = 32
    pad_multiple: int = 64  # songs are padded to a multiple of this many steps
    max_epochs: int = 200
    patience: int = 6
    max_minutes: float = 20.0
    metrical: bool = True  # position, remaining bars and lookback inputs (conditioning)
    form: bool = True  # the part input: where a step stands in the tune's form

    def __post_init__(self) -> None:
        checks: list[tuple[str, Any, bool, str]] = [
            ("embedding_dim", self.embedding_dim, 1 <= self.embedding_dim <= 1024, "1-1024"),
            (
                "lstm_units",
                self.lstm_units,
                1 <= len(self.lstm_units) <= 4 and all(1 <= u <= 2048 for u in self.lstm_units),
                "1-4 layers of 1-2048 units",
            ),
            ("dropout", self.dropout, 0.0 <= self.dropout < 1.0, "0.0 to below 1.0"),
            (
                "learning_rate",
                self.learning_rate,
                0 < self.learning_rate <= 1,
                "above 0, at most 1",
            ),
            ("clipnorm", self.clipnorm, self.clipnorm > 0, "above 0"),
            ("batch_size", self.batch_size, 1 <= self.batch_size <= 1024, "1-1024"),
            ("pad_multiple", self.pad_multiple, 1 <= self.pad_multiple <= 1024, "1-1024"),
            ("max_epochs", self.max_epochs, 1 <= self.max_epochs <= 10_000, "1-10000"),
            ("patience", self.patience, 1 <= self.patience <= 1000, "1-1000"),
            (
                "max_minutes",
                self.max_minutes,
                0 < self.max_minutes <= 24 * 60,
                "above 0, at most 1440",
            ),
        ]
        for name, value, ok, allowed in checks:
            if not ok:
                raise InvalidParameter(name, value, f"use {allowed}")

    def with_overrides(self, **changes: Any) -> ModelConfig:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["lstm_units"] = list(self.lstm_units)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values.setdefault("form", False)  # trained before the form input
        values["lstm_units"] = tuple(values.get("lstm_units", (256,)))
        return cls(**values)


PRESETS: dict[str, ModelConfig] = {
    # The seed's network size: one LSTM layer of 256 units, dropout 0.2, with
    # the measured training recipe (Adam 1e-3, clipnorm 1).
    "seed": ModelConfig(
        preset="seed", embedding_dim=32, lstm_units=(256,), dropout=0.2, learning_rate=1e-3
    ),
    # Deeper and narrower: two layers of 128 cost ~0.8x the seed's arithmetic
    # per step; a larger step size reaches a lower held-out loss within the
    # same time budget (bench/quality_bench.py; figures in the README).
    "default": ModelConfig(),
    # For corpora of a few hundred songs (the chorales: 145-314 training songs):
    # batches of 8 give four times the updates an epoch and a step size of 6e-3
    # gets past the plateau the default sat on (one fold of Pearce's chorales,
    # validation bits/symbol: the default 1.04 after 58 epochs, 125 s, still
    # falling slowly; this 0.69 after 29 epochs, 161 s; README, "Cross-validation").
    "chorale": ModelConfig(
        preset="chorale", learning_rate=6e-3, batch_size=8, patience=8, max_minutes=15.0
    ),
    # For tests and quick experiments: trains in seconds.
    "tiny": ModelConfig(
        preset="tiny",
        embedding_dim=8,
        lstm_units=(16,),
        dropout=0.0,
        learning_rate=1e-2,
        batch_size=8,
        pad_multiple=16,
        max_epochs=30,
        patience=3,
        max_minutes=2.0,
    ),
}


def preset(name: str) -> ModelConfig:
    if name not in PRESETS:
        raise InvalidParameter("preset", name, f"use one of {', '.join(PRESETS)}")
    return PRESETS[name]


# Width of the embedding of a small input (position, meter, mode, ...).
CONDITION_EMBEDDING_DIM = 16


def build_model(config: ModelConfig, vocab_size: int, conditioning: Conditioning) -> Any:
    """The Keras network: embeddings side by side -> LSTM x N (dropout between) -> Dense logits.

    One int32 input per name of ``conditioning.inputs``, in that order (the
    sampler reads the first LSTM's kernel in the same order).
    """
    import keras
    from keras import layers

    categories = conditioning.categories(vocab_size)
    inputs = {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in categories}
    symbol_embedding = layers.Embedding(vocab_size, config.embedding_dim, name="embed_symbol")
    embedded = [
        symbol_embedding(inputs[name])
        if name in SYMBOL_INPUTS
        else layers.Embedding(count, min(count, CONDITION_EMBEDDING_DIM), name=f"embed_{name}")(
            inputs[name]
        )
        for name, count in categories.items()
    ]
    x = layers.Concatenate(name="step_input")(embedded) if len(embedded) > 1 else embedded[0]
    for layer_number, units in enumerate(config.lstm_units, start=1):
        x = layers.LSTM(units, return_sequences=True, name=f"lstm_{layer_number}")(x)
        x = layers.Dropout(config.dropout, name=f"dropout_{layer_number}")(x)
    logits = layers.Dense(vocab_size, name="next_symbol_logits")(x)
    model = keras.Model(list(inputs.values()), logits, name="lstmuse")
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=config.clipnorm),
        # The mean over real symbols only: padding (weight 0) does not dilute it.
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight"
        ),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model
