"""The n-gram's melodies, the baseline beside the network's musical figures."""

from __future__ import annotations

import random

from lstmuse_core.model.baseline_melodies import ngram_melodies
from lstmuse_core.model.ngram import NGramModel
from lstmuse_core.music.encoding import HOLD, SONG_END, TRIPLET, TRIPLET_STEPS, decode_symbols
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.musicality import ends_on_tonic

FOUR_FOUR, THREE_FOUR = Meter(4, 4), Meter(3, 4)


def _reels(count: int, seed: int) -> list[list[str]]:
    """4/4 bars of 8ths and quarters, a triplet group on some beats, ending on C or E."""
    rng = random.Random(seed)
    songs = []
    for _ in range(count):
        song: list[str] = []
        for _ in range(4 * rng.randint(2, 4)):  # beats
            kind = rng.random()
            if kind < 0.2:
                song += [TRIPLET, *(str(rng.choice((62, 64, 65))) for _ in range(3))]
            elif kind < 0.6:
                song += [str(rng.choice((60, 62, 64, 67))), HOLD] * 2
            else:
                song += [str(rng.choice((60, 64, 67, 69))), HOLD, HOLD, HOLD]
        song += [rng.choice(("60", "64")), HOLD, HOLD, HOLD] * 4  # a last bar held
        songs.append(song)
    return songs


def test_melodies_are_whole_bars_that_decode_with_every_triplet_inside_its_bar() -> None:
    """8 bars of each plan's meter; nothing held at the start, no song end inside, and a
    triplet group only where its 4 steps fit in the bar, never in another group's slots."""
    ngram = NGramModel().fit(_reels(60, seed=1))
    plans = [(FOUR_FOUR, "major"), (THREE_FOUR, "minor")] * 10
    melodies = ngram_melodies(ngram, plans, 8, temperature=1.0, candidates=3, seed=4)
    assert [(meter, mode) for _, meter, mode in melodies] == plans
    markers = 0
    for symbols, meter, _ in melodies:
        assert len(symbols) == 8 * meter.bar_steps
        assert symbols[0] != HOLD and SONG_END not in symbols
        decode_symbols(symbols)  # raises for a melody no song can have
        for step, symbol in enumerate(symbols):
            if symbol == TRIPLET:
                markers += 1
                assert step % meter.bar_steps + TRIPLET_STEPS <= meter.bar_steps
                assert TRIPLET not in symbols[step + 1 : step + TRIPLET_STEPS]
    assert markers > 20  # the corpus has them on a fifth of its beats


def test_the_choice_among_candidates_is_the_replies_choice() -> None:
    """Of 6 candidates the one ending on the tonic is kept, as the replies choose: more
    of the melodies end on C than with one candidate, from the same n-gram and seeds.
    The corpus is half notes of five pitches (every note on a strong beat): a fifth of
    single melodies end on C."""
    rng = random.Random(2)
    pitches = ("60", "62", "64", "65", "67")
    ngram = NGramModel().fit(
        [[x for _ in range(16) for x in (rng.choice(pitches), *[HOLD] * 7)] for _ in range(60)]
    )
    plans = [(FOUR_FOUR, "major")] * 40

    def tonic_endings(candidates: int) -> int:
        melodies = ngram_melodies(ngram, plans, 4, temperature=1.0, candidates=candidates)
        return sum(ends_on_tonic(symbols, meter, mode) for symbols, meter, mode in melodies)

    alone, chosen = tonic_endings(1), tonic_endings(6)
    assert alone < 16 and chosen > 24
