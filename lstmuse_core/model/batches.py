"""Whole songs as training batches, with every input the network reads.

Each song is one sequence read from a fresh LSTM state: inputs for
``len(song) + 1`` steps (`lstmuse_core.model.conditioning.song_inputs`),
target ``song + ["/"]``. Songs are sorted by length and grouped into batches
padded to a multiple of ``pad_multiple`` steps (few distinct shapes, little
padding); padding has weight 0 so the loss is exactly the mean over real
symbols.

The ``remaining`` and ``part`` inputs come twice: with the length (and form)
known and unknown; `Batch.with_lengths_known` picks per song, so the training
loop can draw anew each epoch which songs are told their length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstmuse_core.model.conditioning import (
    PART_NONE,
    REMAINING_UNKNOWN,
    Conditioning,
    form_inputs,
    song_inputs,
)
from lstmuse_core.music.meter import Meter


@dataclass(frozen=True)
class TrainingSong:
    """A song as the network sees it: symbol indices, its meter, mode and sections
    (`lstmuse_core.music.corpus.Section`: its form), and its bars where they change
    length (`lstmuse_core.music.corpus.Song.bars`)."""

    indices: np.ndarray
    meter: Meter
    mode: str
    sections: tuple[Any, ...] = ()
    bars: tuple[int, ...] = ()


@dataclass(frozen=True)
class Batch:
    inputs: dict[str, np.ndarray]  # (batch, steps) int32 each; length and form as if unknown
    targets: np.ndarray  # (batch, steps) int32
    weights: np.ndarray  # (batch, steps) float32, 0 on padding
    known: dict[str, np.ndarray]  # ``remaining`` and ``part`` (those read) with lengths known

    def with_lengths_known(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """The inputs with the length told to the songs of ``rows`` (bool per song)."""
        told = {
            name: np.where(rows[:, None], values, self.inputs[name]).astype(np.int32)
            for name, values in self.known.items()
        }
        return {**self.inputs, **told}


def song_batches(
    songs: Sequence[TrainingSong],
    conditioning: Conditioning,
    batch_size: int,
    pad_multiple: int,
    delimiter: int,
) -> list[Batch]:
    """Length-sorted, padded batches of whole songs (see the module docstring)."""
    order = sorted(range(len(songs)), key=lambda i: (len(songs[i].indices), i))
    names = conditioning.inputs
    batches = []
    for first in range(0, len(order), batch_size):
        members = [songs[i] for i in order[first : first + batch_size]]
        longest = max(len(s.indices) for s in members) + 1
        steps = -(-longest // pad_multiple) * pad_multiple
        inputs = {name: np.zeros((len(members), steps), dtype=np.int32) for name in names}
        told = [name for name in ("remaining", "part") if name in names]
        unknown = {"remaining": REMAINING_UNKNOWN, "part": PART_NONE}
        known: dict[str, np.ndarray] = {
            n: np.full((len(members), steps), unknown[n], dtype=np.int32) for n in told
        }
        targets = np.full((len(members), steps), delimiter, dtype=np.int32)
        weights = np.zeros((len(members), steps), dtype=np.float32)
        for row, song in enumerate(members):
            length = len(song.indices) + 1
            bar_steps = song.meter.bar_steps
            features = song_inputs(
                song.indices,
                bar_steps=bar_steps,
                meter_id=conditioning.meter_id(song.meter),
                mode_id=conditioning.mode_id(song.mode),
                delimiter=delimiter,
                length_known=False,
                bars=song.bars,
                bar_meter_ids=conditioning.bar_meter_ids(song.meter, song.bars),
            )
            for name in names:
                inputs[name][row, :length] = features[name]
            if told:
                remaining, part = form_inputs(
                    song.sections, len(song.indices), bar_steps, song.bars
                )
                for name, values in zip(("remaining", "part"), (remaining, part), strict=True):
                    if name in known:
                        known[name][row, :length] = values
            targets[row, : length - 1] = song.indices
            weights[row, :length] = 1.0
        batches.append(Batch(inputs, targets, weights, known))
    return batches
