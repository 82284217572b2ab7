"""An interpolated modified Kneser-Ney n-gram model over melody symbols.

The baseline an LSTM has to beat on held-out songs. It sees songs exactly as
the LSTM does: input ``["/"] + song``, targets ``song + ["/"]``, so every
symbol of a song and the closing ``"/"`` are predicted, the first one from
the context ``("/",)``. Contexts never cross songs: the ``"/"`` that opens a
song is the oldest symbol any context can hold, like ``<s>`` in a sentence.

Smoothing follows Chen & Goodman (1998), as KenLM implements it:

* the highest order uses raw counts; every lower order uses continuation
  counts (how many distinct symbols precede the n-gram), except n-grams
  that start with the song-opening ``"/"``, which nothing can precede and
  which keep their raw counts;
* each order has three discounts D1, D2, D3+ from its count-of-counts
  n1..n4: ``Y = n1 / (n1 + 2 n2)``, ``Dk = k - (k + 1) Y n(k+1) / nk``;
  when a count-of-count is zero (toy corpora) KenLM's fallback
  (0.5, 1.0, 1.5) is used, and each Dk is clipped to [0.05, k] so every
  seen context keeps some mass for what it has not seen;
* every order interpolates with the next lower one, and the unigrams with a
  uniform distribution over the training vocabulary plus ONE unknown slot.
  A symbol never seen in training (a pitch outside the training range, say)
  therefore gets a small probability instead of a crash, and the
  distribution over ``symbols + (unknown)`` sums to exactly 1.

All n-grams are stored as integer ids in sorted NumPy arrays (an n-gram's
key is its prefix's id times the alphabet size plus its last symbol), so
fitting and scoring are vectorised; the only Python loop maps symbols to
codes. Order 9 on the erk training split (212k symbols) fits in ~0.2 s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.encoding import SONG_END, SPECIAL_SYMBOLS, is_pitch, symbol_sort_key

DEFAULT_ORDER = 9
MAX_ORDER = 32
# KenLM's --discount_fallback values, used when count-of-counts are missing.
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)
MIN_DISCOUNT = 0.05


@dataclass(frozen=True)
class NGramScore:
    """Cross-entropy of a model on some songs: bits per predicted symbol, and per note.

    ``bits_per_note`` is the bits of every target (holds, rests and ``"/"``
    included) over the notes (pitch onsets); ``pitch_bits_per_note`` the mean
    -log2 p(the onset's pitch | a note starts there), the model's distribution
    renormalised over the pitches it knows and the unknown slot (as
    `lstmuse_core.model.evaluate.score_model` defines both for the LSTM).
    """

    bits_per_symbol: float
    targets: int
    unknown_targets: int
    order: int
    notes: int = 0
    bits_per_note: float = float("nan")
    pitch_bits_per_note: float = float("nan")


@dataclass
class _OrderTable:
    """Everything order k needs: its n-grams and the statistics of their contexts."""

    keys: np.ndarray  # sorted keys of the k-grams: prefix id * alphabet + last symbol
    counts: np.ndarray  # raw or continuation count of each k-gram (float64)
    discounted: np.ndarray  # max(count - D(count), 0) of each k-gram
    context_total: np.ndarray  # per (k-1)-gram id: sum of its k-grams' counts
    context_backoff: np.ndarray  # per (k-1)-gram id: interpolation weight gamma
    discounts: tuple[float, float, float]


class NGramModel:
    """Interpolated modified Kneser-Ney language model over melody symbols.

    ``order`` counts the predicted symbol: a 9-gram conditions on up to 8
    previous symbols, enough to see the 4- and 8-step metrical periods (a
    quarter and a half note in 16th-note steps). After `fit`, ``symbols`` holds the
    training vocabulary (``"/"`` included) in `Vocabulary` order;
    ``last_unknown`` is how many targets of the last `score` /
    `bits_per_symbol` call were not in it.
    """

    def __init__(self, order: int = DEFAULT_ORDER) -> None:
        whole = isinstance(order, int | np.integer) and not isinstance(order, bool)
        if not whole or not 1 <= order <= MAX_ORDER:
            raise InvalidParameter("order", order, f"use a whole number from 1 to {MAX_ORDER}")
        self.order = int(order)
        self.symbols: tuple[str, ...] = ()
        self.last_unknown = 0
        self._index: dict[str, int] = {}
        self._tables: list[_OrderTable] = []

    def __repr__(self) -> str:
        return f"NGramModel(order={self.order}, symbols={len(self.symbols)})"

    # ----------------------------------------------------------------- fitting

    def fit(self, songs: Sequence[Sequence[str]]) -> NGramModel:
        """Count the n-grams of ``songs`` (lists of symbols without ``"/"``)."""
        _check_songs(songs)
        if not songs:
            raise InvalidParameter("songs", "[]", "fit needs at least one song")
        seen = {SONG_END}
        for song in songs:
            seen.update(song)
        self.symbols = tuple(sorted(seen, key=_symbol_order))
        self._index = {symbol: i for i, symbol in enumerate(self.symbols)}
        stream, history, is_target = self._encode(songs)
        alphabet = self._alphabet
        keys_by_order: list[np.ndarray] = []
        counts_by_order: list[np.ndarray] = []
        # ids[t]: id of the (k-1)-gram ending at position t (-1: it would cross a song start).
        ids = np.zeros(len(stream), dtype=np.int64)
        # How many song symbols precede the first occurrence of each (k-1)-gram.
        lower_history = np.zeros(0, dtype=np.int64)
        for k in range(1, self.order + 1):
            positions = np.flatnonzero(history >= k - 1)
            prefix = ids[positions - 1] if k > 1 else np.zeros(len(positions), np.int64)
            keys, first, inverse = np.unique(
                prefix * alphabet + stream[positions], return_index=True, return_inverse=True
            )
            raw = np.bincount(inverse[is_target[positions]], minlength=len(keys))
            keys_by_order.append(keys)
            counts_by_order.append(raw.astype(np.float64))
            if k > 1:
                # Continuation count of a (k-1)-gram: how many distinct k-grams end with it,
                # i.e. how many distinct symbols precede it. Song-opening n-grams (first
                # symbol the opening "/", nothing before it) keep their raw counts.
                suffix = ids[positions[first]]
                continuation = np.bincount(suffix, minlength=len(keys_by_order[-2]))
                lower = counts_by_order[-2]
                if k - 1 == 1:
                    lower[:] = continuation
                else:
                    opens_song = lower_history == k - 2
                    lower[:] = np.where(opens_song, lower, continuation)
            lower_history = history[positions[first]]
            ids = np.full(len(stream), -1, dtype=np.int64)
            ids[positions] = inverse
        contexts = 1
        self._tables = []
        for keys, counts in zip(keys_by_order, counts_by_order, strict=True):
            self._tables.append(_build_table(keys, counts, contexts, alphabet))
            contexts = len(keys)
        return self

    @property
    def discounts(self) -> list[tuple[float, float, float]]:
        """(D1, D2, D3+) of each order, unigrams first."""
        return [table.discounts for table in self._tables]

    @property
    def _alphabet(self) -> int:
        """Symbol codes: 0..len(symbols)-1 for training symbols, one more for unknown."""
        return len(self.symbols) + 1

    def _encode(self, songs: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Concatenate ``["/"] + song + ["/"]`` blocks as symbol codes.

        Returns the codes, how many symbols of its own song precede each
        position (0 at the opening "/"), and which positions are targets.
        """
        unknown = len(self.symbols)
        end = self._index[SONG_END]
        index = self._index
        lengths = np.fromiter((len(s) + 2 for s in songs), dtype=np.int64, count=len(songs))
        codes: list[int] = []
        for song in songs:
            codes.append(end)
            codes.extend([index.get(symbol, unknown) for symbol in song])
            codes.append(end)
        stream = np.asarray(codes, dtype=np.int64)
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        history = np.arange(len(stream), dtype=np.int64) - starts
        return stream, history, history > 0

    # ----------------------------------------------------------------- scoring

    def log2_probabilities(self, song: Sequence[str]) -> np.ndarray:
        """log2 p of each target of one song: ``len(song) + 1`` values, the last for ``"/"``."""
        _check_songs([song])
        log2p, _ = self._score([song])
        return log2p

    def score(self, songs: Sequence[Sequence[str]]) -> NGramScore:
        """Mean -log2 p over every target of ``songs``, with the count of unknown targets,
        and the same bits per note and pitch-only bits per note (`NGramScore`)."""
        _check_songs(songs)
        if not songs:
            raise InvalidParameter("songs", "[]", "give at least one song to score")
        log2p, unknown = self._score(songs)
        self.last_unknown = unknown
        pitch_log2p = self.pitch_log2_probabilities(songs)
        notes = int(pitch_log2p.size)
        return NGramScore(
            float(-log2p.mean()),
            int(log2p.size),
            unknown,
            self.order,
            notes,
            float(-log2p.sum() / notes) if notes else math.nan,
            float(-pitch_log2p.mean()) if notes else math.nan,
        )

    def pitch_log2_probabilities(self, songs: Sequence[Sequence[str]]) -> np.ndarray:
        """log2 p(pitch | a note starts here) at every note onset of ``songs``, in order.

        The model's distribution at the onset, renormalised over the pitches of
        its vocabulary and the unknown slot (which stands for any pitch it never
        saw, so an unseen pitch is scored too).
        """
        _check_songs(songs)
        if not self._tables:
            raise RuntimeError("fit the model before scoring")
        stream, history, is_target = self._encode(songs)
        targets = np.flatnonzero(is_target)
        # Targets are each song's symbols then its closing "/", in stream order.
        onset = np.fromiter(
            (is_pitch(symbol) for song in songs for symbol in (*song, SONG_END)),
            dtype=bool,
            count=len(targets),
        )
        positions = targets[onset]
        pitch_codes = [code for code, symbol in enumerate(self.symbols) if is_pitch(symbol)]
        candidates = np.asarray([*pitch_codes, len(self.symbols)], dtype=np.int64)
        query = np.concatenate(
            [stream[positions][:, None], np.tile(candidates, (len(positions), 1))], 1
        )
        probability = self._probabilities(stream, history, positions, query)
        return np.log2(probability[:, 0] / probability[:, 1:].sum(1))

    def bits_per_symbol(self, songs: Sequence[Sequence[str]]) -> float:
        """Cross-entropy in bits per target; sets ``last_unknown`` to the unknown targets."""
        return self.score(songs).bits_per_symbol

    def next_symbol_probabilities(self, history: Sequence[str]) -> np.ndarray:
        """p(next | "/" + history) for each of ``symbols`` then the unknown slot (sums to 1)."""
        return self.next_symbol_distributions([history])[0]

    def next_symbol_distributions(self, histories: Sequence[Sequence[str]]) -> np.ndarray:
        """`next_symbol_probabilities` of each history at once: one row each.

        Only the last ``order - 1`` symbols are a context, so a longer history is cut to
        them (its opening "/" is then beyond every context, as it was): each row costs
        the same however long the melody has grown (`baseline_melodies` samples with it).
        """
        _check_songs(histories)
        if not self._tables:
            raise RuntimeError("fit the model before scoring")
        reach = self.order - 1
        recent = [h[len(h) - reach :] if len(h) > reach else h for h in histories]
        # Each history then a placeholder target (its code is replaced by every symbol's).
        stream, history, _ = self._encode([[*h, SONG_END] for h in recent])
        lengths = np.fromiter((len(h) + 3 for h in recent), dtype=np.int64, count=len(recent))
        targets = np.cumsum(lengths) - 2
        every_symbol = np.broadcast_to(np.arange(self._alphabet), (len(recent), self._alphabet))
        return self._probabilities(stream, history, targets, every_symbol)

    def _score(self, songs: Sequence[Sequence[str]]) -> tuple[np.ndarray, int]:
        """log2 p of every target of ``songs`` (concatenated) and how many were unknown."""
        if not self._tables:
            raise RuntimeError("fit the model before scoring")
        stream, history, is_target = self._encode(songs)
        targets = np.flatnonzero(is_target)
        symbol = stream[targets]
        probability = self._probabilities(stream, history, targets, symbol[:, None])[:, 0]
        unknown = int(np.count_nonzero(symbol == len(self.symbols)))
        return np.log2(probability), unknown

    def _probabilities(
        self, stream: np.ndarray, history: np.ndarray, targets: np.ndarray, query: np.ndarray
    ) -> np.ndarray:
        """p(query[i, j] | the context before stream position targets[i]): shape of ``query``."""
        alphabet = self._alphabet
        symbol = query
        probability = np.full(query.shape, 1.0 / alphabet)
        # context[i]: id of the (k-1)-gram before target i, -1 if unseen/crossing a song.
        context = np.zeros((len(targets), 1), dtype=np.int64)
        # ids[t]: id in the order-(k-1) table of the n-gram ending at position t.
        ids = np.zeros(len(stream), dtype=np.int64)
        for k, table in enumerate(self._tables, start=1):
            if k > 1:
                # -1 where the context would cross the song start
                context = ids[targets - 1][:, None]
            total = np.where(context >= 0, table.context_total[np.maximum(context, 0)], 0.0)
            found, ngram = _lookup(table.keys, context, symbol, alphabet)
            seen = total > 0
            discounted = np.where(found, table.discounted[ngram], 0.0)
            gamma = table.context_backoff[np.maximum(context, 0)]
            interpolated = (discounted + gamma * total * probability) / np.where(seen, total, 1)
            probability = np.where(seen, interpolated, probability)
            if k < self.order:
                # Ids of the k-grams ending at every position: contexts of order k + 1.
                positions = np.flatnonzero(history >= k - 1)
                prefix = ids[positions - 1] if k > 1 else np.zeros(len(positions), np.int64)
                found_here, index = _lookup(table.keys, prefix, stream[positions], alphabet)
                ids = np.full(len(stream), -1, dtype=np.int64)
                ids[positions] = np.where(found_here, index, -1)
        return probability


def _lookup(
    keys: np.ndarray, prefix: np.ndarray, symbol: np.ndarray, alphabet: int
) -> tuple[np.ndarray, np.ndarray]:
    """Find (prefix, symbol) n-grams in a sorted key array: (found mask, index)."""
    query = prefix * alphabet + symbol
    index = np.searchsorted(keys, query)
    index = np.minimum(index, len(keys) - 1)
    found = (prefix >= 0) & (keys[index] == query)
    return found, index


def _discounts(counts: np.ndarray) -> tuple[float, float, float]:
    """Chen & Goodman's D1, D2, D3+ from the count-of-counts n1..n4."""
    rounded = np.rint(counts).astype(np.int64)
    n1, n2, n3, n4 = (int(np.count_nonzero(rounded == c)) for c in (1, 2, 3, 4))
    if min(n1, n2, n3, n4) == 0:
        raw = FALLBACK_DISCOUNTS
    else:
        y = n1 / (n1 + 2 * n2)
        raw = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
    d1, d2, d3 = (float(np.clip(d, MIN_DISCOUNT, k)) for k, d in enumerate(raw, start=1))
    return d1, d2, d3


def _build_table(keys: np.ndarray, counts: np.ndarray, contexts: int, alphabet: int) -> _OrderTable:
    d1, d2, d3 = _discounts(counts)
    discount = np.select([counts >= 3, counts == 2, counts == 1], [d3, d2, d1], 0.0)
    discount = np.minimum(discount, counts)
    context_ids = keys // alphabet
    total = np.bincount(context_ids, weights=counts, minlength=contexts)
    removed = np.bincount(context_ids, weights=discount, minlength=contexts)
    gamma = np.divide(removed, total, out=np.zeros_like(total), where=total > 0)
    return _OrderTable(keys, counts, counts - discount, total, gamma, (d1, d2, d3))


def _symbol_order(symbol: str) -> tuple[int, int, str]:
    """`Vocabulary` order (delimiter, hold, rest, pitches upwards), other symbols last."""
    if symbol in SPECIAL_SYMBOLS or is_pitch(symbol):
        group, number = symbol_sort_key(symbol)
        return group, number, ""
    return 2, 0, symbol


def _check_songs(songs: Sequence[Sequence[str]]) -> None:
    for number, song in enumerate(songs, start=1):
        if isinstance(song, str):
            raise InvalidParameter("songs", song[:20], "give each song as a list of symbols")
        if SONG_END in song:
            raise InvalidParameter(
                "songs",
                SONG_END,
                "the song delimiter '/' cannot appear inside a song",
                hint=f"song {number}; the model adds it around every song itself",
            )
