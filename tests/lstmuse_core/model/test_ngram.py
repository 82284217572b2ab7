"""The Kneser-Ney n-gram baseline: normalised, per song, robust to unseen symbols."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict

import numpy as np
import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.model.ngram import NGramModel


def _random_songs(count: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    alphabet = ["60", "62", "64", "67", "_", "_", "_", "r"]
    songs = []
    for _ in range(count):
        song = [rng.choice(["60", "62", "64", "67", "r"])]
        song += [rng.choice(alphabet) for _ in range(rng.randint(0, 30))]
        songs.append(song)
    return songs


def _reference_discounts(counts: list[float]) -> tuple[float, ...]:
    """Chen & Goodman's D1, D2, D3+ with KenLM's fallback, clipped to [0.05, k]."""
    n = [sum(1 for c in counts if c == k) for k in range(5)]
    if min(n[1:]) == 0:
        raw = (0.5, 1.0, 1.5)
    else:
        y = n[1] / (n[1] + 2 * n[2])
        raw = tuple(k - (k + 1) * y * n[k + 1] / n[k] for k in (1, 2, 3))
    return tuple(min(max(d, 0.05), k) for k, d in enumerate(raw, start=1))


def _reference_log2_probabilities(
    train: list[list[str]], test: list[list[str]], order: int
) -> list[float]:
    """Modified Kneser-Ney written out with dicts, straight from the formulas."""
    raw: list[Counter[tuple[str, ...]]] = [Counter() for _ in range(order + 1)]
    for song in train:
        tokens = ["/", *song, "/"]
        for t in range(1, len(tokens)):
            for k in range(1, min(order, t + 1) + 1):
                raw[k][tuple(tokens[t - k + 1 : t + 1])] += 1
    used: list[dict[tuple[str, ...], float]] = [{} for _ in range(order + 1)]
    used[order] = {g: float(c) for g, c in raw[order].items()}
    for k in range(1, order):
        preceded = Counter(g[1:] for g in raw[k + 1])
        for g, c in raw[k].items():
            used[k][g] = float(c) if k >= 2 and g[0] == "/" else float(preceded[g])
    discounts = [(0.0,)] + [
        _reference_discounts(list(used[k].values())) for k in range(1, order + 1)
    ]
    totals: list[dict[tuple[str, ...], list[float]]] = [
        defaultdict(lambda: [0.0, 0.0]) for _ in range(order + 1)
    ]
    for k in range(1, order + 1):
        for g, c in used[k].items():
            totals[k][g[:-1]][0] += c
            totals[k][g[:-1]][1] += min(c, discounts[k][min(int(c), 3) - 1])
    vocabulary = {s for song in train for s in song} | {"/"}

    def probability(symbol: str, context: tuple[str, ...]) -> float:
        k = len(context) + 1
        lower = 1 / (len(vocabulary) + 1) if k == 1 else probability(symbol, context[1:])
        total, removed = totals[k].get(context, (0.0, 0.0))
        if total == 0:
            return lower
        count = used[k].get((*context, symbol), 0.0)
        kept = count - min(count, discounts[k][min(int(count), 3) - 1]) if count else 0.0
        return (kept + removed * lower) / total

    result = []
    for song in test:
        tokens = ["/", *song, "/"]
        for t in range(1, len(tokens)):
            context = tuple(tokens[max(0, t - order + 1) : t])
            result.append(math.log2(probability(tokens[t], context)))
    return result


def test_matches_a_dict_based_reference_implementation():
    """Vectorised probabilities equal the textbook formulas, orders 1 to 4, unknowns included."""
    train = _random_songs(40, seed=1)
    test = [*_random_songs(5, seed=2), ["99", "60", "_", "61"], []]
    for order in (1, 2, 3, 4):
        model = NGramModel(order).fit(train)
        ours = np.concatenate([model.log2_probabilities(song) for song in test])
        np.testing.assert_allclose(
            ours, _reference_log2_probabilities(train, test, order), rtol=0, atol=1e-12
        )


def test_next_symbol_probabilities_sum_to_one():
    """The distribution over the training vocabulary plus the unknown slot sums to 1."""
    model = NGramModel(4).fit(_random_songs(50, seed=3))
    for history in ([], ["60"], ["60", "_", "62"], ["64", "_", "_", "_", "r"], ["99", "_"]):
        probabilities = model.next_symbol_probabilities(history)
        assert probabilities.shape == (len(model.symbols) + 1,)
        assert probabilities.min() > 0
        assert probabilities.sum() == pytest.approx(1.0, abs=1e-12)


def test_higher_order_beats_unigram_on_a_periodic_corpus():
    """A 5-gram learns a 4-step pattern the unigram model cannot see."""
    pattern = ["60", "_", "64", "_", "67", "_", "_", "_"]
    train = [pattern * repeats for repeats in range(2, 12)]
    test = [pattern * 5, pattern * 7]
    unigram = NGramModel(1).fit(train).bits_per_symbol(test)
    five_gram = NGramModel(5).fit(train).bits_per_symbol(test)
    assert unigram > 1.5
    assert five_gram < 0.3 * unigram


def test_unseen_symbols_are_counted_not_fatal():
    """Symbols missing from training get a small probability and are counted."""
    model = NGramModel(3).fit([["60", "_", "62", "_"], ["62", "_", "60", "_"]])
    score = model.score([["60", "_", "99", "_"], ["101", "60"]])
    assert score.unknown_targets == 2
    assert model.last_unknown == 2
    assert score.targets == 4 + 1 + 2 + 1
    assert math.isfinite(score.bits_per_symbol)
    log2p = model.log2_probabilities(["60", "_", "99", "_"])
    assert log2p[2] < log2p[0]
    assert model.bits_per_symbol([["60", "_"]]) > 0
    assert model.last_unknown == 0


def test_contexts_do_not_cross_songs():
    """Song order changes nothing, and a song's opening is predicted from '/' alone."""
    first, second = ["60", "_", "62", "_", "64"], ["67", "_", "65", "_", "64"]
    test = [["67", "_", "62"], ["60", "_", "65", "_", "64"]]
    forward = NGramModel(4).fit([first, second] * 3)
    backward = NGramModel(4).fit([second, first] * 3)
    for song in test:
        np.testing.assert_allclose(
            forward.log2_probabilities(song), backward.log2_probabilities(song), rtol=0, atol=1e-12
        )
    # Scoring songs together is the same as scoring them one by one.
    together = forward.score(test)
    apart = np.concatenate([forward.log2_probabilities(song) for song in test])
    assert together.bits_per_symbol == pytest.approx(-apart.mean(), abs=1e-12)
    # "64" then "67" never follows "64" inside a song, only across the song boundary.
    opening = forward.next_symbol_probabilities([])
    after_64 = forward.next_symbol_probabilities(["60", "_", "62", "_", "64"])
    symbol = forward.symbols.index("67")
    assert opening[symbol] > 0.3
    assert after_64[symbol] < 0.05


def test_every_symbol_and_the_song_end_are_targets():
    """log2 probabilities have one entry per symbol plus the closing '/'."""
    model = NGramModel(3).fit([["60", "_", "r", "62"], ["62", "_"]])
    log2p = model.log2_probabilities(["60", "_", "r"])
    assert log2p.shape == (4,)
    assert np.all(log2p < 0)
    assert model.bits_per_symbol([["60", "_", "r"]]) == pytest.approx(-log2p.mean())
    assert model.symbols[:3] == ("/", "_", "r")


def test_invalid_input_is_rejected():
    """A '/' inside a song, an order out of range and scoring before fit raise."""
    with pytest.raises(InvalidParameter, match="order"):
        NGramModel(0)
    with pytest.raises(InvalidParameter, match="delimiter"):
        NGramModel(3).fit([["60", "/", "62"]])
    with pytest.raises(RuntimeError, match="fit"):
        NGramModel(3).bits_per_symbol([["60"]])


@pytest.mark.slow
def test_nine_gram_on_the_folk_corpus(folk_dataset):
    """On the erk test split a 9-gram beats a 5-gram and reaches about 1.25 bits/symbol."""
    train, test = folk_dataset.melodies("train"), folk_dataset.melodies("test")
    nine = NGramModel(9).fit(train).score(test)
    five = NGramModel(5).fit(train).bits_per_symbol(test)
    assert nine.bits_per_symbol < five
    assert 1.0 < nine.bits_per_symbol < 1.35


def test_next_symbol_distributions_are_the_scored_probabilities_at_every_step():
    """Each history's row is p(next | history) as scoring the whole song gives it, for
    histories longer than the order (cut to the context) and shorter (the song's start)."""
    songs = _random_songs(60, seed=5)
    model = NGramModel(5).fit(songs[:50])
    song = songs[55] + songs[56]
    rows = model.next_symbol_distributions([song[:t] for t in range(len(song) + 1)])
    # The song, then the "/" that closes it; a symbol not in training is the unknown slot.
    targets = [model.symbols.index(s) if s in model.symbols else -1 for s in [*song, "/"]]
    scored = np.log2(rows[np.arange(len(targets)), targets])
    np.testing.assert_allclose(scored, model.log2_probabilities(song), rtol=0, atol=1e-12)
    assert rows.shape == (len(song) + 1, len(model.symbols) + 1)
    np.testing.assert_allclose(rows.sum(axis=1), 1.0, atol=1e-12)
