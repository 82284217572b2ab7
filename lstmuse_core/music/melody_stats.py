"""Statistics of generated melodies against a reference (training) set.

After Yang & Lerch (2018), "On the evaluation of generative models in
music" (MGEval). Each melody (symbols, one per 16th-note step) becomes a few
musical features; two sets of melodies are compared feature by feature
through distances between melodies, not through the features themselves:

* intra-set distances: Euclidean distances between the feature vectors of
  pairs of reference melodies (how much the reference varies in itself);
* inter-set distances: between a generated and a reference melody.

Both distance sets are smoothed into PDFs with a Gaussian kernel density
estimate (Scott's bandwidth ``std * n ** -0.2``, at least 1 % of the pooled
distance range so a set of equal distances still gives a PDF the grid can
resolve), evaluated on ONE grid of `GRID_POINTS` points spanning both sets
plus four bandwidths either side (by linear binning and convolution, exact
to the grid's resolution). Then, per feature:

* ``overlap_area`` = integral of min(p_intra, p_inter): 1 when generated
  melodies lie among the reference ones exactly as those lie among each
  other, towards 0 when they are far away;
* ``kl_divergence`` = KL(p_intra || p_inter) in nats, the integral of
  ``p log((p + eps) / (q + eps))`` with ``eps`` = `KL_EPSILON` so a grid
  point where the inter-set PDF vanishes cannot make it infinite; 0 for
  identical distributions.

Large sets are compared on a deterministic random sample of at most
``max_pairs`` pairs per distance set (seeded): 200 generated against 1,000
reference melodies take ~0.3 s, most of it decoding the melodies.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.encoding import decode_symbols

# Note lengths in 16th-note steps: bin i holds STARTS[i] <= length < STARTS[i + 1],
# the last bin everything from 17 steps (longer than a whole note) up.
# Bins: 16th, 8th, dotted 8th, quarter, 5-6 (dotted quarter), 7-8 (half),
# 9-12 (dotted half), 13-16 (whole), longer.
NOTE_LENGTH_BIN_STARTS = (1, 2, 3, 4, 5, 7, 9, 13, 17)
# Signed intervals between consecutive notes, clipped to an octave either way.
MAX_INTERVAL = 12

FEATURES = {
    "pitch_class_histogram": "share of the notes on each pitch class C..B (12 values)",
    "pitch_range": "highest minus lowest MIDI pitch, in semitones",
    "pitch_count": "number of distinct MIDI pitches",
    "mean_abs_interval": "mean absolute interval between consecutive notes, in semitones",
    "interval_histogram": "share of consecutive-note intervals from -12 to +12 semitones "
    "(larger leaps counted at +-12; 25 values)",
    "note_length_histogram": "share of the notes in each length bin of "
    "NOTE_LENGTH_BIN_STARTS (16th-note steps; rests excluded; 9 values)",
}

DEFAULT_MAX_PAIRS = 5000
GRID_POINTS = 2048
KL_EPSILON = 1e-10
# The bandwidth floor, as a share of the range of all distances of a feature.
MIN_BANDWIDTH_SHARE = 0.01


def melody_features(symbols: Sequence[str]) -> dict[str, np.ndarray]:
    """The `FEATURES` of one melody (symbols without ``"/"``), each a float64 array.

    Rests are not notes: they count in no histogram, but a note's length ends
    where the next rest starts. A melody without notes gets all zeros.
    """
    notes = [event for event in decode_symbols(symbols) if event.pitch is not None]
    pitches = np.array([event.pitch for event in notes], dtype=np.int64)
    lengths = np.array([event.duration for event in notes], dtype=np.int64)
    count = max(len(notes), 1)
    pitch_classes = np.bincount(pitches % 12, minlength=12) / count
    intervals = np.diff(pitches)
    clipped = np.clip(intervals, -MAX_INTERVAL, MAX_INTERVAL) + MAX_INTERVAL
    interval_histogram = np.bincount(clipped, minlength=2 * MAX_INTERVAL + 1) / max(
        len(intervals), 1
    )
    length_bins = np.searchsorted(NOTE_LENGTH_BIN_STARTS, lengths, side="right") - 1
    note_lengths = np.bincount(length_bins, minlength=len(NOTE_LENGTH_BIN_STARTS)) / count
    return {
        "pitch_class_histogram": pitch_classes.astype(np.float64),
        "pitch_range": np.array([np.ptp(pitches) if len(pitches) else 0], dtype=np.float64),
        "pitch_count": np.array([len(np.unique(pitches))], dtype=np.float64),
        "mean_abs_interval": np.array(
            [np.abs(intervals).mean() if len(intervals) else 0.0], dtype=np.float64
        ),
        "interval_histogram": interval_histogram.astype(np.float64),
        "note_length_histogram": note_lengths.astype(np.float64),
    }


def feature_means(melodies: Sequence[Sequence[str]]) -> dict[str, list[float]]:
    """Each feature averaged over a set of melodies (JSON-ready lists)."""
    if not melodies:
        raise InvalidParameter("melodies", "[]", "give at least one melody")
    matrices = _feature_matrices(melodies)
    return {name: [float(v) for v in matrix.mean(axis=0)] for name, matrix in matrices.items()}


def compare_sets(
    generated: Sequence[Sequence[str]],
    reference: Sequence[Sequence[str]],
    seed: int = 0,
    *,
    max_pairs: int = DEFAULT_MAX_PAIRS,
) -> dict[str, dict[str, float]]:
    """Compare generated melodies with reference (training) melodies, feature by feature.

    Returns, for each name in `FEATURES`:

    * ``overlap_area`` and ``kl_divergence`` of the reference intra-set
      distance PDF and the inter-set (generated vs reference) distance PDF
      (see the module docstring);
    * ``reference_mean`` and ``generated_mean``: the mean intra-set distance
      within each set (a generator that repeats itself has a much smaller
      ``generated_mean`` than ``reference_mean``);
    * ``inter_set_mean``: the mean generated-to-reference distance.

    Pairs are sampled with ``numpy.random.default_rng(seed)`` once there are
    more than ``max_pairs``; the same inputs and seed give the same numbers.
    """
    for parameter, melodies in (("generated", generated), ("reference", reference)):
        if len(melodies) < 2:
            raise InvalidParameter(
                parameter, f"{len(melodies)} melodies", "compare sets of at least 2 melodies each"
            )
    if max_pairs < 2:
        raise InvalidParameter("max_pairs", max_pairs, "use at least 2")
    rng = np.random.default_rng(seed)
    generated_features = _feature_matrices(generated)
    reference_features = _feature_matrices(reference)
    n_generated, n_reference = len(generated), len(reference)
    reference_pairs = _within_set_pairs(n_reference, max_pairs, rng)
    generated_pairs = _within_set_pairs(n_generated, max_pairs, rng)
    between_pairs = _between_set_pairs(n_generated, n_reference, max_pairs, rng)
    results: dict[str, dict[str, float]] = {}
    for name in FEATURES:
        ref, gen = reference_features[name], generated_features[name]
        intra_reference = _distances(ref, ref, reference_pairs)
        intra_generated = _distances(gen, gen, generated_pairs)
        inter = _distances(gen, ref, between_pairs)
        overlap, divergence = _overlap_and_divergence(intra_reference, inter)
        results[name] = {
            "overlap_area": overlap,
            "kl_divergence": divergence,
            "generated_mean": float(intra_generated.mean()),
            "reference_mean": float(intra_reference.mean()),
            "inter_set_mean": float(inter.mean()),
        }
    return results


def _feature_matrices(melodies: Sequence[Sequence[str]]) -> dict[str, np.ndarray]:
    """Feature name -> (melodies, values) matrix."""
    per_melody = [melody_features(melody) for melody in melodies]
    return {name: np.stack([features[name] for features in per_melody]) for name in FEATURES}


def _within_set_pairs(n: int, max_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """(pairs, 2) indices of distinct melodies of one set: all pairs, or a uniform sample."""
    if n * (n - 1) // 2 <= max_pairs:
        return np.stack(np.triu_indices(n, k=1), axis=1)
    first = rng.integers(0, n, max_pairs)
    second = rng.integers(0, n - 1, max_pairs)
    second += second >= first  # uniform over the other n - 1 melodies
    return np.stack([first, second], axis=1)


def _between_set_pairs(
    n_first: int, n_second: int, max_pairs: int, rng: np.random.Generator
) -> np.ndarray:
    """(pairs, 2) indices (first set, second set): all pairs, or a uniform sample."""
    if n_first * n_second <= max_pairs:
        first, second = np.meshgrid(np.arange(n_first), np.arange(n_second), indexing="ij")
        return np.stack([first.ravel(), second.ravel()], axis=1)
    return np.stack(
        [rng.integers(0, n_first, max_pairs), rng.integers(0, n_second, max_pairs)], axis=1
    )


def _distances(first: np.ndarray, second: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    return np.linalg.norm(first[pairs[:, 0]] - second[pairs[:, 1]], axis=1)


def _bandwidth(samples: np.ndarray, floor: float) -> float:
    """Scott's rule for one dimension, never below ``floor``."""
    scott = float(samples.std(ddof=1)) * len(samples) ** -0.2 if len(samples) > 1 else 0.0
    return max(scott, floor)


def _kde(samples: np.ndarray, bandwidth: float, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density of ``samples`` on the evenly spaced ``grid``.

    Samples are spread linearly onto their two nearest grid points, then
    convolved with the kernel cut at four bandwidths: the same density to
    within the grid's resolution, in O(grid) instead of O(samples x grid).
    """
    step = grid[1] - grid[0]
    position = (samples - grid[0]) / step
    left = np.clip(np.floor(position).astype(np.int64), 0, len(grid) - 2)
    right_share = np.clip(position - left, 0.0, 1.0)
    weights = np.bincount(left, weights=1.0 - right_share, minlength=len(grid))
    weights += np.bincount(left + 1, weights=right_share, minlength=len(grid))
    reach = min(int(np.ceil(4 * bandwidth / step)), (len(grid) - 1) // 2)
    offsets = np.arange(-reach, reach + 1) * step / bandwidth
    kernel = np.exp(-0.5 * offsets * offsets)
    density = np.convolve(weights, kernel, mode="same")
    return density / (len(samples) * bandwidth * np.sqrt(2 * np.pi))


def _overlap_and_divergence(intra: np.ndarray, inter: np.ndarray) -> tuple[float, float]:
    """Overlap area and KL(intra || inter) of the two distance PDFs on one common grid."""
    pooled = np.concatenate([intra, inter])
    spread = float(pooled.max() - pooled.min())
    floor = MIN_BANDWIDTH_SHARE * spread if spread > 0 else 1.0
    h_intra, h_inter = _bandwidth(intra, floor), _bandwidth(inter, floor)
    margin = 4 * max(h_intra, h_inter)
    grid = np.linspace(pooled.min() - margin, pooled.max() + margin, GRID_POINTS)
    p, q = _kde(intra, h_intra, grid), _kde(inter, h_inter, grid)
    # Renormalise on the grid so both integrate to exactly 1 (the tails cut off are tiny).
    p /= np.trapezoid(p, grid)
    q /= np.trapezoid(q, grid)
    overlap = float(np.trapezoid(np.minimum(p, q), grid))
    divergence = float(np.trapezoid(p * np.log((p + KL_EPSILON) / (q + KL_EPSILON)), grid))
    return min(max(overlap, 0.0), 1.0), max(divergence, 0.0)
