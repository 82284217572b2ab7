"""Preprocessing the folk style (ESAC erk), the seed's way and ours (a script, not a test).

    python bench/preprocess_bench.py [--repeats 1] [--files N] [--workers W]

Measures, in one run and on the same files, the wall time of:

(a) the seed's serial pipeline on one core: ``music21.converter.parse(path,
    forceSource=True)`` per file (an Opus of scores), then for each score the
    seed's duration filter (every note and rest 0.25, 0.5, 0.75, 1, 1.5, 2, 3 or
    4 quarter lengths), its key lookup (element 4 of the first measure of the
    first part, else ``song.analyze("key")``), ``song.transpose`` to C major /
    A minor and its time-series encoding (MIDI number or "r" at an onset, "_"
    for every further 16th). Reproduced as the seed wrote it, bugs included
    (ties split into onsets; for ABC, element 4 is a note, so the key is
    always analysed); the seed's writing of one text file a song is left out;
(b) ours cold: `build_dataset` on a fresh, empty cache folder (all cores by
    default: a process pool, music21's beam layout skipped, MIDI numbers
    shifted instead of ``song.transpose``);
(c) ours cached: the same call again on the same cache folder (hash the files,
    read the cached results).

With ``--repeats R`` the three are run R times, interleaved, and the median is
printed (the machine may be shared: compare the ratios, not the seconds).
``--files N`` uses only the first N erk files (sorted by name) for a quick
run; they are copied to a temporary folder that `build_dataset` reads.
Songs and steps are printed for each way (steps: 16th-note symbols of all kept
songs, song delimiters not counted). Targets: cold at most half the seed's
time, cached under 3 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lstmuse_core.music.corpus import STYLES
from lstmuse_core.music.dataset import Dataset, build_dataset

STYLE = "folk"
# The seed's filter: durations (quarter lengths) its encoding could represent.
SEED_ACCEPTABLE_DURATIONS = [0.25, 0.5, 0.75, 1.0, 1.5, 2, 3, 4]
SEED_TIME_STEP = 0.25  # quarter lengths per step (a 16th)
COLD_TARGET_FRACTION = 0.5  # cold at most half the seed's time
CACHED_TARGET_SECONDS = 3.0


def seed_has_acceptable_durations(song: Any) -> bool:
    """The seed's filter: every note and rest has one of the acceptable durations."""
    return all(
        note.duration.quarterLength in SEED_ACCEPTABLE_DURATIONS
        for note in song.flatten().notesAndRests
    )


def seed_transpose(song: Any) -> Any:
    """The seed's transposition to C major / A minor via ``song.transpose``."""
    import music21 as m21

    parts = song.getElementsByClass(m21.stream.Part)
    measures_part0 = parts[0].getElementsByClass(m21.stream.Measure)
    try:
        key = measures_part0[0][4]
    except IndexError:  # a first measure shorter than 5 elements: the seed crashed here
        key = None
    if not isinstance(key, m21.key.Key):
        key = song.analyze("key")
    # The seed handled "major" and "minor" only; analysed keys are always one of them.
    target = "A" if key.mode == "minor" else "C"
    interval = m21.interval.Interval(key.tonic, m21.pitch.Pitch(target))
    return song.transpose(interval)


def seed_encode(song: Any) -> list[str]:
    """The seed's time-series encoding: onset symbol, then "_" per further 16th."""
    import music21 as m21

    encoded: list[str] = []
    symbol = "r"
    for event in song.flatten().notesAndRests:
        if isinstance(event, m21.note.Note):
            symbol = str(event.pitch.midi)
        elif isinstance(event, m21.note.Rest):
            symbol = "r"
        # (a chord kept the previous symbol in the seed; erk has none)
        steps = int(event.duration.quarterLength / SEED_TIME_STEP)
        for step in range(steps):
            encoded.append(symbol if step == 0 else "_")
    return encoded


def seed_preprocess(paths: list[Path]) -> tuple[int, int, int]:
    """The seed's pipeline, serial: (songs parsed, songs kept, steps)."""
    import music21 as m21

    parsed = kept = steps = 0
    for path in paths:
        opus = m21.converter.parse(str(path), forceSource=True)
        scores = list(opus.scores) if isinstance(opus, m21.stream.Opus) else [opus]
        for song in scores:
            parsed += 1
            if not seed_has_acceptable_durations(song):
                continue
            encoded = seed_encode(seed_transpose(song))
            kept += 1
            steps += len(encoded)
    return parsed, kept, steps


def ours(input_dir: Path | None, cache_dir: Path, workers: int | None) -> Dataset:
    if input_dir is None:
        return build_dataset(STYLE, cache_dir=cache_dir, workers=workers)
    return build_dataset(input_dir=input_dir, name=STYLE, cache_dir=cache_dir, workers=workers)


def timed(work: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs of each way (median)")
    parser.add_argument("--files", type=int, default=None, help="only the first N erk files")
    parser.add_argument("--workers", type=int, default=None, help="ours: processes (all cores)")
    args = parser.parse_args(argv)

    all_paths = STYLES[STYLE].files()
    paths = all_paths[: args.files] if args.files else all_paths
    scratch = Path(tempfile.mkdtemp(prefix="lstmuse-preprocess-bench-"))
    input_dir: Path | None = None
    if len(paths) < len(all_paths):
        input_dir = scratch / "input"
        input_dir.mkdir()
        for path in paths:
            shutil.copy(path, input_dir / path.name)
    cores = len(os.sched_getaffinity(0))
    print(
        f"{len(paths)} of {len(all_paths)} erk files ({', '.join(p.name for p in paths)});"
        f" {cores} cores; ours with {args.workers or cores} workers;"
        f" median of {args.repeats} run(s), interleaved",
        file=sys.stderr,
    )

    seed_times: list[float] = []
    cold_times: list[float] = []
    cached_times: list[float] = []
    seed_counts = (0, 0, 0)
    cold = cached = None
    for repeat in range(1, args.repeats + 1):
        seconds, seed_counts = timed(lambda: seed_preprocess(paths))
        seed_times.append(seconds)
        print(f"  run {repeat}: seed {seconds:.1f} s", file=sys.stderr)
        cache_dir = scratch / f"cache-{repeat}"  # fresh and empty: a cold read
        seconds, cold = timed(lambda cache_dir=cache_dir: ours(input_dir, cache_dir, args.workers))
        cold_times.append(seconds)
        print(f"  run {repeat}: ours cold {seconds:.1f} s", file=sys.stderr)
        seconds, cached = timed(
            lambda cache_dir=cache_dir: ours(input_dir, cache_dir, args.workers)
        )
        cached_times.append(seconds)
        print(f"  run {repeat}: ours cached {seconds:.2f} s", file=sys.stderr)
    assert cold is not None and cached is not None
    if cached.cached_files != len(paths):
        print(f"warning: only {cached.cached_files} files came from the cache", file=sys.stderr)

    t_seed = statistics.median(seed_times)
    t_cold = statistics.median(cold_times)
    t_cached = statistics.median(cached_times)

    def steps_of(dataset: Dataset) -> int:
        return sum(len(song.symbols) for song in dataset.songs)

    def target(met: bool, text: str) -> str:
        return f"{'meets' if met else 'MISSES'} target: {text}"

    parsed, kept, seed_steps = seed_counts
    print()
    print(f"| way ({len(paths)} erk files) | songs kept | steps | seconds | seed / this |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(
        f"| (a) seed, serial, 1 core | {kept} of {parsed} | {seed_steps:,} | {t_seed:.1f} | 1.0 |"
    )
    print(
        f"| (b) ours cold, {args.workers or cores} workers | {len(cold.songs)}"
        f" | {steps_of(cold):,} | {t_cold:.1f} | {t_seed / t_cold:.1f} |"
    )
    print(
        f"| (c) ours cached | {len(cached.songs)} | {steps_of(cached):,}"
        f" | {t_cached:.2f} | {t_seed / t_cached:.0f} |"
    )
    print()
    print(
        f"cold: {t_cold:.1f} s = {t_cold / t_seed:.2f} of the seed's time"
        f" ({target(t_cold <= COLD_TARGET_FRACTION * t_seed, 'at most 0.5')})"
    )
    print(
        f"cached: {t_cached:.2f} s"
        f" ({target(t_cached < CACHED_TARGET_SECONDS, f'under {CACHED_TARGET_SECONDS:g} s')})"
    )
    if cold.dropped:
        reasons: dict[str, int] = {}
        for dropped in cold.dropped:
            reasons[dropped.reason] = reasons.get(dropped.reason, 0) + 1
        print(f"ours dropped: {reasons}")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
