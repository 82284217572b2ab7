"""The compiled network and sampler agree with Keras on the committed architecture.

The generators under test are loaded as every front end loads them, from the
bundle's ``weights.npz`` (no Keras); Keras runs the bundle's ``model.keras``.
Two checks, on the committed folk bundle (every input, two LSTM layers) and
on the tiny test model: the stepper's hidden states and logits equal the Keras
model's for a real song's inputs (`song_inputs`), and greedy sampling reads
exactly those inputs: the melody the sampler writes is what Keras' argmax
writes when fed the same song (so position, bars remaining, lookbacks and
repeat flags are computed the same way step by step as for training).
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from tests_support import keras_inputs

from lstmuse_core.model.generate import MelodyGenerator, load_generator, load_generator_from_path
from lstmuse_core.model.stepper import context_index
from lstmuse_core.model.train import StyleTrainingResult
from lstmuse_core.model.weights import NetworkWeights
from lstmuse_core.music.corpus import (
    ReadOptions,
    Song,
    music21_corpus_root,
    read_abc_tunes,
    split_abc_tunes,
)
from lstmuse_core.music.encoding import HOLD, SONG_END
from lstmuse_core.music.keys import MODES
from lstmuse_core.music.meter import Meter

COMMITTED_MODELS = Path(__file__).resolve().parents[3] / "trained_models"


def real_tune(generator: MelodyGenerator) -> Song:
    """The first ESAC erk5 song in a meter and mode the model knows, as the reader writes it."""
    path = music21_corpus_root() / "essenFolksong" / "erk5.abc"
    tunes = split_abc_tunes(path.read_text(encoding="utf-8"))[:20]
    songs = [r for r in read_abc_tunes(tunes, "erk5.abc", ReadOptions()) if isinstance(r, Song)]
    known = generator.conditioning
    return next(s for s in songs if s.meter in known.meters and s.mode in known.modes)


@pytest.fixture(scope="module", params=["committed folk", "tiny"])
def generator(request: pytest.FixtureRequest) -> MelodyGenerator:
    if request.param == "committed folk":
        return load_generator("folk", models_dir=COMMITTED_MODELS)
    tiny: StyleTrainingResult = request.getfixturevalue("tiny_training")
    return load_generator_from_path(tiny.bundle.path)


@pytest.mark.parametrize("rows", [1, 5])
def test_every_layer_matches_keras(generator: MelodyGenerator, rows: int) -> None:
    """Hidden states of every LSTM layer and the logits, from weights.npz, equal Keras' from
    model.keras, step by step, in every row (one row: `matvec`'s blocks of 8 outputs; five:
    `matmul`'s blocks, the last one short)."""
    assert generator.bundle is not None
    model = generator.bundle.load_model()
    from_file = generator.bundle.sampler_weights().arrays()
    from_model = NetworkWeights.from_keras(model).arrays()
    assert from_file.keys() == from_model.keys()
    for key, values in from_model.items():  # the very same float32 values, layer by layer
        np.testing.assert_array_equal(from_file[key], values, err_msg=key)
    tune = real_tune(generator)
    meter, mode = tune.meter, tune.mode
    inputs = keras_inputs(generator, tune.symbols, meter, mode, known=True)
    lstm_names = [layer.name for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
    assert len(lstm_names) == len(generator.stepper.units)
    probe = keras.Model(
        model.inputs, [model.get_layer(name).output for name in lstm_names] + [model.output]
    )
    *expected_hidden, expected_logits = (
        keras.ops.convert_to_numpy(out)[0] for out in probe(inputs, training=False)
    )
    stepper = generator.stepper
    state = stepper.initial_state(rows)
    constant = stepper.constant(
        np.array([generator.conditioning.meter_id(meter)]), np.array([MODES.index(mode)])
    )
    hidden: list[list[np.ndarray]] = [[] for _ in lstm_names]
    logits = []
    for t in range(inputs["symbol"].shape[1]):
        value = {name: int(inputs[name][0, t]) for name in inputs}
        network = stepper.network
        looked_up = constant[0] + network.symbol_table[value["symbol"]]
        if network.metrical:
            pair = value["lookback_1"] * len(generator.vocabulary) + value["lookback_2"]
            context = context_index(value["position"], value["remaining"], value["repeats"])
            looked_up += network.pair_table[pair] + network.context_table[context]
        state.looked_up[:] = looked_up
        stepper.advance(state)
        logits.append(stepper.logits(state))
        for layer in range(len(lstm_names)):
            own = state.inputs[layer][:, -stepper.units[layer] :]  # [h below, own h]
            hidden[layer].append(own.copy())

    def every_row(expected: np.ndarray) -> np.ndarray:  # (steps, n) -> (steps, rows, n)
        return np.broadcast_to(expected[:, None], (expected.shape[0], rows, expected.shape[1]))

    for layer, expected in enumerate(expected_hidden):
        np.testing.assert_allclose(np.stack(hidden[layer]), every_row(expected), atol=2e-5)
    np.testing.assert_allclose(np.stack(logits), every_row(expected_logits), atol=2e-4)


def greedy_from_keras(
    generator: MelodyGenerator, melody: list[str], meter: Meter, mode: str, *, known: bool
) -> list[str]:
    """Keras' argmax at every step of ``melody``, with the sampler's masks applied."""
    model = generator.bundle.load_model() if generator.bundle else None
    assert model is not None
    logits = keras.ops.convert_to_numpy(
        model(keras_inputs(generator, melody, meter, mode, known=known), training=False)
    )[0, : len(melody)]
    vocabulary = generator.vocabulary
    # The melody went on at each of these steps, so the delimiter was not the argmax.
    logits[:, vocabulary.index[SONG_END]] = -np.inf
    logits[0, vocabulary.index[HOLD]] = -np.inf  # nothing to hold yet
    return vocabulary.decode(logits.argmax(-1))


@pytest.mark.parametrize("bars", [8, None])
def test_greedy_sampler_writes_what_keras_writes(
    generator: MelodyGenerator, bars: int | None
) -> None:
    """top_k=1: each sampled symbol is Keras' argmax given the same inputs (fixed and free)."""
    six_eight = Meter(6, 8)
    meters = generator.conditioning.meters
    meter = six_eight if six_eight in meters else next(iter(meters))
    mode = next(iter(generator.conditioning.modes))
    (sampled,) = generator.sample(
        1, bars=bars, top_k=1, meter=meter, mode=mode, seed=3, max_steps=1024
    )
    melody = sampled.symbols
    bar = meter.bar_steps
    assert len(melody) % bar == 0 and len(melody) >= 4 * bar
    compared = len(melody)
    if bars is not None:
        assert len(melody) == bars * bar
    elif len(melody) == 1024 // bar * bar:  # ran to the cap: told its length 2 bars before
        compared -= 2 * bar
    greedy = greedy_from_keras(generator, melody, meter, mode, known=bars is not None)
    assert greedy[:compared] == melody[:compared]
