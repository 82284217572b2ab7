"""Sampling: the NumPy fast path agrees with Keras; every control does what it says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from lstmuse_core.compose import compose
from lstmuse_core.errors import InvalidParameter
from lstmuse_core.model.generate import (
    LstmStepper,
    MelodyGenerator,
    load_generator,
    load_generator_from_path,
)
from lstmuse_core.model.train import StyleTrainingResult
from lstmuse_core.music.encoding import HOLD, SONG_END, decode_symbols
from lstmuse_core.request import MelodyRequest

COMMITTED_MODELS = Path(__file__).resolve().parents[3] / "trained_models"


@pytest.fixture(scope="module")
def generator(tiny_training: StyleTrainingResult) -> MelodyGenerator:
    return load_generator_from_path(tiny_training.bundle.path)


@pytest.fixture(scope="module")
def folk() -> MelodyGenerator:
    """The committed folk bundle: two LSTM layers, and songs that end on their own."""
    return load_generator("folk", models_dir=COMMITTED_MODELS)


def test_fast_path_matches_keras(tiny_training: StyleTrainingResult) -> None:
    """Step-by-step NumPy logits equal the Keras model's on a whole sequence."""
    model = tiny_training.bundle.load_model()
    vocabulary = tiny_training.bundle.vocabulary
    song = ["/", "72", "_", "74", "_", "76", "_", "_", "_", "r", "_", "72", "_"]
    indices = vocabulary.encode(song)
    expected = keras.ops.convert_to_numpy(model(indices[None], training=False))[0]
    stepper = LstmStepper.from_keras(model)
    state = stepper.initial_state(1)
    actual = np.stack([stepper.step(np.array([i]), state)[0] for i in indices])
    np.testing.assert_allclose(actual, expected, atol=1e-4)


def test_fast_path_matches_keras_in_every_layer(folk: MelodyGenerator) -> None:
    """Committed folk bundle (2 LSTM layers): every layer's state and the logits match Keras."""
    assert folk.bundle is not None
    model = folk.bundle.load_model()
    song = ["/", "67", "_", "_", "_", "72", "_", "71", "_", "69", "r", "67", "_", "_", "_", "64"]
    indices = folk.vocabulary.encode(song)
    lstm_names = [layer.name for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
    assert len(lstm_names) == len(folk.stepper.units) == 2
    probe = keras.Model(
        model.input, [model.get_layer(name).output for name in lstm_names] + [model.output]
    )
    *expected_hidden, expected_logits = (
        keras.ops.convert_to_numpy(out)[0] for out in probe(indices[None], training=False)
    )
    state = folk.stepper.initial_state(1)
    hidden: list[list[np.ndarray]] = [[] for _ in lstm_names]
    logits = []
    for index in indices:
        logits.append(folk.stepper.step(np.array([index]), state)[0])
        for layer, buffers in enumerate(state.layers):
            hidden[layer].append(buffers.hidden[0].copy())
    for layer, expected in enumerate(expected_hidden):
        np.testing.assert_allclose(np.stack(hidden[layer]), expected, atol=1e-5)
    np.testing.assert_allclose(np.stack(logits), expected_logits, atol=1e-4)


def test_draws_follow_the_tempered_softmax(tiny_training: StyleTrainingResult) -> None:
    """First symbols drawn by 4,096 seeds match softmax(logits / T) without the delimiter."""
    model = tiny_training.bundle.load_model()
    generator = load_generator_from_path(tiny_training.bundle.path)
    vocabulary = generator.vocabulary
    primer = ["67", "_", "69"]
    logits = keras.ops.convert_to_numpy(model(vocabulary.encode(["/", *primer])[None]))[0, -1]
    scores = logits.astype(np.float64) / 1.5
    scores[vocabulary.index[SONG_END]] = -np.inf  # min_steps=1: no delimiter at once
    expected = np.exp(scores - scores.max())
    expected /= expected.sum()
    drawn = [
        melody[len(primer)]
        for start in range(0, 4096, 1024)
        for melody in generator.sample(
            n=1024, steps=1, min_steps=1, temperature=1.5, seed=start, primer=primer
        )
    ]
    counts = np.bincount(vocabulary.encode(drawn), minlength=len(vocabulary))
    np.testing.assert_allclose(counts / counts.sum(), expected, atol=0.03)
    top3 = generator.sample(n=256, steps=1, min_steps=1, top_k=3, primer=primer)
    likeliest = {vocabulary.symbols[i] for i in np.argsort(-expected)[:3]}
    assert len({m[-1] for m in top3}) > 1 and {m[-1] for m in top3} <= likeliest


def test_same_seed_same_melody(generator: MelodyGenerator) -> None:
    """A random seed reproduces its melody; another seed gives another."""
    first = generator.sample(n=3, steps=64, temperature=1.0, seed=11)
    assert first == generator.sample(n=3, steps=64, temperature=1.0, seed=11)
    assert first != generator.sample(n=3, steps=64, temperature=1.0, seed=12)


def test_melody_depends_on_its_seed_only(generator: MelodyGenerator) -> None:
    """Sampled in a batch with others, a melody is the one it is alone."""
    alone = generator.sample(n=1, steps=48, seed=7, primer=["72", "_"])
    together = generator.sample(n=3, steps=48, seeds=[1, 7, 2], primers=[["60"], ["72", "_"], []])
    assert together[1] == alone[0]


def test_melody_alone_equals_it_in_a_batch_of_64(folk: MelodyGenerator) -> None:
    """Alone or at any row of 64 (other primers, rows ending early), a seed gives one melody."""
    primers = [["60", "_", "62", "_", "64"][: row % 6] for row in range(64)]
    controls: list[dict[str, Any]] = [{"temperature": 1.3}, {"top_k": 5}, {"top_p": 0.9}]
    for row, extra in zip((0, 31, 63), controls, strict=True):
        batch = folk.sample(n=64, steps=300, seeds=list(range(100, 164)), primers=primers, **extra)
        assert len({len(m) for m in batch}) > 20  # rows stopped at many different steps
        alone = folk.sample(n=1, steps=300, seed=100 + row, primer=primers[row], **extra)
        assert batch[row] == alone[0]


def test_sequences_are_always_possible(generator: MelodyGenerator) -> None:
    """No melody starts with a hold or contains the song delimiter; all decode."""
    for melody in generator.sample(n=64, steps=40, temperature=2.0, seed=0):
        assert melody and melody[0] != HOLD and SONG_END not in melody
        decode_symbols(melody)


def test_length_controls(generator: MelodyGenerator) -> None:
    """steps caps the new symbols; min_steps forbids ending earlier."""
    for melody in generator.sample(n=16, steps=30, seed=1, primer=["72", "_"]):
        assert 3 <= len(melody) <= 32 and melody[:2] == ["72", "_"]
    fixed = generator.sample(n=16, steps=50, min_steps=50, seed=1)
    assert {len(m) for m in fixed} == {50}


def test_top_k_one_is_greedy(generator: MelodyGenerator) -> None:
    """With top-k 1 (or a tiny nucleus) every seed gives the same, likeliest melody."""
    greedy = generator.sample(n=4, steps=32, min_steps=32, top_k=1, seed=0)
    assert all(m == greedy[0] for m in greedy)
    nucleus = generator.sample(n=4, steps=32, min_steps=32, top_p=1e-6, seed=99)
    assert nucleus == greedy


def test_low_temperature_is_more_predictable(generator: MelodyGenerator) -> None:
    """Cold sampling repeats the likeliest choices: fewer distinct melodies."""
    cold = generator.sample(n=16, steps=32, min_steps=32, temperature=0.05, seed=0)
    hot = generator.sample(n=16, steps=32, min_steps=32, temperature=2.0, seed=0)
    assert len({tuple(m) for m in cold}) < len({tuple(m) for m in hot})


def test_bad_controls_are_named(generator: MelodyGenerator) -> None:
    """Out-of-range controls and unknown primer pitches name the parameter."""
    with pytest.raises(InvalidParameter, match="temperature"):
        generator.sample(temperature=0)
    with pytest.raises(InvalidParameter, match="top_p"):
        generator.sample(top_p=0)
    with pytest.raises(InvalidParameter, match="seed='20'"):
        generator.sample(primer=["20"])


def test_compose_key_instrument_and_files(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """The requested key moves the melody; MIDI, audio and picture are written."""
    models_dir = tiny_training.bundle.path.parent.parent
    plain = MelodyRequest(style="tinyfolk", bars=4, random_seed=5, audio="none", image="none")
    in_d = plain.replace(key="D", instrument="flute", bpm=90, audio="mp3", image="pianoroll")
    (c_melody,) = compose(plain, tmp_path / "c", models_dir=models_dir)
    (d_melody,) = compose(in_d, tmp_path / "d", models_dir=models_dir)
    assert len(c_melody.symbols) == 64
    shifted = [str(int(s) + 2) if s.isdigit() else s for s in c_melody.symbols]
    assert d_melody.symbols == shifted
    assert d_melody.key == "D major" and d_melody.random_seed == 5
    assert d_melody.files.midi.exists() and d_melody.files.audio and d_melody.files.image
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(str(d_melody.files.midi))
    assert midi.instruments[0].program == 73  # flute
    assert round(midi.get_tempo_changes()[1][0]) == 90
