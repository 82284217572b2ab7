"""Sampling: the NumPy fast path agrees with Keras; every control does what it says."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from lstmuse_core.compose import compose
from lstmuse_core.encoding import HOLD, SONG_END, decode_symbols
from lstmuse_core.errors import InvalidParameter
from lstmuse_core.generate import LstmStepper, MelodyGenerator, load_generator_from_path
from lstmuse_core.request import MelodyRequest
from lstmuse_core.train import StyleTrainingResult


@pytest.fixture(scope="module")
def generator(tiny_training: StyleTrainingResult) -> MelodyGenerator:
    return load_generator_from_path(tiny_training.bundle.path)


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
