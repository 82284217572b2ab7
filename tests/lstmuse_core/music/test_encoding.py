"""The time-series encoding and the vocabulary."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.encoding import (
    NoteEvent,
    Vocabulary,
    decode_symbols,
    encode_notes,
    transpose_symbols,
)

events = st.lists(
    st.tuples(st.one_of(st.none(), st.integers(0, 127)), st.integers(1, 32)),
    min_size=1,
    max_size=40,
)


def _consecutive(spec: list[tuple[int | None, int]]) -> list[NoteEvent]:
    notes, start = [], 0
    for pitch, duration in spec:
        notes.append(NoteEvent(pitch, start, duration))
        start += duration
    return notes


@given(events)
def test_encode_decode_round_trip(spec: list[tuple[int | None, int]]) -> None:
    """Decoding encoded notes gives exactly the same notes and rests back."""
    notes = _consecutive(spec)
    symbols = encode_notes(notes)
    assert len(symbols) == sum(d for _, d in spec)
    assert decode_symbols(symbols) == notes


def test_known_melody_encoding() -> None:
    """A quarter C, an eighth rest and a dotted eighth E, in 16th steps."""
    notes = [NoteEvent(60, 0, 4), NoteEvent(None, 4, 2), NoteEvent(64, 6, 3)]
    assert encode_notes(notes) == ["60", "_", "_", "_", "r", "_", "64", "_", "_"]


def test_gap_becomes_rest() -> None:
    """A gap between notes is encoded as a rest."""
    assert encode_notes([NoteEvent(60, 0, 1), NoteEvent(62, 3, 1)]) == ["60", "r", "_", "62"]


@pytest.mark.parametrize(
    ("symbols", "fragment"),
    [(["_", "60"], "start with a hold"), (["60", "/", "62"], "delimiter"), (["60", "x"], "x")],
)
def test_impossible_sequences_rejected(symbols: list[str], fragment: str) -> None:
    """A hold with nothing to hold, a delimiter inside, unknown symbols: named errors."""
    with pytest.raises(InvalidParameter) as error:
        decode_symbols(symbols)
    assert fragment in str(error.value)


def test_unicode_digits_are_not_pitches() -> None:
    """A superscript digit is not mistaken for a MIDI pitch."""
    with pytest.raises(InvalidParameter):
        decode_symbols(["²"])


def test_vocabulary_order_is_stable() -> None:
    """Index order: delimiter, hold, rest, then pitches numerically (not set order)."""
    a = Vocabulary.from_songs([["64", "_", "60", "r", "100"], ["9"]])
    b = Vocabulary.from_songs([["9"], ["100", "60", "64"]])
    assert a.symbols == b.symbols == ("/", "_", "r", "9", "60", "64", "100")
    assert a.decode(a.encode(["60", "_", "r"])) == ["60", "_", "r"]


def test_vocabulary_save_load(tmp_path) -> None:
    """A saved vocabulary loads with the same order; unknown symbols are named."""
    vocabulary = Vocabulary.from_songs([["62", "_", "60"]])
    vocabulary.save(tmp_path / "vocab.json")
    assert Vocabulary.load(tmp_path / "vocab.json") == vocabulary
    with pytest.raises(KeyError, match="'61'"):
        vocabulary.encode(["61"])


def test_transpose_symbols() -> None:
    """Only pitches move."""
    assert transpose_symbols(["60", "_", "r", "62"], 2) == ["62", "_", "r", "64"]
