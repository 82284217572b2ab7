"""Melodies measured as a musician would: meter, cadences, repetition, meters, modes, length.

For every committed style, 100 melodies at the style's temperature (0.8), with
``bars=8`` and at free length, measured by `lstmuse_core.music.musicality`
next to the style's held-out test songs (meters and modes: next to the whole
style, which the sampler draws from):

* after, the network alone: one candidate per melody;
* after, as every front end samples: the best of `CANDIDATES` (6) candidates
  (`lstmuse_core.model.generate`, "Candidates");
* before (``--before-tree DIR``, a checkout of the previous release): its
  committed bundles sample the same number of melodies in their own process
  (4/4, 8 bars = 128 steps, free length capped at 256 steps, as that release
  did) and are measured the same way. Those models sing in C major / A minor
  without a mode, so a melody counts as ending on its tonic if it ends on C
  or on A: generous to them.

Held-out bits per symbol next to the 9-gram on the same test split come from
each bundle's ``metrics.json`` (``lstmuse evaluate`` recomputes them).

``--ablation STYLE`` trains the default network on STYLE twice, for
``--minutes`` each, with and without the metrical inputs (position in the bar,
bars remaining, lookbacks; `lstmuse_core.model.conditioning`), and prints the
held-out bits and the measures of the network alone for both.

    git worktree add /tmp/lstmuse-before 7307fca
    python bench/musical_bench.py --before-tree /tmp/lstmuse-before
    KERAS_BACKEND=jax python bench/musical_bench.py --ablation scottish --minutes 8
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from lstmuse_core.model.bundle import default_models_dir, resolve_bundle, trained_styles
from lstmuse_core.model.evaluate import candidate_test_songs
from lstmuse_core.model.generate import CANDIDATES, MelodyGenerator, load_generator
from lstmuse_core.model.musical_evaluation import evaluate_musically
from lstmuse_core.music.meter import COMMON_TIME, Meter
from lstmuse_core.music.musicality import MusicalReport, compare_reports, musical_report

COUNT = 100
# Run inside the previous release's checkout: its own sampler and bundles.
BEFORE_SAMPLER = """
import json, sys
from lstmuse_core.model.generate import load_generator
generator = load_generator(sys.argv[1])
count = int(sys.argv[2])
fixed = generator.sample(count, 128, 0.8, seed=0, min_steps=128)
free = generator.sample(count, 256, 0.8, seed=0)
print(json.dumps({"fixed": fixed, "free": free}))
"""
COLUMNS = (
    ("metric_alignment", "long notes on strong beats"),
    ("cadence", "tonic endings"),
    ("repetition", "repeated figure"),
    ("meters", "meters TV"),
    ("modes", "modes TV"),
)


def before_reports(
    tree: Path, style: str, corpus: MusicalReport, opening_repeats: float
) -> dict[str, Any]:
    """The previous release's melodies of ``style``, measured against ``corpus``; 8 bars'
    repeated figures against ``opening_repeats``, those of the songs' first 8 bars."""
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "LSTMUSE_MODELS_DIR": str(tree / "trained_models"),
    }
    done = subprocess.run(
        [sys.executable, "-c", BEFORE_SAMPLER, style, str(COUNT)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    sampled = json.loads(done.stdout.strip().splitlines()[-1])

    def entries(melodies: list[list[str]]) -> list[tuple[list[str], Meter, str]]:
        # C major or A minor, whichever the melody ends on (see the module docstring).
        notes = [[s for s in m if s.isdigit()] for m in melodies]
        return [
            (m, COMMON_TIME, "minor" if n and int(n[-1]) % 12 == 9 else "major")
            for m, n in zip(melodies, notes, strict=True)
        ]

    openings = replace(corpus, repeated_figures=opening_repeats)
    fixed, free = (
        musical_report(entries(sampled["fixed"])),
        musical_report(entries(sampled["free"])),
    )
    return {
        "fixed_bars": compare_reports(fixed, openings, fixed_length=True),
        "free_length": compare_reports(free, corpus, fixed_length=False),
        "free_bars": free.bars,
        "free_under_4_bars": free.under_4_bars,
        "free_at_cap": sum(len(m) == 256 for m in sampled["free"]) / COUNT,
        "cap_means": "cut at the 256-step cap",
    }


def after_reports(generator: MelodyGenerator, corpus: list[Any], candidates: int) -> dict[str, Any]:
    result = evaluate_musically(generator, corpus, count=COUNT, candidates=candidates)
    return {
        "fixed_bars": result["fixed_bars"]["against_corpus"],
        "free_length": result["free_length"]["against_corpus"],
        "free_bars": result["free_length"]["bars"],
        "free_under_4_bars": result["free_length"]["under_4_bars"],
        "free_at_cap": result["free_length"]["at_cap"],
        "cap_means": "ended at the 512-step cap after the 2-bar countdown",
        "corpus": result["corpus"],
        "asked": result.get("asked"),
    }


def row(label: str, reports: dict[str, Any], setting: str) -> str:
    cells = []
    for name, _ in COLUMNS:
        measure = reports[setting][name]
        value = measure.get("distance", measure.get("generated"))
        cells.append(f"{value:.2f}{'' if measure['met'] else '*'}")
    return f"| {label} | " + " | ".join(cells) + " |"


def styles_table(before_tree: Path | None) -> None:
    print("Held-out bits/symbol (test split) and musical measures; * = target not met.\n")
    for style in trained_styles(default_models_dir()):
        bundle = resolve_bundle(style)
        metrics = bundle.metrics
        bits, ngram = metrics["test"]["bits_per_symbol"], metrics["ngram"]["bits_per_symbol"]
        songs = candidate_test_songs(bundle)
        assert songs is not None, f"{style}: its corpus is not readable here"
        corpus_songs = list(songs.values())
        generator = load_generator(style)
        alone = after_reports(generator, corpus_songs, candidates=1)
        chosen = after_reports(generator, corpus_songs, candidates=CANDIDATES)
        corpus = alone["corpus"]
        print(
            f"## {style} ({bundle.version}): {bits:.3f} bits/symbol, 9-gram {ngram:.3f} "
            f"({1 - bits / ngram:.0%} under); corpus: long notes on strong beats "
            f"{corpus['long_notes_on_strong_beats']:.2f}, tonic endings "
            f"{corpus['tonic_endings']:.2f}, repeated figure {corpus['repeated_figures']:.2f}\n"
        )
        header = " | ".join(title for _, title in COLUMNS)
        print(f"| melodies | {header} |")
        print("|" + " --- |" * (len(COLUMNS) + 1))
        rows = [(f"after, best of {CANDIDATES}", chosen), ("after, network alone", alone)]
        if before_tree is not None:
            fields = MusicalReport.__dataclass_fields__
            corpus_report = MusicalReport(**{k: v for k, v in corpus.items() if k in fields})
            opening_repeats = corpus["repeated_figures_in_first_8_bars"]
            rows.append(
                ("before", before_reports(before_tree, style, corpus_report, opening_repeats))
            )
        for setting in ("fixed_bars", "free_length"):
            for label, reports in rows:
                print(row(f"{label}, {setting.replace('_', ' ')}", reports, setting))
        for label, reports in rows:
            bars = reports["free_bars"]
            print(
                f"\n{label}, free length: {bars['min']:g}-{bars['max']:g} bars (median "
                f"{bars['median']:g}), {reports['free_under_4_bars']:.0%} under 4 bars, "
                f"{reports['free_at_cap']:.0%} {reports['cap_means']}"
            )
        if chosen.get("asked"):
            asked = chosen["asked"]
            print(
                f"asked {asked['meter']} {asked['mode']}: {asked['share_in_meter']:.0%} in the "
                f"meter, {asked['mean_share_of_pitches_in_mode']:.0%} of pitches in the mode, "
                f"{asked['tonic_endings']:.0%} end on the tonic"
            )
        print()


def ablation(style: str, minutes: float) -> None:
    """The same network with and without the metrical inputs, same data and budget."""
    from lstmuse_core.model.conditioning import Conditioning
    from lstmuse_core.model.evaluate import score_model
    from lstmuse_core.model.network import PRESETS
    from lstmuse_core.model.stepper import LstmStepper
    from lstmuse_core.model.train import fit
    from lstmuse_core.music.dataset import build_dataset

    dataset = build_dataset(style)
    vocabulary = dataset.vocabulary()
    test = dataset.songs_in("test")
    print(f"{style}: default network, {minutes:g} min each, test split of {len(test)} songs\n")
    print(
        "| inputs | bits/symbol | epochs | long notes on strong beats (bars=8) "
        "| tonic endings (bars=8) | repeated figure (bars=8) |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for metrical in (True, False):
        config = PRESETS["default"].with_overrides(max_minutes=minutes, metrical=metrical)
        conditioning = Conditioning.from_songs(
            dataset.songs, metrical=config.metrical, form=config.form
        )
        trained = fit(
            config,
            vocabulary,
            conditioning,
            dataset.songs_in("train"),
            dataset.songs_in("validation"),
        )
        score = score_model(trained.model, vocabulary, conditioning, test)
        stepper = LstmStepper.from_keras(trained.model, conditioning)
        generator = MelodyGenerator(vocabulary, stepper, conditioning)
        fixed = evaluate_musically(generator, test, count=COUNT, candidates=1, temperature=0.8)
        measures = fixed["fixed_bars"]
        label = "meter, mode + metrical" if metrical else "meter, mode only"
        print(
            f"| {label} | {score.bits_per_symbol:.3f} | {trained.epochs} | "
            f"{measures['long_notes_on_strong_beats']:.2f} | {measures['tonic_endings']:.2f} | "
            f"{measures['repeated_figures']:.2f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before-tree", type=Path, help="a checkout of the previous release")
    parser.add_argument(
        "--ablation", metavar="STYLE", help="train with and without metrical inputs"
    )
    parser.add_argument("--minutes", type=float, default=8.0, help="--ablation: budget per run")
    args = parser.parse_args()
    if args.ablation:
        ablation(args.ablation, args.minutes)
    else:
        styles_table(args.before_tree.resolve() if args.before_tree else None)


if __name__ == "__main__":
    main()
