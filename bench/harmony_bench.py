"""The harmonizer measured against Bach and against two baselines, in one run.

1. Held-out chorales (the song-level test set ``chorale_tables.json`` lists,
   never learned from): agreement of the chords' roots, and of roots and
   qualities, with Bach's harmony on the beats
   (`lstmuse_core.music.harmony.evaluate`).
2. Every committed style's test songs: the share of strong-beat melody notes
   that are chord tones, the share of tunes whose last chord change is V-I,
   V7-I or IV-I, and chord changes per bar (`lstmuse_core.music.harmony.measures`).
3. The time `harmonize` takes on a 32-bar tune.

Each row next to the two baselines: the tonic throughout, and the best-fitting
diatonic triad per half bar with no context.

    python bench/harmony_bench.py
"""

from __future__ import annotations

import json
import time

from lstmuse_core.music.dataset import build_dataset
from lstmuse_core.music.harmony import harmonize
from lstmuse_core.music.harmony.evaluate import METHODS, agreement_with_bach, melody_of
from lstmuse_core.music.harmony.harmonizer import TABLES_PATH
from lstmuse_core.music.harmony.measures import measure
from lstmuse_core.music.keys import model_key
from lstmuse_core.music.melody import Melody

COMMITTED_STYLES = ("folk", "irish", "scottish", "fiddle")


def chorale_agreement() -> None:
    held_out = json.loads(TABLES_PATH.read_text(encoding="utf-8"))["held_out"]
    results = agreement_with_bach(held_out)
    first = next(iter(results.values()))
    print(f"Held-out Bach chorales: {first.chorales} of {len(held_out)}, {first.beats} beats\n")
    print("| method | root agrees with Bach | root and quality agree |")
    print("| --- | --- | --- |")
    for label, result in results.items():
        print(
            f"| {label} | {result.roots / result.beats:.3f} | {result.chords / result.beats:.3f} |"
        )
    print()


def style_measures() -> None:
    print(
        "| style (test songs) | method | strong-beat notes that are chord tones "
        "| tunes ending V-I or IV-I | chord changes per bar |"
    )
    print("| --- | --- | --- | --- | --- |")
    for style in COMMITTED_STYLES:
        songs = build_dataset(style).songs_in("test")
        melodies = [melody_of(song) for song in songs]
        for label, method in METHODS.items():
            measures = [measure(m, method(m)) for m in melodies]
            strong = sum(x.strong_notes for x in measures)
            tones = sum(x.strong_chord_tones for x in measures)
            cadences = sum(x.authentic_or_plagal_ending for x in measures)
            changes = sum(x.changes for x in measures) / sum(x.bars for x in measures)
            print(
                f"| {style} ({len(songs)}) | {label} | {tones / strong:.3f} "
                f"| {cadences / len(measures):.3f} | {changes:.2f} |",
                flush=True,
            )
    print()


def timing() -> None:
    songs = build_dataset("irish").songs_in("test")
    long = max(songs, key=lambda s: len(s.symbols))
    bars = len(long.symbols) / long.meter.bar_steps
    # 32 bars: the longest test tune, cut or repeated to 32 bars of its meter.
    steps = 32 * long.meter.bar_steps
    symbols = (list(long.symbols) * (-(-steps // len(long.symbols))))[:steps]
    melody = Melody(symbols, long.meter, model_key(long.mode))
    harmonize(melody)  # the tables are read once per process
    runs = 200
    started = time.perf_counter()
    for _ in range(runs):
        harmonize(melody)
    per_tune = (time.perf_counter() - started) / runs
    print(
        f"harmonize, a 32-bar tune of {long.meter} (from a {bars:.0f}-bar test tune): "
        f"{per_tune * 1000:.2f} ms (mean of {runs})"
    )


def main() -> None:
    chorale_agreement()
    style_measures()
    timing()


if __name__ == "__main__":
    main()
