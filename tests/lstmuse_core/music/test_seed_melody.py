"""Seed melodies as people type them."""

from __future__ import annotations

import pytest

from lstmuse_core.errors import SeedMelodyError
from lstmuse_core.music.seed_melody import parse_seed_melody


def test_symbols_pass_through() -> None:
    """Symbol seeds are read as they are; separators may be commas and bar lines."""
    assert parse_seed_melody("60 _ _ 62, r _ | 64") == ["60", "_", "_", "62", "r", "_", "64"]


def test_note_names_with_lengths() -> None:
    """Note names: default octave 4, lengths in quarter notes, rests, accidentals."""
    assert parse_seed_melody("C4 d e:2 r:0.5 F#4:1/4 Bb3:1.5") == (
        ["60", "_", "_", "_", "62", "_", "_", "_", "64"]
        + ["_"] * 7
        + ["r", "_", "66", "58", "_", "_", "_", "_", "_"]
    )


def test_leading_zeros_however_many() -> None:
    """Zeros before a pitch or an octave change nothing, even past Python's int digit limit."""
    assert parse_seed_melody("0" * 5000 + "60 _") == ["60", "_"]
    assert parse_seed_melody("C-" + "0" * 5000 + "1") == ["0", "_", "_", "_"]


def test_empty_seed() -> None:
    """No seed is an empty melody."""
    assert parse_seed_melody("   ") == []


@pytest.mark.parametrize(
    ("text", "token", "position"),
    [
        ("60 _ 62 x", "x", 4),
        ("_ 60", "_", 1),
        ("60 200", "200", 2),
        ("C4 D4 H4", "H4", 3),
        ("C4 D4:1/3", "D4:1/3", 2),
        ("C4 G12", "G12", 2),
        ("C4 E4:0", "E4:0", 2),
        ("60 " + "1" * 5000, "1" * 5000, 2),  # past Python's int digit limit
        ("C4 C" + "1" * 5000, "C" + "1" * 5000, 2),
    ],
)
def test_errors_name_token_and_position(text: str, token: str, position: int) -> None:
    """A bad token is named with its 1-based position."""
    with pytest.raises(SeedMelodyError) as error:
        parse_seed_melody(text)
    assert error.value.token == token
    assert error.value.position == position
    assert f"token {position}" in str(error.value)
    assert error.value.parameter == "seed"
