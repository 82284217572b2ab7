"""One melody value: symbols, meter and key, checked once (lstmuse_core.music.melody)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pretty_midi
import pytest

from lstmuse_core.compose import render_composed
from lstmuse_core.errors import InvalidParameter
from lstmuse_core.model.generate import SampledMelody
from lstmuse_core.music import melody as melody_module
from lstmuse_core.music.keys import Key
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.meter import Meter
from lstmuse_core.request import MelodyRequest

TUNE = ("60", "_", "64", "_", "r", "67", "_", "_")


@pytest.mark.parametrize(
    ("symbols", "fragment"),
    [
        (["_", "60"], "cannot start with a hold"),
        (["60", "/", "62"], "song delimiter"),
        (["60", "128"], "MIDI pitches 0-127"),
        (["60", "-1"], "MIDI pitches 0-127"),
        (["C4"], "MIDI pitches 0-127"),
        (["\u0666\u0660"], "MIDI pitches 0-127"),  # Arabic-Indic "60" is no pitch
        ([60, "_"], "symbols are strings"),
    ],
)
def test_bad_symbols_are_refused_by_name(symbols: list[Any], fragment: str) -> None:
    """A malformed melody raises InvalidParameter('melody') saying what is wrong."""
    with pytest.raises(InvalidParameter) as raised:
        Melody(symbols)
    assert raised.value.parameter == "melody"
    assert fragment in str(raised.value)


@pytest.mark.parametrize("meter", ["5/5", "0/4", "17/8", "4/1", "three four", "4/4/4"])
def test_bad_meter_is_refused_by_name(meter: str) -> None:
    """A meter that is not 1-16 beats of 2, 4, 8 or 16 raises InvalidParameter('meter')."""
    with pytest.raises(InvalidParameter) as raised:
        Melody(TUNE, meter)
    assert raised.value.parameter == "meter"


def test_unknown_key_is_refused_by_name() -> None:
    """A key name that is no key raises InvalidParameter('key')."""
    with pytest.raises(InvalidParameter) as raised:
        Melody(TUNE, key="H minor")
    assert raised.value.parameter == "key"


def test_symbols_are_checked_once_not_on_every_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """Making a Melody validates its symbols once; decoding its notes does not validate again."""
    calls: list[int] = []
    original = melody_module.validate_melody

    def counting(symbols: Any, parameter: str = "melody") -> None:
        calls.append(len(symbols))
        original(symbols, parameter)

    monkeypatch.setattr(melody_module, "validate_melody", counting)
    monkeypatch.setattr("lstmuse_core.music.encoding.validate_melody", counting)
    melody = Melody(list(TUNE), "3/4")
    assert calls == [len(TUNE)]
    assert [n.pitch for n in melody.notes] == [60, 64, None, 67]
    assert (melody.meter, melody.meter.bar_steps, melody.pitches) == (
        Meter(3, 4),
        12,
        [60, 64, 67],
    )
    assert calls == [len(TUNE)]


def test_melody_is_a_normalised_value() -> None:
    """Symbols become a tuple and the meter a Meter; equal melodies are equal and hashable."""
    melody = Melody(list(TUNE), " 6 / 8 ", "d")
    assert melody.symbols == TUNE and melody.meter == Meter(6, 8)
    assert melody == Melody(TUNE, Meter(6, 8), "D")
    assert melody.key == Key("D", "major")
    assert melody == Melody(TUNE, "6/8", Key("D", "major"))
    assert len({melody, Melody(TUNE, "6/8", "D")}) == 1
    assert melody.text == "60 _ 64 _ r 67 _ _" and len(melody) == 8


@pytest.mark.parametrize(
    ("key", "first_pitch", "name"),
    [
        (None, 60, "C major / A minor"),
        ("D", 62, "D major"),
        ("Bm", 62, "B minor"),
        ("F#", 66, "F# major"),
        ("E minor", 55, "E minor"),
        ("Am", 60, "A minor"),
    ],
)
def test_a_melody_from_the_model_knows_the_requested_key(
    key: str | None, first_pitch: int, name: str
) -> None:
    """from_model moves the model's C major / A minor into the key, which the melody keeps."""
    melody = Melody.from_model(TUNE, "3/4", key)
    assert melody.pitches[0] == first_pitch
    assert melody.key_name == name
    assert melody.in_key(None) == Melody(TUNE, "3/4")


def test_transposed_moves_the_key_and_stays_within_midi() -> None:
    """transposed shifts pitches and key alike; a shift past 0-127 names 'transpose'."""
    assert Melody(TUNE, key="D").transposed(2).key_name == "E major"
    assert Melody(TUNE, key="Am").transposed(1).key_name == "Bb minor"
    assert Melody(TUNE).transposed(3).key_name == "Eb major"
    assert Melody(TUNE, key="D").transposed(-12).key_name == "D major"
    assert Melody(TUNE).transposed(-60).pitches == [0, 4, 7]
    for shift in (61, -61):
        with pytest.raises(InvalidParameter) as raised:
            Melody(TUNE).transposed(shift)
        assert raised.value.parameter == "transpose"
        assert "60-67" in str(raised.value)


def test_composed_melodies_carry_the_requested_key_and_meter(tmp_path: Path) -> None:
    """render_composed makes each melody a Melody in the request's key and its meter."""
    request = MelodyRequest(
        key="D", bpm=90, audio="none", image="none", random_seed=7, temperature=0.8
    )
    generator: Any = SimpleNamespace(style="folk", version="v1")  # what render_composed reads
    sampled = [SampledMelody(list(TUNE), Meter(3, 4), "major")]
    (composed,) = render_composed(request, sampled, generator, tmp_path, "t")
    assert composed.melody == Melody.from_model(TUNE, "3/4", "D")
    assert composed.symbols[0] == "62" and composed.key == "D major"
    data = composed.to_json()
    assert (data["symbols"], data["steps"], data["key"], data["meter"]) == (
        "62 _ 66 _ r 69 _ _",
        8,
        "D major",
        "3/4",
    )
    midi = pretty_midi.PrettyMIDI(str(composed.files.midi))
    signature = midi.time_signature_changes[0]
    assert (signature.numerator, signature.denominator) == (3, 4)
    assert [n.pitch for n in midi.instruments[0].notes] == [62, 66, 69]
