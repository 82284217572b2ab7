"""The songs a bundle was trained and tested on, read again by today's reader.

A bundle records its dataset (the corpus folder and file patterns it read, the
split seed and the id of every song in each split). Scoring it again must use
*its* test songs: the corpus it names is read as recorded (the folk bundle of
before issue 21 read the Chinese han books too, which today are their own style),
and songs are picked by id, so no song it trained on is ever scored. A reader
that changed since may read a recorded song differently (a new mode, its bars
laid out across repeats) or not keep it: `reading_report` says how many, against
the digests of the test songs as they were read for training
(``test_songs.json`` in the bundle, `TEST_SONGS_FILE`), where the bundle has them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lstmuse_core.errors import CorpusError
from lstmuse_core.model.bundle import TEST_SONGS_FILE

if TYPE_CHECKING:
    from lstmuse_core.model.bundle import Bundle
    from lstmuse_core.music.corpus import Song
    from lstmuse_core.music.dataset import Dataset

MUSIC21_SOURCE = "music21 corpus: "


def song_digest(song: Song) -> str:
    """A short digest of how a song reads: its symbols, meter, mode and pickup."""
    text = json.dumps([song.symbols, song.meter.text, song.mode, song.pickup])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def recorded_dataset(bundle: Bundle, cache_dir: Path | None = None) -> Dataset | None:
    """The bundle's corpus as it recorded it (folder and patterns), read today; None if absent."""
    from lstmuse_core.music.corpus import STYLES, ReadOptions, Style
    from lstmuse_core.music.dataset import build_dataset

    info = bundle.config_json.get("dataset", {})
    name = str(info.get("name", bundle.style))
    source = str(info.get("source", ""))
    seed = int(info.get("split_seed", 0))
    known = STYLES.get(name)
    try:
        if source.startswith(MUSIC21_SOURCE):
            folder, _, patterns = source[len(MUSIC21_SOURCE) :].partition("/")
            style = Style(
                name,
                known.description if known else name,
                folder,
                tuple(patterns.split(",")),
                part=known.part if known else None,
                pentatonic=bool(info.get("pentatonic", False)),
            )
            options = ReadOptions(
                off_grid=info.get("off_grid", "drop"),
                part=style.part,
                pentatonic=style.pentatonic,
            )
            return build_dataset(style, options=options, split_seed=seed, cache_dir=cache_dir)
        if Path(source).is_dir():
            return build_dataset(
                input_dir=Path(source), name=name, split_seed=seed, cache_dir=cache_dir
            )
    except CorpusError:
        return None
    return None


def trained_split(bundle: Bundle, cache_dir: Path | None = None) -> dict[str, list[Song]] | None:
    """The songs of each split the bundle was trained on (its recorded ids), read today."""
    dataset = recorded_dataset(bundle, cache_dir)
    if dataset is None:
        return None
    recorded: dict[str, list[str]] = bundle.config_json.get("dataset", {}).get("split_ids") or (
        dataset.split
    )
    by_id = {song.song_id: song for song in dataset.songs}
    return {
        part: [by_id[song_id] for song_id in ids if song_id in by_id]
        for part, ids in recorded.items()
    }


@dataclass(frozen=True)
class ReadingReport:
    """How the bundle's recorded test songs read today."""

    recorded: int  # test songs the bundle recorded
    found: int  # read and kept today
    same: int | None  # of those, read exactly as for training (None: no digests kept)
    not_kept: dict[str, int]  # recorded songs today's reader drops, by reason

    @property
    def different(self) -> int | None:
        return None if self.same is None else self.found - self.same

    def describe(self) -> str:
        parts = [f"{self.found} of the {self.recorded} recorded test songs read today"]
        if self.same is not None:
            parts.append(f"{self.same} as for training, {self.different} differently")
        if self.not_kept:
            parts.append(
                "not kept now: " + ", ".join(f"{n} {r}" for r, n in sorted(self.not_kept.items()))
            )
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "recorded": self.recorded,
            "found": self.found,
            "read_as_for_training": self.same,
            "read_differently": self.different,
            "not_kept": self.not_kept,
        }


def reading_report(bundle: Bundle, cache_dir: Path | None = None) -> ReadingReport | None:
    """Compare the recorded test songs with today's reading (`ReadingReport`)."""
    dataset = recorded_dataset(bundle, cache_dir)
    recorded = bundle.config_json.get("dataset", {}).get("split_ids", {}).get("test")
    if dataset is None or not recorded:
        return None
    by_id = {song.song_id: song for song in dataset.songs}
    found = [by_id[song_id] for song_id in recorded if song_id in by_id]
    dropped = {d.source: d.reason for d in dataset.dropped}
    not_kept: dict[str, int] = {}
    for song_id in recorded:
        if song_id not in by_id:
            reason = dropped.get(song_id, "not in the corpus")
            not_kept[reason] = not_kept.get(reason, 0) + 1
    digests_path = bundle.path / TEST_SONGS_FILE
    same = None
    if digests_path.is_file():
        digests = json.loads(digests_path.read_text(encoding="utf-8"))["songs"]
        same = sum(digests.get(song.song_id) == song_digest(song) for song in found)
    return ReadingReport(len(recorded), len(found), same, dict(sorted(not_kept.items())))


def previous_reading(bundle: Bundle) -> str | None:
    """How the bundle's songs were read, when not as today's reader reads its style; else None.

    A bundle records the reader's ``pipeline_version`` (bundles from before it record
    none: they are older than version 5) and the corpus it read.
    """
    from lstmuse_core.music.corpus import STYLES
    from lstmuse_core.music.dataset import PIPELINE_VERSION

    info = bundle.config_json.get("dataset", {})
    version = int(info.get("pipeline_version", 4))
    style = STYLES.get(str(info.get("name", bundle.style)))
    source = str(info.get("source", ""))
    today = f"{MUSIC21_SOURCE}{style.corpus_folder}/{','.join(style.patterns)}" if style else None
    if version == PIPELINE_VERSION and (today is None or today == source):
        return None
    corpus = f", from {source[len(MUSIC21_SOURCE) :]}" if today and source != today else ""
    return f"trained on the previous reading of its corpus (reader version {version}{corpus})"
