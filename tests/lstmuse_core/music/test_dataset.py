"""Datasets: parallel reading, the file cache, the split, the summary."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lstmuse_core.errors import CorpusError, InvalidParameter
from lstmuse_core.music.dataset import Dataset, build_dataset, split_songs

TUNE = "X:{n}\nT:Tune {n}\nM:4/4\nL:1/4\nK:{key}\n{notes} |\n\n"


def _write_book(folder: Path, name: str, count: int, key: str = "G") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    notes = ["G A B c", "d B G2", "A B c d", "e d B G"]
    text = "".join(TUNE.format(n=n, key=key, notes=notes[n % 4]) for n in range(1, count + 1))
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_split_is_deterministic_and_disjoint() -> None:
    """Same seed, same split; every song in exactly one set; another seed differs."""
    ids = [f"song{i}" for i in range(200)]
    first, again, other = split_songs(ids, 7), split_songs(ids, 7), split_songs(ids, 8)
    assert first == again
    assert first != other
    members = [i for part in first.values() for i in part]
    assert sorted(members) == sorted(ids)
    assert [len(first[k]) for k in ("train", "validation", "test")] == [160, 20, 20]


def test_tiny_datasets_still_have_held_out_songs() -> None:
    """Three songs give one song to validation and one to test."""
    split = split_songs(["a", "b", "c"], 1)
    assert [len(split[k]) for k in ("train", "validation", "test")] == [1, 1, 1]


def test_folder_dataset_cache_hit_and_invalidation(tmp_path: Path) -> None:
    """A second run reads nothing; a changed file is re-read, the others come from cache."""
    corpus = tmp_path / "corpus"
    _write_book(corpus, "a.abc", 12)
    changed = _write_book(corpus, "b.abc", 12)
    (corpus / "readme.txt").write_text("not music")
    cache = tmp_path / "cache"
    first = build_dataset(input_dir=corpus, name="mine", cache_dir=cache, workers=2)
    assert (first.files, first.cached_files, len(first.songs)) == (2, 0, 24)
    assert first.summary()["dropped"] == {"unsupported format": 1}
    second = build_dataset(input_dir=corpus, name="mine", cache_dir=cache, workers=2)
    assert second.cached_files == 2
    assert [s.symbols for s in second.songs] == [s.symbols for s in first.songs]
    assert second.split == first.split
    _write_book(corpus, "b.abc", 12, key="D")  # same tunes, another key: new content
    os.utime(changed)
    third = build_dataset(input_dir=corpus, name="mine", cache_dir=cache, workers=2)
    assert third.cached_files == 1
    moved = [s for s in third.songs if s.song_id.startswith("b.abc")]
    assert {s.transposition for s in moved} == {-2}


def test_read_options_are_part_of_the_cache_key(tmp_path: Path) -> None:
    """Quantising instead of dropping re-reads the files."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "t.abc").write_text(
        "X:1\nM:2/4\nL:1/8\nK:C\n(3CDE F2 |\n\nX:2\nM:2/4\nL:1/8\nK:C\nCD EF |\n\n"
        "X:3\nM:2/4\nL:1/8\nK:C\nGA GE |\n"
    )
    from lstmuse_core.music.corpus import ReadOptions

    dropped = build_dataset(input_dir=corpus, cache_dir=tmp_path / "c")
    kept = build_dataset(
        input_dir=corpus, cache_dir=tmp_path / "c", options=ReadOptions(off_grid="quantize")
    )
    assert dropped.summary()["dropped"] == {"off-grid duration": 1}
    assert (len(dropped.songs), len(kept.songs), kept.cached_files) == (2, 3, 0)


def test_dataset_save_and_load(tmp_path: Path) -> None:
    """A saved dataset loads with the same songs and split."""
    corpus = tmp_path / "corpus"
    _write_book(corpus, "a.abc", 6)
    dataset = build_dataset(input_dir=corpus, cache_dir=tmp_path / "c", workers=1)
    dataset.save(tmp_path / "d.json.gz")
    loaded = Dataset.load(tmp_path / "d.json.gz")
    assert loaded.split == dataset.split
    assert loaded.melodies("test") == dataset.melodies("test")


def test_bad_inputs_are_named(tmp_path: Path) -> None:
    """Unknown styles, missing folders and folders without music give clear errors."""
    with pytest.raises(InvalidParameter, match="style='jazz'"):
        build_dataset("jazz")
    with pytest.raises(CorpusError, match="does not exist"):
        build_dataset(input_dir=tmp_path / "nowhere")
    (tmp_path / "only.txt").write_text("x")
    with pytest.raises(CorpusError, match="no music files"):
        build_dataset(input_dir=tmp_path)


@pytest.mark.slow
def test_folk_style_reads_the_german_essen_books(folk_dataset: Dataset) -> None:
    """The folk style is 6,314 German-language ESAC songs (no han) in many meters,
    bar-aligned, split 80/10/10 with variants kept together."""
    summary = folk_dataset.summary()
    assert summary["songs_loaded"] == 6314
    assert summary["songs_kept"] > 5000
    assert summary["vocab_size"] == 43
    assert not any(song.song_id.startswith("han") for song in folk_dataset.songs)
    assert summary["variant_groups"] > 100
    meters = {song.meter.text for song in folk_dataset.songs}
    assert {"2/4", "3/4", "4/4", "6/8", "3/8", "6/4"} <= meters
    assert {song.mode for song in folk_dataset.songs} >= {"major", "minor"}
    assert all(
        len(song.symbols) == sum(song.bars)
        if song.bars
        else len(song.symbols) % song.meter.bar_steps == 0
        for song in folk_dataset.songs
    )
    assert sum(1 for song in folk_dataset.songs if song.bars) > 500  # bars kept as written
    assert sum(summary["split"].values()) == summary["songs_kept"]
    assert summary["split"]["test"] == round(summary["songs_kept"] * 0.1)
