"""Sampling: every control does what it says (the NumPy network itself: test_stepper)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
from tests_support import keras_inputs

from lstmuse_core.compose import compose
from lstmuse_core.errors import InvalidParameter
from lstmuse_core.model.generate import (
    MelodyGenerator,
    SamplingControls,
    load_generator_from_path,
)
from lstmuse_core.model.train import StyleTrainingResult
from lstmuse_core.music.encoding import HOLD, SONG_END, decode_symbols
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.musicality import ends_on_tonic
from lstmuse_core.request import MelodyRequest


@pytest.fixture(scope="module")
def generator(tiny_training: StyleTrainingResult) -> MelodyGenerator:
    return load_generator_from_path(tiny_training.bundle.path)


def first_meter_and_mode(generator: MelodyGenerator) -> tuple[Meter, str]:
    return next(iter(generator.conditioning.meters)), next(iter(generator.conditioning.modes))


def test_draws_follow_the_tempered_softmax(tiny_training: StyleTrainingResult) -> None:
    """First symbols drawn by 4,096 seeds match softmax(logits / T) without the delimiter."""
    model = tiny_training.bundle.load_model()
    generator = load_generator_from_path(tiny_training.bundle.path)
    vocabulary = generator.vocabulary
    meter, mode = first_meter_and_mode(generator)
    primer = ["67", "_", "69"]
    inputs = keras_inputs(generator, primer, meter, mode, known=False)
    logits = keras.ops.convert_to_numpy(model(inputs))[0, len(primer)]
    scores = logits.astype(np.float64) / 1.5
    scores[vocabulary.index[SONG_END]] = -np.inf  # mid-bar: no delimiter
    expected = np.exp(scores - scores.max())
    expected /= expected.sum()

    def first_symbols(count: int, seed: int, **controls: Any) -> list[str]:
        plans = [
            generator.plan(s, meter=meter, mode=mode, primer=primer, max_steps=len(primer) + 1)
            for s in range(seed, seed + count)
        ]
        melodies = generator.sample_plans(plans, SamplingControls(**controls))
        return [m.symbols[len(primer)] for m in melodies]

    drawn = [
        s for start in range(0, 4096, 1024) for s in first_symbols(1024, start, temperature=1.5)
    ]
    counts = np.bincount(vocabulary.encode(drawn), minlength=len(vocabulary))
    np.testing.assert_allclose(counts / counts.sum(), expected, atol=0.03)
    top3 = set(first_symbols(256, 0, top_k=3))
    likeliest = {vocabulary.symbols[i] for i in np.argsort(-expected)[:3]}
    assert len(top3) > 1 and top3 <= likeliest


def test_same_seed_same_melody(generator: MelodyGenerator) -> None:
    """A random seed reproduces its melody, meter and mode; another seed gives another."""
    first = generator.sample(n=3, seed=11)
    assert first == generator.sample(n=3, seed=11)
    assert first != generator.sample(n=3, seed=12)


def test_meter_and_mode_are_drawn_from_the_style(generator: MelodyGenerator) -> None:
    """Unasked, meters and modes follow the style's songs; asked, they are kept."""
    drawn = generator.sample(n=200, bars=1, seed=0)
    known = generator.conditioning
    meters = {m.meter for m in drawn}
    assert meters <= set(known.meters) and len(meters) > 1
    commonest = max(known.meters, key=lambda m: known.meters[m])
    assert max(meters, key=lambda m: sum(d.meter == m for d in drawn)) == commonest
    meter, mode = list(known.meters)[-1], list(known.modes)[-1]
    asked = generator.sample(n=8, bars=2, seed=0, meter=meter, mode=mode)
    assert {(m.meter, m.mode) for m in asked} == {(meter, mode)}
    with pytest.raises(InvalidParameter, match=r"meter='5/4'.*knows"):
        generator.sample(meter=Meter(5, 4))


def test_melody_depends_on_its_seed_only(generator: MelodyGenerator) -> None:
    """Sampled in a batch with others, a melody is the one it is alone."""
    alone = generator.sample(n=1, seed=7, primer=["72", "_"])
    together = generator.sample(n=3, seeds=[1, 7, 2], primers=[["60"], ["72", "_"], []])
    assert together[1] == alone[0]


def test_melody_alone_equals_it_in_a_batch_of_64(generator: MelodyGenerator) -> None:
    """Alone or at any row of 64 (other primers, meters, rows ending early), a seed gives one
    melody."""
    primers = [["60", "_", "62", "_", "64"][: row % 6] for row in range(64)]
    controls: list[dict[str, Any]] = [{"temperature": 1.3}, {"top_k": 5}, {"top_p": 0.9}]
    for row, extra in zip((0, 31, 63), controls, strict=True):
        batch = generator.sample(
            n=64, seeds=list(range(100, 164)), primers=primers, max_steps=160, **extra
        )
        assert len({len(m.symbols) for m in batch}) > 1  # rows stopped at different steps
        alone = generator.sample(n=1, seed=100 + row, primer=primers[row], max_steps=160, **extra)
        assert batch[row] == alone[0]


def test_sequences_are_always_possible(generator: MelodyGenerator) -> None:
    """No melody starts with a hold or contains the song delimiter; all decode."""
    for melody in generator.sample(n=64, temperature=2.0, seed=0):
        assert melody.symbols[0] != HOLD and SONG_END not in melody.symbols
        decode_symbols(melody.symbols)


def test_lengths_are_whole_bars(generator: MelodyGenerator) -> None:
    """bars=N is exactly N bars after the seed's bars; free melodies end at a bar line after
    at least 4 bars and never pass the cap; the seed is kept."""
    primer = ["72", "_"]
    for melody in generator.sample(n=16, bars=3, seed=1, primer=primer):
        bar = melody.meter.bar_steps
        assert len(melody.symbols) == 4 * bar and melody.symbols[:2] == primer
    for melody in generator.sample(n=32, seed=1, temperature=1.5, max_steps=160):
        bar = melody.meter.bar_steps
        assert len(melody.symbols) % bar == 0
        assert 4 * bar <= len(melody.symbols) <= max(160 // bar, 4) * bar


def test_fixed_length_melodies_end_on_the_tonic_more_with_candidates(
    generator: MelodyGenerator,
) -> None:
    """Keeping the best-ending of 4 candidates ends more melodies on the tonic than 1 does.

    With a seed bar, every candidate counts its bars as asked (no pickup to plan), so
    the choice is by the ending alone."""

    def tonic_endings(candidates: int) -> int:
        plans = [generator.plan(s, bars=4, primer=["72", "_", "_", "_"]) for s in range(64)]
        melodies = generator.sample_plans(plans, SamplingControls(1.0), candidates)
        return sum(ends_on_tonic(m.symbols, m.meter, m.mode) for m in melodies)

    assert tonic_endings(4) > tonic_endings(1)


def test_top_k_one_is_greedy(generator: MelodyGenerator) -> None:
    """With top-k 1 (or a tiny nucleus) every seed gives the same, likeliest melody."""
    meter, mode = first_meter_and_mode(generator)
    greedy = generator.sample(n=4, bars=2, top_k=1, seed=0, meter=meter, mode=mode)
    assert all(m == greedy[0] for m in greedy)
    nucleus = generator.sample(n=4, bars=2, top_p=1e-6, seed=99, meter=meter, mode=mode)
    assert nucleus == greedy


def test_low_temperature_is_more_predictable(generator: MelodyGenerator) -> None:
    """Cold sampling repeats the likeliest choices: fewer distinct melodies."""
    meter, mode = first_meter_and_mode(generator)
    cold = generator.sample(n=16, bars=2, temperature=0.05, seed=0, meter=meter, mode=mode)
    hot = generator.sample(n=16, bars=2, temperature=2.0, seed=0, meter=meter, mode=mode)
    assert len({tuple(m.symbols) for m in cold}) < len({tuple(m.symbols) for m in hot})


def test_bad_controls_are_named(generator: MelodyGenerator) -> None:
    """Out-of-range controls and unknown primer pitches name the parameter."""
    with pytest.raises(InvalidParameter, match="temperature"):
        generator.sample(temperature=0)
    with pytest.raises(InvalidParameter, match="top_p"):
        generator.sample(top_p=0)
    with pytest.raises(InvalidParameter, match="seed='20'"):
        generator.sample(primer=["20"])
    with pytest.raises(InvalidParameter, match="mode='locrian'"):
        generator.sample(mode="locrian")
    with pytest.raises(InvalidParameter, match=r"triplet_bias=5.*-3 to 3"):
        SamplingControls(triplet_bias=5.0)


def test_compose_key_instrument_and_files(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """The requested key moves the melody; MIDI, audio and picture are written."""
    models_dir = tiny_training.bundle.path.parent.parent
    plain = MelodyRequest(
        style="tinyfolk",
        bars=4,
        random_seed=5,
        audio="none",
        image="none",
        meter=Meter(4, 4),
        mode="major",
    )
    in_d = plain.replace(key="D", instrument="flute", bpm=90, audio="mp3", image="pianoroll")
    (c_melody,) = compose(plain, tmp_path / "c", models_dir=models_dir)
    (d_melody,) = compose(in_d, tmp_path / "d", models_dir=models_dir)
    assert len(c_melody.symbols) == 64 and c_melody.key == "C major"
    # Two semitones up (the flute's register may move it by whole octaves too).
    assert [(int(s) + 2) % 12 if s.isdigit() else s for s in c_melody.symbols] == [
        int(s) % 12 if s.isdigit() else s for s in d_melody.symbols
    ]
    assert d_melody.key == "D major" and d_melody.random_seed == 5
    assert d_melody.files.midi.exists() and d_melody.files.audio and d_melody.files.image
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(str(d_melody.files.midi))
    assert midi.instruments[0].program == 73  # flute
    assert round(midi.get_tempo_changes()[1][0]) == 90
