"""What the benchmarks compare against: the seed's network and timing helpers.

The seed fed one-hot windows of 64 16th-note steps to LSTM(256) -> Dropout
(0.2) -> softmax and predicted one symbol per window: one `predict` call on a
64-step window for every symbol it wrote.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

SEED_WINDOW = 64  # the seed's sequence length, in 16th-note steps


def seed_model(vocab_size: int) -> Any:
    """The seed's network: one-hot windows -> LSTM(256) -> Dropout(0.2) -> softmax."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(SEED_WINDOW, vocab_size))
    x = layers.LSTM(256)(inputs)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(vocab_size, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        loss="categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        metrics=["accuracy"],
    )
    return model


def median_seconds(work: Callable[[], object], runs: int) -> float:
    """The median wall time of ``runs`` calls of ``work``, after one warm-up call."""
    work()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
