"""Variants: songs that share a passage of whole bars are one group, kept in one split.

Folk collections hold several versions of a tune (13 of 100 folk test songs and 18
of 100 irish ones shared at least 4 bars, note for note, with a training song).
Two songs are variants when some `VARIANT_BARS` consecutive whole bars of one
(starting on any bar line) equal the same number of bars of the other, in the
key-normalised encoding (both in C's scale) and the same bar length. Each such
window is kept as a 64-bit hash, not as its symbols: a few MB for a whole style,
where Python sets of every window's tuple took 24 GB. Groups are the connected
songs (union-find), so a chain of variants stays together too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from lstmuse_core.music.encoding import HOLD, REST
from lstmuse_core.music.meter import bar_lines

if TYPE_CHECKING:
    from lstmuse_core.music.corpus import Song

VARIANT_BARS = 4
# A window of fewer onsets, or of a single pitch, is too plain to show kinship (four
# bars of one held note, or of rest, are in many unrelated songs).
MIN_WINDOW_ONSETS = 6


def window_hashes(
    symbols: Sequence[str], bar_steps: int, bars: int = VARIANT_BARS, lengths: Sequence[int] = ()
) -> set[int]:
    """64-bit hashes of every ``bars``-bar window starting on a bar line (skipping plain ones).

    ``lengths``: each bar's length for a song whose bars change length (`Song.bars`); a
    window is equal only to one with the same bar lengths.
    """
    lines = [*bar_lines(len(symbols), bar_steps, lengths), len(symbols)]
    found: set[int] = set()
    for first in range(len(lines) - bars):
        start, stop = lines[first], lines[first + bars]
        window = symbols[start:stop]
        pitches = [s for s in window if s not in (HOLD, REST)]
        if len(pitches) < MIN_WINDOW_ONSETS or len(set(pitches)) < 2:
            continue
        sizes = [lines[k + 1] - lines[k] for k in range(first, first + bars)]
        shape = str(sizes[0]) if len(set(sizes)) == 1 else ",".join(map(str, sizes))
        text = f"{shape}|{' '.join(window)}".encode()
        found.add(int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big"))
    return found


def variant_groups(songs: Iterable[Song], bars: int = VARIANT_BARS) -> list[list[str]]:
    """Song ids grouped by shared windows; every song is in exactly one group.

    Groups are sorted by their first id and hold their ids sorted.
    """
    parent: dict[str, str] = {}

    def root(song_id: str) -> str:
        while parent[song_id] != song_id:
            parent[song_id] = parent[parent[song_id]]
            song_id = parent[song_id]
        return song_id

    owner: dict[int, str] = {}
    for song in songs:
        parent.setdefault(song.song_id, song.song_id)
        for digest in window_hashes(song.symbols, song.meter.bar_steps, bars, song.bars):
            other = owner.setdefault(digest, song.song_id)
            if other != song.song_id:
                a, b = root(other), root(song.song_id)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[str, list[str]] = {}
    for song_id in parent:
        groups.setdefault(root(song_id), []).append(song_id)
    return sorted((sorted(ids) for ids in groups.values()), key=lambda ids: ids[0])
