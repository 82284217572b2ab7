"""A style's corpus turned into a dataset: melodies, drop report, split.

Files are read in parallel on all cores (one job a chunk of ABC tunes or a
file) and each file's result is cached under a key made of the file's bytes,
its label and the read options, so a second run only hashes the files and a
changed file is re-read.

Songs are split into train / validation / test by song (never by window),
deterministically from a seed: songs are ordered by a hash of the seed and
their id, and the order is cut at the split fractions.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lstmuse_core.errors import CorpusError, InvalidParameter
from lstmuse_core.music.cache_folder import default_cache_dir
from lstmuse_core.music.corpus import (
    STYLES,
    DroppedSong,
    ReadOptions,
    ReadResult,
    Song,
    Style,
    find_music_files,
    read_abc_tunes,
    read_file,
    split_abc_tunes,
)
from lstmuse_core.music.encoding import SONG_END, Vocabulary
from lstmuse_core.music.variants import variant_groups

# Bump when the reader's output changes, so old cache entries are not reused.
# 2: bar-aligned songs with meter, mode and pickup; 3: final-note modes; 4: "meter", not
# "time_signature", in a cached song; 5: bars laid out across repeats, endings and
# pickups after a double bar, sections and the real end (Fine, D.C.), modes by the final
# for every tune, pentatonic modes, overfull bars named; 6: finals on the 3rd, 4th and 7th
# degree keep major; 7: an ABC accidental holds to the bar line (music21 forgot it)
PIPELINE_VERSION = 8
SPLIT_NAMES = ("train", "validation", "test")
DEFAULT_SPLIT = (0.8, 0.1, 0.1)
DEFAULT_SPLIT_SEED = 2024


@dataclass
class Dataset:
    """Melodies of one style with their split and what was dropped on the way."""

    name: str
    songs: list[Song]
    dropped: list[DroppedSong]
    split: dict[str, list[str]]
    options: ReadOptions
    split_seed: int
    source: str
    files: int = 0
    cached_files: int = 0
    seconds: float = 0.0
    variants: list[list[str]] = field(default_factory=list)  # groups of 2+ variant songs
    _by_id: dict[str, Song] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {song.song_id: song for song in self.songs}

    @property
    def song_ids(self) -> set[str]:
        return set(self._by_id)

    def songs_in(self, split_name: str) -> list[Song]:
        if split_name not in self.split:
            raise InvalidParameter("split", split_name, f"use one of {', '.join(SPLIT_NAMES)}")
        return [self._by_id[song_id] for song_id in self.split[split_name]]

    def melodies(self, split_name: str) -> list[list[str]]:
        return [song.symbols for song in self.songs_in(split_name)]

    @property
    def steps(self) -> int:
        """16th-note steps of all songs, one song delimiter each included."""
        return sum(len(song.symbols) + 1 for song in self.songs)

    def vocabulary(self) -> Vocabulary:
        """The vocabulary of every kept song (all splits: no unknown symbol at evaluation)."""
        return Vocabulary.from_songs(song.symbols for song in self.songs)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "files": self.files,
            "cached_files": self.cached_files,
            "songs_loaded": len(self.songs)
            + sum(1 for d in self.dropped if "#" in d.source or d.reason != "unsupported format"),
            "songs_kept": len(self.songs),
            "dropped": dict(sorted(Counter(d.reason for d in self.dropped).items())),
            "steps": self.steps,
            "vocab_size": len(self.vocabulary()),
            "split": {name: len(ids) for name, ids in self.split.items()},
            "variant_groups": len(self.variants),
            "songs_in_variant_groups": sum(len(g) for g in self.variants),
            "split_seed": self.split_seed,
            "off_grid": self.options.off_grid,
            "pentatonic": self.options.pentatonic,
            "pipeline_version": PIPELINE_VERSION,
            "seconds": round(self.seconds, 2),
        }

    def save(self, path: Path) -> None:
        """Write the dataset (songs, drops, split, options) as gzipped JSON."""
        data = {
            "name": self.name,
            "source": self.source,
            "split_seed": self.split_seed,
            "options": asdict(self.options),
            "split": self.split,
            "variants": self.variants,
            "songs": [s.to_json() for s in self.songs],
            "dropped": [d.to_json() for d in self.dropped],
        }
        _write_json_gz(path, data)

    @classmethod
    def load(cls, path: Path) -> Dataset:
        data = _read_json_gz(path)
        return cls(
            data["name"],
            [Song.from_json(s) for s in data["songs"]],
            [DroppedSong.from_json(d) for d in data["dropped"]],
            data["split"],
            ReadOptions(**data["options"]),
            data["split_seed"],
            data["source"],
            variants=data.get("variants", []),
        )


def split_songs(
    song_ids: Sequence[str],
    seed: int,
    fractions: tuple[float, float, float] = DEFAULT_SPLIT,
    groups: Sequence[Sequence[str]] | None = None,
) -> dict[str, list[str]]:
    """Deterministic train/validation/test split by song id, variants kept together.

    ``groups``: songs that must share a split (`variants.variant_groups`); songs in no
    group are groups of one. Groups are ordered by a hash of the seed and their first
    id; test, then validation, take groups from the end of that order while a group
    fits in what they still need (a group too big for a held-out set stays in train),
    so with no variants the split is the plain per-song one. Each set other than
    train gets at least one song once there are three.
    """
    grouped = {song_id for group in groups or () for song_id in group}
    units = [list(g) for g in groups or () if g] + [[i] for i in song_ids if i not in grouped]
    order = sorted(units, key=lambda g: hashlib.sha256(f"{seed}:{min(g)}".encode()).hexdigest())
    total = sum(len(g) for g in order)
    held_out = [round(total * f) for f in fractions[1:]]
    if total >= 3:
        held_out = [max(1, n) for n in held_out]
    n_validation, n_test = held_out
    chosen: dict[str, list[str]] = {"test": [], "validation": [], "train": []}
    needs = {"test": n_test, "validation": n_validation}
    for group in reversed(order):
        target = next((name for name, need in needs.items() if 0 < len(group) <= need), "train")
        if target != "train":
            needs[target] -= len(group)
        chosen[target] = group + chosen[target]
    return {"train": chosen["train"], "validation": chosen["validation"], "test": chosen["test"]}


Progress = Callable[[int, int], None]


def build_dataset(
    style: str | Style | None = None,
    *,
    input_dir: Path | None = None,
    name: str | None = None,
    options: ReadOptions | None = None,
    split_seed: int = DEFAULT_SPLIT_SEED,
    cache_dir: Path | None = None,
    workers: int | None = None,
    progress: bool = False,
) -> Dataset:
    """Read a style (or any folder of music files) into a `Dataset`.

    Exactly one of ``style`` (a name in `STYLES`, or a `Style`: a bundle's corpus as it
    recorded it) and ``input_dir`` is given. ``workers`` defaults
    to the cores this process may use; ``progress`` shows a tqdm bar on stderr.
    """
    started = time.perf_counter()
    if (style is None) == (input_dir is None):
        raise CorpusError("give either a style or an input folder")
    if style is not None:
        if isinstance(style, str) and style not in STYLES:
            raise InvalidParameter("style", style, f"use one of {', '.join(STYLES)}")
        chosen = style if isinstance(style, Style) else STYLES[style]
        options = options or chosen.read_options()
        root, paths = chosen.root, chosen.files()
        dropped: list[DroppedSong] = []
        name, source = (
            name or chosen.name,
            f"music21 corpus: {chosen.corpus_folder}/{','.join(chosen.patterns)}",
        )
    else:
        assert input_dir is not None
        options = options or ReadOptions()
        root = input_dir
        paths, dropped = find_music_files(input_dir)
        name, source = name or input_dir.name, str(input_dir)
        if not paths:
            raise CorpusError(
                f"no music files ({', '.join(['abc', 'krn', 'mid', 'musicxml'])})"
                f" found in {str(input_dir)!r}"
            )
    cache = _FileCache((cache_dir or default_cache_dir()) / "files", options)
    labels = {path: str(path.relative_to(root)) for path in paths}
    results, cached = _read_all(paths, labels, options, cache, workers, progress)
    songs = [r for r in results if isinstance(r, Song)]
    dropped += [r for r in results if isinstance(r, DroppedSong)]
    if not songs:
        raise CorpusError(
            f"no usable songs in {source}: {dict(Counter(d.reason for d in dropped))}"
        )
    groups = [g for g in variant_groups(songs) if len(g) > 1]
    split = split_songs([s.song_id for s in songs], split_seed, groups=groups)
    return Dataset(
        name,
        songs,
        dropped,
        split,
        options,
        split_seed,
        source,
        files=len(paths),
        cached_files=cached,
        seconds=time.perf_counter() - started,
        variants=groups,
    )


def _read_all(
    paths: list[Path],
    labels: dict[Path, str],
    options: ReadOptions,
    cache: _FileCache,
    workers: int | None,
    progress: bool,
) -> tuple[list[ReadResult], int]:
    """Results of every file in path order, reading the uncached ones in parallel."""
    by_file: dict[Path, list[ReadResult] | None] = {}
    jobs: list[_ReadJob] = []
    for path in paths:
        key = cache.key(path, labels[path])
        by_file[path] = cache.get(key)
        if by_file[path] is None:
            jobs += _jobs_for(path, labels[path], key)
    cached = sum(1 for r in by_file.values() if r is not None)
    parts: dict[Path, list[tuple[int, list[ReadResult]]]] = {}
    for job, results in _run_jobs(jobs, options, workers, progress):
        parts.setdefault(job.path, []).append((job.first_number, results))
    for path, chunks in parts.items():
        results = [r for _, chunk in sorted(chunks, key=lambda c: c[0]) for r in chunk]
        cache.put(_cache_key_of(jobs, path), results)
        by_file[path] = results
    return [r for path in paths for r in (by_file[path] or [])], cached


@dataclass(frozen=True)
class _ReadJob:
    path: Path
    label: str
    cache_key: str
    tunes: tuple[str, ...] | None = None  # ABC tune texts; None reads the whole file
    first_number: int = 1

    @property
    def size(self) -> int:
        return len(self.tunes) if self.tunes is not None else 1


_TUNES_PER_JOB = 40


def _jobs_for(path: Path, label: str, key: str) -> list[_ReadJob]:
    """Big ABC books are cut into chunks of tunes so all cores stay busy."""
    if path.suffix.lower() != ".abc":
        return [_ReadJob(path, label, key)]
    try:
        tunes = split_abc_tunes(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return [_ReadJob(path, label, key)]
    if len(tunes) <= 1:
        return [_ReadJob(path, label, key)]
    return [
        _ReadJob(path, label, key, tuple(tunes[i : i + _TUNES_PER_JOB]), i + 1)
        for i in range(0, len(tunes), _TUNES_PER_JOB)
    ]


def _cache_key_of(jobs: list[_ReadJob], path: Path) -> str:
    return next(job.cache_key for job in jobs if job.path == path)


def _run_job(job: _ReadJob, options: ReadOptions) -> list[ReadResult]:
    if job.tunes is None:
        return read_file(job.path, job.label, options)
    return read_abc_tunes(list(job.tunes), job.label, options, job.first_number)


def _run_jobs(
    jobs: list[_ReadJob], options: ReadOptions, workers: int | None, progress: bool
) -> list[tuple[_ReadJob, list[ReadResult]]]:
    from tqdm import tqdm

    workers = workers or len(os.sched_getaffinity(0))
    if multiprocessing.current_process().daemon:
        # A Celery worker's child (a retrain) is a daemon, and a daemon may not start
        # processes: a pool there failed every retrain of more than one file's chunk.
        workers = 1
    bar = tqdm(
        total=sum(j.size for j in jobs),
        unit="song",
        desc="reading",
        disable=not progress or not jobs,
    )
    done: list[tuple[_ReadJob, list[ReadResult]]] = []
    with bar:
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                done.append((job, _run_job(job, options)))
                bar.update(job.size)
            return done
        # forkserver: the parent may hold TensorFlow (a retrain in a worker),
        # which is not fork-safe; children start clean and import music21 once.
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(_run_job, job, options): job for job in jobs}
            for future in as_completed(futures):
                job = futures[future]
                done.append((job, future.result()))
                bar.update(job.size)
    return done


class _FileCache:
    """Per-file read results, gzipped JSON, keyed by content + label + options."""

    def __init__(self, folder: Path, options: ReadOptions) -> None:
        self.folder = folder
        self.fingerprint = json.dumps([PIPELINE_VERSION, asdict(options)], sort_keys=True)

    def key(self, path: Path, label: str) -> str:
        digest = hashlib.sha256(self.fingerprint.encode())
        digest.update(label.encode())
        digest.update(path.read_bytes())
        return digest.hexdigest()

    def get(self, key: str) -> list[ReadResult] | None:
        path = self.folder / f"{key}.json.gz"
        try:
            entries = _read_json_gz(path)
        except (OSError, ValueError, EOFError):
            return None
        return [Song.from_json(e) if "symbols" in e else DroppedSong.from_json(e) for e in entries]

    def put(self, key: str, results: list[ReadResult]) -> None:
        _write_json_gz(self.folder / f"{key}.json.gz", [r.to_json() for r in results])


def _write_json_gz(path: Path, data: Any) -> None:
    """Atomic write: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with gzip.open(temporary, "wt", encoding="utf-8") as handle:
        json.dump(data, handle, separators=(",", ":"))
    temporary.replace(path)


def _read_json_gz(path: Path) -> Any:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


__all__ = ["SONG_END", "Dataset", "build_dataset", "split_songs"]
