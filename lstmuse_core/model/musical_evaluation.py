"""A style's model heard as a musician would: generated melodies against its corpus.

`evaluate_musically` samples melodies at the style's default temperature
(each with the meter and mode the sampler draws from the style's songs) in
two settings, ``bars=8`` and free length, and measures them next to the
style's held-out test songs with `lstmuse_core.music.musicality`: metric
alignment, cadences, repeated figures, meters, modes, lengths; given the n-gram
fitted on the training songs, its ``bars=8`` melodies are measured beside them
(`baseline_melodies`: what symbol statistics alone give). It also asks
for one meter and mode on purpose (6/8 dorian where the style knows both) and
checks that they came; and tunes in the style's own forms
(`lstmuse_core.model.form_evaluation`). ``lstmuse evaluate --musical`` prints it;
``bench/musical_bench.py`` tabulates it for every style.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from lstmuse_core.model.baseline_melodies import ngram_melodies
from lstmuse_core.model.form_evaluation import evaluate_forms
from lstmuse_core.model.generate import (
    CANDIDATES,
    MelodyGenerator,
    SampledMelody,
    SamplingControls,
)
from lstmuse_core.model.ngram import NGramModel
from lstmuse_core.music.corpus import Song
from lstmuse_core.music.keys import MODE_TONICS
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.musicality import (
    MelodyEntry,
    compare_reports,
    compare_triplet_rates,
    musical_report,
    share_in_scale,
    triplet_bars,
)

FIXED_BARS = 8
ASKED = (Meter(6, 8), "dorian")  # the meter and mode asked for on purpose


def _shares(counts: Mapping[Meter, int] | Mapping[str, int]) -> dict[str, float]:
    """Each meter's or mode's share, keyed by its text as a report keeps it."""
    total = sum(counts.values())
    return {str(name): count / total for name, count in counts.items()}


def _entries(melodies: Sequence[SampledMelody]) -> list[MelodyEntry]:
    return [(m.symbols, m.meter, m.mode) for m in melodies]


def evaluate_musically(
    generator: MelodyGenerator,
    corpus: Sequence[Song],
    *,
    count: int = 100,
    seed: int = 0,
    temperature: float | None = None,
    candidates: int = CANDIDATES,
    baseline: NGramModel | None = None,
) -> dict[str, Any]:
    """Generated (``bars=8`` and free) vs ``corpus`` songs; see the module docstring.

    ``candidates``: per melody, as the front ends sample (1: the network alone,
    no choice among candidates). Meters and modes are compared with the
    style's whole corpus (what the sampler draws from), the rest with ``corpus``.
    ``baseline``: an n-gram fitted on the style's training songs, whose melodies
    (`baseline_melodies`: the same meters, modes, bars and choice) are measured
    beside, under ``baseline``.
    """
    controls = SamplingControls(temperature or generator.default_temperature)
    seeds = range(seed, seed + count)

    free_caps: list[int] = []

    def sample(bars: int | None, meter: Meter | None = None, mode: str | None = None) -> list[Any]:
        plans = [generator.plan(s, meter=meter, mode=mode, bars=bars) for s in seeds]
        if bars is None:
            free_caps[:] = [plan.last_step for plan in plans]
        return generator.sample_plans(plans, controls, candidates)

    # Beats and bars are read on one bar grid: a song that changes meter (`Song.bars`)
    # has none, so the corpus figures are those of the songs that keep one meter.
    changing = sum(1 for s in corpus if s.bars)
    corpus = [s for s in corpus if not s.bars]
    reference = musical_report(
        [(s.symbols, s.meter, s.mode) for s in corpus], endings=[s.end for s in corpus]
    )
    # A figure repeated a bar or two later is likelier the longer the tune: 8 generated
    # bars are measured against the songs' first 8 bars (free length against the whole).
    openings = musical_report(
        [(s.symbols[: FIXED_BARS * s.meter.bar_steps], s.meter, s.mode) for s in corpus]
    )
    style = generator.conditioning
    reference = replace(
        reference,
        meters=_shares(style.meters),
        modes=_shares(style.modes),
    )
    fixed, free = sample(FIXED_BARS), sample(None)
    fixed_report, free_report = musical_report(_entries(fixed)), musical_report(_entries(free))
    fixed_reference = replace(reference, repeated_figures=openings.repeated_figures)
    result: dict[str, Any] = {
        "style": generator.style,
        "version": generator.version,
        "temperature": controls.temperature,
        "melodies": count,
        "candidates": candidates,
        "corpus": {
            "songs": len(corpus),
            "songs_that_change_meter_left_out": changing,
            **reference.to_json(),
            "repeated_figures_in_first_8_bars": openings.repeated_figures,
            "meters_and_modes_of": "every song of the style",
        },
        "fixed_bars": {
            "bars": FIXED_BARS,
            **fixed_report.to_json(),
            "against_corpus": compare_reports(fixed_report, fixed_reference, fixed_length=True),
        },
        "free_length": {
            **free_report.to_json(),
            # Told two bars before the cap that two bars remain: ended there, not cut.
            "at_cap": sum(len(m.symbols) == cap for m, cap in zip(free, free_caps, strict=True))
            / count,
            "against_corpus": compare_reports(free_report, reference, fixed_length=False),
        },
    }
    # Triplets in reels and hornpipes (4/4, 2/2): bars with one, generated (bars=8 and
    # free) beside the held-out songs. A model without the triplet marker has none.
    corpus_triplets = triplet_bars([(s.symbols, s.meter, s.mode) for s in corpus])
    result["triplets"] = compare_triplet_rates(
        triplet_bars(_entries(fixed) + _entries(free)), corpus_triplets
    )
    # The simple baseline: the n-gram's melodies, as many, of the same meters and modes.
    if baseline is not None:
        melodies = ngram_melodies(
            baseline,
            [(m.meter, m.mode) for m in fixed],
            FIXED_BARS,
            temperature=controls.temperature,
            candidates=candidates,
            seed=seed,
        )
        baseline_report = musical_report(melodies)
        result["baseline"] = {
            "model": f"{baseline.order}-gram",
            **baseline_report.to_json(),
            "against_corpus": compare_reports(baseline_report, fixed_reference, fixed_length=True),
            "triplets": compare_triplet_rates(triplet_bars(melodies), corpus_triplets),
        }
    result["form"] = evaluate_forms(
        generator, corpus, count=count, seed=seed, temperature=controls.temperature
    )
    meter, mode = ASKED
    known = generator.conditioning
    if meter in known.meters and mode in known.modes:
        asked = sample(FIXED_BARS, meter, mode)
        in_mode = [share_in_scale(m.symbols, MODE_TONICS[mode], mode) for m in asked]
        result["asked"] = {
            "meter": meter.text,
            "mode": mode,
            "share_in_meter": sum(m.meter == meter for m in asked) / len(asked),
            "mean_share_of_pitches_in_mode": sum(in_mode) / len(in_mode),
            "tonic_endings": musical_report(_entries(asked)).tonic_endings,
        }
    return result
