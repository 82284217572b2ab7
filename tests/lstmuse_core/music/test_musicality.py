"""Musical measures on hand-written melodies whose answers a musician can count."""

from __future__ import annotations

import dataclasses
import json

import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.musicality import (
    MelodyNotes,
    MusicalReport,
    compare_reports,
    ends_on_tonic,
    long_notes_on_strong_beats,
    musical_report,
    repeats_a_figure,
    share_in_scale,
    total_variation,
)

FOUR_FOUR = Meter.parse("4/4")  # bar 16 steps, strong at 0 and 8, long notes >= 8
SIX_EIGHT = Meter.parse("6/8")  # bar 12 steps, strong at 0 and 6, long notes >= 6

C, D, E, F, G, A, B, HIGH_C = 60, 62, 64, 65, 67, 69, 71, 72


def tune(*notes: tuple[int | None, int]) -> list[str]:
    """Symbols of ``(pitch or None for a rest, steps)`` pairs."""
    symbols: list[str] = []
    for pitch, steps in notes:
        symbols += ["r" if pitch is None else str(pitch)] + ["_"] * (steps - 1)
    return symbols


# Four eighth notes: half a 4/4 bar.
FIGURE = ((C, 2), (D, 2), (E, 2), (F, 2))


# --- metric alignment ---------------------------------------------------------------


def test_half_notes_on_beats_1_and_3_are_on_strong_beats() -> None:
    melody = tune((C, 8), (E, 8), (G, 8), (HIGH_C, 8))
    assert long_notes_on_strong_beats(melody, FOUR_FOUR) == (4, 4)


def test_half_notes_on_beats_2_and_4_are_off_the_strong_beats() -> None:
    # | C q  E h  G q | C q  D q  E q  F h | (F) G q  C h | : half notes on beats 2, 4 and 3
    melody = tune((C, 4), (E, 8), (G, 4), (C, 4), (D, 4), (E, 4), (F, 8), (G, 4), (HIGH_C, 8))
    assert long_notes_on_strong_beats(melody, FOUR_FOUR) == (1, 3)  # only the last, on beat 3


def test_short_notes_and_long_rests_are_not_long_notes() -> None:
    # A quarter followed by a rest lasts a quarter: the rest does not lengthen it.
    melody = tune((C, 4), (None, 12), (D, 4), (E, 4), (None, 8))
    assert long_notes_on_strong_beats(melody, FOUR_FOUR) == (0, 0)


def test_dotted_quarters_on_beats_1_and_4_of_six_eight() -> None:
    melody = tune((C, 6), (E, 6), (G, 3), (E, 3), (C, 6))
    assert long_notes_on_strong_beats(melody, SIX_EIGHT) == (3, 3)


def test_dotted_quarter_after_an_eighth_is_off_the_beat_in_six_eight() -> None:
    # | C e  D dotted-q  E q | : the dotted quarter starts on the 2nd eighth; the quarter is short
    melody = tune((C, 2), (D, 6), (E, 4))
    assert long_notes_on_strong_beats(melody, SIX_EIGHT) == (0, 1)


# --- cadence ------------------------------------------------------------------------


def test_ending_on_the_tonic_on_a_strong_beat() -> None:
    melody = tune((E, 8), (D, 8), (C, 16))
    assert ends_on_tonic(melody, FOUR_FOUR, "major")
    # Any octave; beat 3 of 4/4 is strong too; trailing rests are ignored.
    assert ends_on_tonic(tune((E, 8), (HIGH_C, 4), (None, 4)), FOUR_FOUR, "major")


def test_ending_on_the_tonic_on_a_weak_beat_is_no_cadence() -> None:
    melody = tune((E, 4), (D, 4), (D, 4), (C, 4))  # C on beat 4
    assert not ends_on_tonic(melody, FOUR_FOUR, "major")
    assert not ends_on_tonic(tune((E, 3), (C, 9)), SIX_EIGHT, "major")  # C on the 2nd eighth
    assert ends_on_tonic(tune((E, 6), (C, 6)), SIX_EIGHT, "major")  # C on beat 4 of 6/8


def test_the_tonic_depends_on_the_mode() -> None:
    ends_on_d = tune((F, 8), (E, 8), (D, 16))
    assert ends_on_tonic(ends_on_d, FOUR_FOUR, "dorian")  # D dorian: pitch class 2
    assert not ends_on_tonic(ends_on_d, FOUR_FOUR, "major")
    ends_on_a = tune((C, 8), (B, 8), (A, 16))
    assert ends_on_tonic(ends_on_a, FOUR_FOUR, "aeolian")  # A minor
    assert not ends_on_tonic(ends_on_a, FOUR_FOUR, "dorian")


def test_a_melody_without_notes_has_no_cadence() -> None:
    assert not ends_on_tonic(tune((None, 16)), FOUR_FOUR, "major")


@pytest.mark.parametrize("triplet", [False, True])
def test_an_openings_cadence_is_read_from_the_melody_decoded_once(triplet: bool) -> None:
    # The sampler reads the cadence of a tune's openings (where it closes, its first
    # endings) from one decoding of the whole: each must read as the opening alone. The
    # melody has tonics on and off strong beats, rests after notes and (once) a triplet.
    group = ["(3", str(C), str(D), "_"] if triplet else tune((C, 2), (D, 2))
    melody = [*tune((E, 4), (C, 4), (D, 4), (C, 4)), *tune((C, 8)), *group, *tune((None, 4))]
    melody += tune((G, 6), (HIGH_C, 2), (None, 8), (C, 16))
    notes = MelodyNotes(melody)
    readings = [notes.ends_on_tonic(FOUR_FOUR, "major", end) for end in range(1, len(melody) + 2)]
    assert readings == [
        ends_on_tonic(melody[:end], FOUR_FOUR, "major") for end in range(1, len(melody) + 2)
    ]
    # Both answers occur (``readings[i]``: the first i + 1 steps): the C on beat 2 (step
    # 4) is no cadence, the C of bar 2 is; the high C at step 38 is not, the last C is.
    assert not any(readings[:16]) and readings[16] and not readings[47] and readings[48]


# --- repetition ---------------------------------------------------------------------


def test_figure_repeated_one_bar_later() -> None:
    melody = tune(*FIGURE, (G, 8), *FIGURE, (A, 8))
    assert repeats_a_figure(melody, FOUR_FOUR)


def test_figure_repeated_two_bars_later() -> None:
    melody = tune(*FIGURE, (G, 8), (HIGH_C, 16), *FIGURE, (A, 8))
    assert repeats_a_figure(melody, FOUR_FOUR)


def test_figure_repeated_three_bars_later_does_not_count() -> None:
    melody = tune(*FIGURE, (G, 8), (HIGH_C, 16), (B, 16), *FIGURE, (A, 8))
    assert not repeats_a_figure(melody, FOUR_FOUR)


def test_same_pitches_in_another_rhythm_do_not_count() -> None:
    other_rhythm = ((C, 4), (D, 2), (E, 1), (F, 1))
    melody = tune(*FIGURE, (G, 8), *other_rhythm, (A, 8))
    assert not repeats_a_figure(melody, FOUR_FOUR)


def test_same_rhythm_in_other_pitches_does_not_count() -> None:
    melody = tune(*FIGURE, (G, 8), (C, 2), (D, 2), (E, 2), (G, 2), (A, 8))
    assert not repeats_a_figure(melody, FOUR_FOUR)


def test_figure_with_a_rest_inside_repeats_with_the_rest() -> None:
    figure = ((C, 2), (None, 2), (E, 2), (G, 2), (C, 8))
    assert repeats_a_figure(tune(*figure, *figure), FOUR_FOUR)
    moved_rest = ((C, 4), (E, 2), (G, 2), (C, 8))  # the same notes, C held over the rest
    assert not repeats_a_figure(tune(*figure, *moved_rest), FOUR_FOUR)


def test_a_rest_before_the_next_note_belongs_to_the_figure() -> None:
    # C D E F then a rest; a bar later C D E F then G: the figure's rhythm differs.
    assert not repeats_a_figure(tune(*FIGURE, (None, 8), *FIGURE, (G, 8)), FOUR_FOUR)
    assert repeats_a_figure(tune(*FIGURE, (None, 8), *FIGURE, (None, 8)), FOUR_FOUR)


def test_a_repeat_cut_off_by_the_end_does_not_count() -> None:
    assert not repeats_a_figure(tune(*FIGURE, (G, 8), (C, 2), (D, 2), (E, 2)), FOUR_FOUR)


def test_the_bar_is_the_meters() -> None:
    # Repeated 12 steps later: one bar of 6/8, less than a bar of 4/4.
    melody = tune(*FIGURE, (G, 4), *FIGURE, (A, 4))
    assert repeats_a_figure(melody, SIX_EIGHT)
    assert not repeats_a_figure(melody, FOUR_FOUR)


def test_rests_alone_are_no_figure() -> None:
    assert not repeats_a_figure(tune((None, 16), (None, 16), (None, 16)), FOUR_FOUR)
    # Fewer than four notes cannot make a figure, however regular.
    assert not repeats_a_figure(tune((C, 16), (C, 16), (C, 16)), FOUR_FOUR)


# --- scale --------------------------------------------------------------------------


def test_share_in_scale_counts_onsets() -> None:
    melody = tune((C, 4), (D, 4), (F, 4), (66, 4))  # F# is outside C major
    assert share_in_scale(melody, 0, "major") == 0.75
    assert share_in_scale(melody, 2, "major") == 0.5  # D major: D and F# in, C and F out
    assert share_in_scale(melody, 2, "dorian") == 0.75  # D dorian: C's white keys
    # A long note is still one onset.
    assert share_in_scale(tune((C, 16), (61, 1)), 0, "major") == 0.5


def test_share_in_scale_of_a_melody_without_notes_is_one() -> None:
    assert share_in_scale(tune((None, 8)), 0, "major") == 1.0


# --- total variation ----------------------------------------------------------------


def test_total_variation() -> None:
    assert total_variation({"4/4": 3, "3/4": 1}, {"4/4": 6, "3/4": 2}) == 0.0
    assert total_variation({"4/4": 1}, {"6/8": 5}) == 1.0
    assert total_variation({"4/4": 1, "3/4": 1}, {"4/4": 1}) == 0.5
    assert total_variation({"a": 0.9, "b": 0.1}, {"a": 0.8, "b": 0.2}) == pytest.approx(0.1)


@pytest.mark.parametrize("counts", [{}, {"4/4": 0}, {"4/4": 2, "3/4": -1}])
def test_total_variation_refuses_counts_that_are_no_distribution(
    counts: dict[str, float],
) -> None:
    with pytest.raises(ValueError):
        total_variation(counts, {"4/4": 1})


# --- report -------------------------------------------------------------------------

# 4 bars of 4/4 in C major: the figure comes back a bar later, 5 long notes on
# strong beats, ends on C at a bar line.
MAJOR_TUNE = tune(*FIGURE, (G, 8), *FIGURE, (A, 8), (HIGH_C, 8), (B, 8), (HIGH_C, 16))
# 2 bars and an eighth of 6/8 in A minor: long notes at steps 3 (weak), 12 and
# 18; ends on A at beat 4.
MINOR_TUNE = tune((57, 3), (C, 6), (E, 3), (57, 6), (A, 6), (None, 3))
# 4 bars of 4/4 in D dorian, 4 long notes on bar lines, ends on C (not its tonic).
DORIAN_TUNE = tune((D, 16), (E, 16), (F, 16), (E, 8), (C, 4), (None, 4))


def _report() -> MusicalReport:
    return musical_report(
        [
            (MAJOR_TUNE, FOUR_FOUR, "major"),
            (MINOR_TUNE, SIX_EIGHT, "aeolian"),
            (DORIAN_TUNE, FOUR_FOUR, "dor"),
        ]
    )


def test_musical_report() -> None:
    report = _report()
    assert report.melodies == 3
    assert report.long_notes == 12
    assert report.long_notes_on_strong_beats == pytest.approx(11 / 12)
    assert report.tonic_endings == pytest.approx(2 / 3)
    assert report.repeated_figures == pytest.approx(1 / 3)
    assert report.meters == pytest.approx({"4/4": 2 / 3, "6/8": 1 / 3})
    assert report.modes == pytest.approx({"dorian": 1 / 3, "major": 1 / 3, "minor": 1 / 3})
    assert report.bars == {"min": 2.25, "median": 4.0, "max": 4.0}
    assert report.under_4_bars == pytest.approx(1 / 3)
    assert report.off_bar_endings == pytest.approx(1 / 3)
    assert json.loads(json.dumps(report.to_json())) == report.to_json()


def test_musical_report_needs_a_melody_and_valid_names() -> None:
    with pytest.raises(InvalidParameter):
        musical_report([])
    with pytest.raises(InvalidParameter):
        musical_report([(MAJOR_TUNE, FOUR_FOUR, "bluesy")])


# --- comparison ---------------------------------------------------------------------


def test_a_set_compared_with_itself() -> None:
    report = _report()
    free = compare_reports(report, report, fixed_length=False)
    assert set(free) == {"metric_alignment", "cadence", "repetition", "meters", "modes", "length"}
    assert all(free[measure]["met"] for measure in ("metric_alignment", "repetition", "cadence"))
    assert free["metric_alignment"]["ratio"] == pytest.approx(1.0)
    assert free["meters"]["distance"] == 0.0 and free["modes"]["met"]
    assert free["cadence"]["report_only"]
    assert not free["length"]["met"]  # the 6/8 tune is under 4 bars and ends off the bar line
    fixed = compare_reports(report, report, fixed_length=True)
    assert not fixed["cadence"]["met"]  # 2 of 3 tonic endings is under 70 %
    assert not fixed["cadence"]["report_only"]
    assert not fixed["length"]["met"]
    json.dumps(fixed)


def test_targets_against_the_corpus() -> None:
    corpus = dataclasses.replace(
        _report(),
        long_notes_on_strong_beats=1.0,
        repeated_figures=0.5,
        tonic_endings=0.8,
        meters={"4/4": 0.9, "3/4": 0.1},
        modes={"major": 1.0},
        under_4_bars=0.0,
        off_bar_endings=0.0,
    )
    good = dataclasses.replace(
        corpus,
        long_notes_on_strong_beats=0.9,
        repeated_figures=0.3,
        tonic_endings=0.75,
        meters={"4/4": 1.0},
        modes={"major": 0.9, "minor": 0.1},
    )
    met = compare_reports(good, corpus, fixed_length=False)
    assert all(measure["met"] for measure in met.values())
    assert compare_reports(good, corpus, fixed_length=True)["cadence"]["met"]  # 0.75 >= 0.70

    poor = dataclasses.replace(
        good,
        long_notes_on_strong_beats=0.89,
        repeated_figures=0.29,
        tonic_endings=0.69,
        meters={"4/4": 0.7, "3/4": 0.3},
        modes={"major": 0.8, "minor": 0.2},
        under_4_bars=0.1,
    )
    unmet = compare_reports(poor, corpus, fixed_length=False)
    assert not any(measure["met"] for measure in unmet.values())
    fixed = compare_reports(poor, corpus, fixed_length=True)
    assert not fixed["cadence"]["met"]
    assert fixed["length"]["met"]  # fixed length asks for whole bars only


def test_a_corpus_share_of_zero_has_no_ratio() -> None:
    corpus = dataclasses.replace(_report(), repeated_figures=0.0)
    comparison = compare_reports(_report(), corpus, fixed_length=False)
    assert comparison["repetition"]["ratio"] is None
    assert comparison["repetition"]["met"]
