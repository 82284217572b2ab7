"""Choosing among candidates: a melody always has a note, even one bar long."""

from __future__ import annotations

from lstmuse_core.compose import resolve_request, sample_request
from lstmuse_core.model import generate
from lstmuse_core.model.generate import MelodyPlan, load_generator
from lstmuse_core.music.encoding import HOLD, REST, is_pitch
from lstmuse_core.music.meter import Meter, describe_length, pickup_steps
from lstmuse_core.request import MelodyRequest


def test_every_one_bar_folk_melody_has_a_note() -> None:
    """120 seeds of `style=folk bars=1` (91 of them had no note when the best-scored
    candidate was kept as it was): every melody has a note onset after its seed."""
    generator = load_generator("folk")
    for seed in range(120):
        request = resolve_request(MelodyRequest(style="folk", bars=1, random_seed=seed), generator)
        (melody,) = sample_request(generator, request)
        assert any(is_pitch(symbol) for symbol in melody.symbols), seed


def test_a_melody_of_rests_becomes_its_tonic_held_after_the_seed() -> None:
    """The last resort keeps the seed and holds the mode's tonic (nearest the middle of
    the vocabulary) from the first step after it to the end."""
    plan = MelodyPlan(meter=Meter.parse("4/4"), mode="dorian", seed=1, primer=(REST, REST))
    held = generate._tonic_held([REST] * 6, plan, [55, 60, 62, 74, 86])
    assert held == [REST, REST, "74", HOLD, HOLD, HOLD]  # D (dorian's tonic) in 55..86


def test_bars_are_counted_after_the_pickup_as_players_count_them() -> None:
    """`bars=8` without a seed: 8 whole bars after a pickup, or 8 bars from the first
    bar line when there is none (before, 152 of 200 folk replies were 7 bars and a
    pickup, the pickup's bar counted as bar 1)."""
    generator = load_generator("folk")
    openings = set()
    for seed in range(40):
        request = resolve_request(MelodyRequest(style="folk", bars=8, random_seed=seed), generator)
        (melody,) = sample_request(generator, request)
        bar = melody.meter.bar_steps
        pickup = pickup_steps(melody.symbols, melody.meter)
        if pickup:
            assert len(melody.symbols) == 9 * bar, seed  # the pickup's bar, then 8
            assert not any(map(is_pitch, melody.symbols[: bar - pickup])), seed
        else:
            assert len(melody.symbols) == 8 * bar and is_pitch(melody.symbols[0]), seed
        assert describe_length(len(melody.symbols), 0, melody.meter, pickup).startswith("8 bars")
        openings.add(bool(pickup))
    assert openings == {True, False}  # both kinds of opening were sampled and counted
