"""Whole songs as training batches.

Each song is one sequence read from a fresh LSTM state: input ``["/"] + song``,
target ``song + ["/"]``. Songs are sorted by length and grouped into batches
padded to a multiple of ``pad_multiple`` steps (few distinct shapes, little
padding); padding has weight 0 so the loss is exactly the mean over real
symbols.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Batch:
    inputs: np.ndarray  # (batch, steps) int32 symbol indices
    targets: np.ndarray  # (batch, steps) int32
    weights: np.ndarray  # (batch, steps) float32, 0 on padding


def song_batches(
    songs: Sequence[np.ndarray], batch_size: int, pad_multiple: int, delimiter: int
) -> list[Batch]:
    """Length-sorted, padded batches of whole songs (see the module docstring)."""
    order = sorted(range(len(songs)), key=lambda i: (len(songs[i]), i))
    batches = []
    for first in range(0, len(order), batch_size):
        members = [songs[i] for i in order[first : first + batch_size]]
        longest = max(len(s) for s in members) + 1
        steps = -(-longest // pad_multiple) * pad_multiple
        inputs = np.full((len(members), steps), delimiter, dtype=np.int32)
        targets = np.full((len(members), steps), delimiter, dtype=np.int32)
        weights = np.zeros((len(members), steps), dtype=np.float32)
        for row, song in enumerate(members):
            inputs[row, 1 : len(song) + 1] = song
            targets[row, : len(song)] = song
            weights[row, : len(song) + 1] = 1.0
        batches.append(Batch(inputs, targets, weights))
    return batches
