"""MGEval-style features and set comparison of melodies."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.melody_stats import FEATURES, compare_sets, feature_means, melody_features

C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]


def _scale_melodies(count: int, seed: int) -> list[list[str]]:
    """Stepwise C-major tunes of quarter and half notes."""
    rng = np.random.default_rng(seed)
    melodies = []
    for _ in range(count):
        degree = int(rng.integers(0, len(C_MAJOR)))
        symbols: list[str] = []
        for _ in range(int(rng.integers(12, 24))):
            degree = int(np.clip(degree + rng.choice([-1, 1]), 0, len(C_MAJOR) - 1))
            symbols += [str(C_MAJOR[degree])] + ["_"] * int(rng.choice([3, 7]))
        melodies.append(symbols)
    return melodies


def _random_melodies(count: int, seed: int) -> list[list[str]]:
    """Uniformly random pitches over four octaves and random lengths."""
    rng = np.random.default_rng(seed)
    melodies = []
    for _ in range(count):
        symbols: list[str] = []
        for _ in range(int(rng.integers(12, 24))):
            symbols += [str(int(rng.integers(40, 88)))] + ["_"] * int(rng.integers(0, 6))
        melodies.append(symbols)
    return melodies


def test_features_of_a_known_melody():
    """Pitch classes, range, count, intervals and note lengths of a short tune are exact."""
    features = melody_features(["60", "_", "62", "_", "64", "_", "_", "_", "r", "_", "67", "_"])
    assert set(features) == set(FEATURES)
    expected_classes = np.zeros(12)
    expected_classes[[0, 2, 4, 7]] = 0.25
    np.testing.assert_array_equal(features["pitch_class_histogram"], expected_classes)
    assert features["pitch_range"].tolist() == [7.0]
    assert features["pitch_count"].tolist() == [4.0]
    assert features["mean_abs_interval"].tolist() == pytest.approx([7 / 3])
    intervals = np.zeros(25)
    intervals[12 + 2], intervals[12 + 3] = 2 / 3, 1 / 3
    np.testing.assert_allclose(features["interval_histogram"], intervals)
    # Lengths 2, 2, 4, 2 steps (the rest is not a note): bins "2" and "4".
    np.testing.assert_allclose(features["note_length_histogram"], [0, 0.75, 0, 0.25, 0, 0, 0, 0, 0])


def test_long_notes_and_wide_leaps_land_in_the_last_bins():
    """A note over a whole note and a leap over an octave go to the open-ended bins."""
    features = melody_features(["48"] + ["_"] * 19 + ["72", "_", "50"])
    assert features["note_length_histogram"][-1] == pytest.approx(1 / 3)
    assert features["interval_histogram"][-1] == pytest.approx(0.5)
    assert features["interval_histogram"][0] == pytest.approx(0.5)


def test_a_melody_without_notes_has_zero_features():
    """Only rests: every feature is zero, nothing is divided by zero."""
    features = melody_features(["r", "_", "_", "r"])
    for values in features.values():
        assert np.all(values == 0)


def test_identical_sets_overlap_fully():
    """A set compared with itself gives overlap near 1 and divergence near 0."""
    melodies = _scale_melodies(60, seed=1)
    result = compare_sets(melodies, melodies, seed=0)
    assert set(result) == set(FEATURES)
    for name, stats in result.items():
        assert stats["overlap_area"] > 0.9, name
        assert stats["kl_divergence"] < 0.05, name
        assert stats["generated_mean"] == pytest.approx(stats["reference_mean"]), name


def test_random_pitches_differ_clearly_from_scale_melodies():
    """Random-pitch melodies against scale melodies overlap much less than scale against scale."""
    reference = _scale_melodies(80, seed=2)
    similar = compare_sets(_scale_melodies(40, seed=3), reference, seed=0)
    different = compare_sets(_random_melodies(40, seed=4), reference, seed=0)
    for name in ("pitch_range", "pitch_count", "mean_abs_interval", "interval_histogram"):
        assert similar[name]["overlap_area"] > 0.7, name
        assert different[name]["overlap_area"] < 0.3, name
        assert different[name]["kl_divergence"] > 10 * similar[name]["kl_divergence"], name


def test_comparison_is_deterministic_and_json_ready():
    """The same seed gives the same numbers; another seed samples other pairs."""
    generated, reference = _scale_melodies(30, seed=5), _random_melodies(40, seed=6)
    first = compare_sets(generated, reference, seed=7, max_pairs=200)
    again = compare_sets(generated, reference, seed=7, max_pairs=200)
    other = compare_sets(generated, reference, seed=8, max_pairs=200)
    assert json.dumps(first) == json.dumps(again)
    assert first != other
    json.loads(json.dumps(first, allow_nan=False))


def test_feature_means_average_each_feature():
    """feature_means averages per-melody features over the set."""
    means = feature_means([["60", "_", "67"], ["60", "_", "72"]])
    assert means["pitch_range"] == [9.5]
    assert means["pitch_count"] == [2.0]


def test_invalid_sets_are_rejected():
    """Fewer than two melodies, or a song delimiter inside one, raise InvalidParameter."""
    melodies = _scale_melodies(3, seed=9)
    with pytest.raises(InvalidParameter, match="generated"):
        compare_sets(melodies[:1], melodies)
    with pytest.raises(InvalidParameter, match="delimiter"):
        compare_sets([*melodies, ["60", "/", "62"]], melodies)
