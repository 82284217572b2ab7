"""Registers: melodies move by octaves to where their instrument plays at ease (music.register)."""

from __future__ import annotations

import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.encoding import melody_pitches
from lstmuse_core.music.keys import Key
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.midi import resolve_instrument
from lstmuse_core.music.register import (
    COMFORTABLE_RANGES,
    in_register,
    octaves_into,
    register_shift,
    seed_for_model,
)


def _symbols(text: str) -> list[str]:
    """Model symbols written as one space-separated string."""
    return text.split()


# A folk tune as the model sings it (C major), from G3 up to E5.
FOLK_TUNE = _symbols("55 _ 60 _ 64 _ 67 _ 72 _ _ _ 76 _ 72 _ 67 _ 64 _ 60 _ _ _")
FLUTE, PIANO, TUBA, BAGPIPE = (resolve_instrument(n) for n in ("flute", "piano", "tuba", "bagpipe"))


def test_a_g_major_folk_tune_on_flute_stays_at_or_above_middle_c() -> None:
    """G major moves the tune down to D3; on a flute it sounds an octave up, from D4, still in G."""
    in_g = Melody.from_model(FOLK_TUNE, "4/4", Key("G"))
    assert min(in_g.pitches) == 50  # D3: below the flute's C4
    on_flute = in_register(in_g, FLUTE)
    assert min(on_flute.pitches) >= 60
    assert on_flute.pitches == [p + 12 for p in in_g.pitches]
    assert on_flute.key == Key("G") and on_flute.meter == Meter(4, 4)


def test_the_octave_option_moves_on_top_of_the_register() -> None:
    """octave=1 on flute: one octave above the flute's register; on piano: one above the model's."""
    in_g = Melody.from_model(FOLK_TUNE, "4/4", Key("G"))
    assert in_register(in_g, FLUTE, octave=1).pitches == [p + 24 for p in in_g.pitches]
    assert in_register(in_g, PIANO, octave=-1).pitches == [p - 12 for p in in_g.pitches]
    assert in_register(in_g, PIANO) == in_g  # a piano plays it where it is


def test_too_high_moves_down_but_never_below_the_lowest_note() -> None:
    """A tuba takes the tune two octaves down; a bagpipe's narrow chanter keeps its bottom note."""
    assert register_shift(55, 76, TUBA) == -24  # 31-52: within E1-Bb3
    # G3-E5 is wider than the chanter's G4-A5: up to G4, the top stays too high.
    assert register_shift(55, 76, BAGPIPE) == 12


@pytest.mark.parametrize(
    ("low", "high", "lowest", "highest", "shift"),
    [
        (50, 71, 60, 96, 12),  # below: up one octave
        (40, 71, 60, 96, 24),  # far below: up two
        (60, 96, 60, 96, 0),  # exactly the range
        (80, 100, 48, 88, -12),  # above: down one
        (50, 100, 48, 88, 0),  # too wide and no room below: stays
        (72, 84, 48, 79, -12),  # a seed an octave over a model's pitches
    ],
)
def test_octaves_into(low: int, high: int, lowest: int, highest: int, shift: int) -> None:
    """Whole octaves up to the lowest note, or down as far as the bottom allows."""
    assert octaves_into(low, high, lowest, highest) == shift


def test_an_octave_that_leaves_midi_is_refused_by_name() -> None:
    """octave=2 on a piccolo would go past MIDI 127: InvalidParameter naming octave and the span."""
    up_to_e6 = Melody([*FOLK_TUNE, "88"])  # a piccolo plays it from G5 to E7, two octaves up
    assert max(in_register(up_to_e6, resolve_instrument("piccolo"), octave=1).pitches) == 124
    with pytest.raises(InvalidParameter, match="within MIDI pitches 0-127") as refused:
        in_register(up_to_e6, resolve_instrument("piccolo"), octave=2)
    assert refused.value.parameter == "octave"
    assert "Piccolo" in refused.value.hint


def test_the_register_alone_never_leaves_midi() -> None:
    """A melody spanning nearly all of MIDI on a piccolo moves only as far as 0-127 allows."""
    shift = register_shift(10, 120, resolve_instrument("piccolo"))
    assert 10 + shift >= 0 and 120 + shift <= 127


def test_a_seed_moves_into_the_pitches_the_model_knows() -> None:
    """A seed an octave above the model's 48-79 comes down an octave; one that fits stays."""
    model_pitches = list(range(48, 80))
    high_seed = ["72", "_", "76", "r", "84", "_"]
    assert melody_pitches(seed_for_model(high_seed, model_pitches)) == [60, 64, 72]
    assert seed_for_model(FOLK_TUNE, model_pitches) == FOLK_TUNE
    assert seed_for_model(["r", "_"], model_pitches) == ["r", "_"]


def test_the_ranges_are_playable_and_named_instruments_have_one() -> None:
    """Each range spans an octave or more of MIDI pitches; the usual melody instruments have one."""
    for program, (lowest, highest) in COMFORTABLE_RANGES.items():
        assert 0 <= program <= 127 and lowest >= 0 and highest <= 127
        assert highest - lowest >= 12, program
    for name in ("flute", "violin", "recorder", "piccolo", "oboe", "trumpet", "tin whistle"):
        assert resolve_instrument(name) in COMFORTABLE_RANGES, name
    assert COMFORTABLE_RANGES[FLUTE][0] == 60  # C4
