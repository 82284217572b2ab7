"""Triplets (issue 21): the 16th grid with a triplet marker, read, learnt, sampled, rendered."""

from __future__ import annotations

import math
import shutil
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pretty_midi
import pytest
from music21 import converter

from lstmuse_core.music.corpus import STYLES, ReadOptions, Song, read_abc_tunes, split_abc_tunes
from lstmuse_core.music.encoding import (
    TRIPLET,
    NoteEvent,
    Vocabulary,
    decode_symbols,
    encode_notes,
    round_ornaments,
)
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.midi import write_midi
from lstmuse_core.music.musicality import triplet_bars
from lstmuse_core.music.render.abc import abc_tune
from lstmuse_core.music.render.musicxml import write_musicxml

# A 4/4 bar: a dotted 8th and a 16th, a triplet of 8ths (G F E), a quarter, two 8ths.
BAR = ["72", "_", "_", "71", "(3", "67", "65", "64", "65", "_", "_", "_", "64", "_", "65", "_"]
# A second bar: a quarter-triplet and an 8th-triplet, a tie into a group, a rest in one.
BAR_2 = ["(3", "60", "_", "64", "65", "_", "_", "_", "67", "_", "_", "(3", "_", "64", "r", "_"]


def test_triplet_notes_decode_to_exact_thirds_and_encode_back() -> None:
    notes = decode_symbols(BAR + BAR_2)
    thirds = [(n.pitch, n.start, n.duration) for n in notes if n.in_tuplet]
    third = Fraction(4, 3)
    assert thirds[:3] == [(67, 4, third), (65, 4 + third, third), (64, 4 + 2 * third, third)]
    assert (60, 16, 2 * third) in thirds  # the quarter-note triplet: two slots
    assert (67, 24, 3 + third) in thirds  # held into the first slot of the group at 27
    assert (64, 27 + third, third) in thirds
    assert (None, 27 + 2 * third, 5 - 2 * third) in thirds  # a rest in the last slot
    assert encode_notes(notes) == BAR + BAR_2


def test_a_marker_without_its_slots_reads_as_a_hold() -> None:
    notes = decode_symbols(["60", "_", "_", TRIPLET, "62"])
    assert notes == [NoteEvent(60, 0, 4), NoteEvent(62, 4, 1)]


def test_onsets_off_the_grid_in_no_triplet_of_8ths_are_refused() -> None:
    with pytest.raises(ValueError, match="no triplet"):
        # A 16th-note triplet (three in an 8th): 2/3 of a step each.
        sixteenth_triplet = NoteEvent(60, 0, Fraction(2, 3))
        encode_notes([sixteenth_triplet, NoteEvent(62, Fraction(2, 3), Fraction(10, 3))])


def test_ornaments_no_marker_holds_are_rounded_and_triplets_of_8ths_kept() -> None:
    third = Fraction(2, 3)
    notes = [
        # A 16th-note triplet in an 8th (2 steps): the first and the last stay, as 16ths.
        NoteEvent(60, 0, third),
        NoteEvent(62, third, third),
        NoteEvent(64, 2 * third, third),
        # A dotted 16th and a 32nd: the 32nd gives its time to the note before.
        NoteEvent(65, 2, Fraction(3, 2)),
        NoteEvent(67, Fraction(7, 2), Fraction(1, 2)),
        # A triplet of 8ths (a quarter, 4 steps): kept exactly.
        NoteEvent(69, 4, Fraction(4, 3)),
        NoteEvent(71, 4 + Fraction(4, 3), Fraction(4, 3)),
        NoteEvent(72, 4 + Fraction(8, 3), Fraction(4, 3)),
    ]
    rounded = round_ornaments(notes)
    assert rounded[:3] == [NoteEvent(60, 0, 1), NoteEvent(64, 1, 1), NoteEvent(65, 2, 2)]
    assert rounded[3:] == notes[5:]
    assert encode_notes(rounded) == ["60", "64", "65", "_", TRIPLET, "69", "71", "72"]


def test_a_real_oneill_tune_with_a_16th_note_triplet_reads_it_as_two_16ths() -> None:
    """O'Neill's #92, "The Burnt Old Man": bar 12 ends ``B2 ((3A/B/c/)``, a 16th-note
    triplet leading to the next bar's d, which no marker holds: "triplets" drops the tune,
    "triplets-round" reads the triplet's first and last notes as 16ths (A and c, in C's
    scale G and B)."""
    path = STYLES["irish"].root / "0051-0100.abc"
    tune = split_abc_tunes(path.read_text(encoding="utf-8"))[41]
    assert "T: THE BURNT OLD MAN" in tune
    [dropped] = read_abc_tunes([tune], "oneill", ReadOptions(off_grid="triplets"))
    assert getattr(dropped, "reason", None) == "off-grid duration"
    [song] = read_abc_tunes([tune], "oneill", ReadOptions(off_grid="triplets-round"))
    assert isinstance(song, Song)
    assert song.transposition == -2 and len(song.symbols) == 16 * 12  # K:D, 16 bars of 6/8
    bar_12 = song.symbols[11 * 12 : 12 * 12]
    assert bar_12 == ["76", "_", "72", "_", "69", "_", "69", "_", "_", "_", "67", "71"]
    assert song.symbols[12 * 12] == "72"  # the d it leads to


def test_the_marker_sorts_after_every_pitch_so_old_vocabularies_keep_their_indices() -> None:
    old = Vocabulary.from_songs([["60", "_", "62"]])
    new = Vocabulary.from_songs([["60", "_", "62", TRIPLET, "64", "65", "67"]])
    assert new.symbols[-1] == TRIPLET
    assert [new.index[s] for s in old.symbols] == list(range(len(old)))


def _oneill_tunes(count: int) -> list[str]:
    path = STYLES["irish"].root / "0001-0050.abc"
    return split_abc_tunes(path.read_text(encoding="utf-8"))[:count]


def test_a_real_oneill_triplet_tune_keeps_its_triplets() -> None:
    tune = _oneill_tunes(2)[1]  # O'Neill's #2, in 2/4, with two (3 groups
    dropped = read_abc_tunes([tune], "oneill", ReadOptions())
    assert [getattr(r, "reason", None) for r in dropped] == ["off-grid duration"]
    [song] = read_abc_tunes([tune], "oneill", ReadOptions(off_grid="triplets"))
    assert isinstance(song, Song)
    written = converter.parse(tune, format="abc")
    tuplet_notes = [n for n in written.flatten().notes if n.duration.tuplets]
    decoded = [n for n in decode_symbols(song.symbols) if n.in_tuplet and n.pitch is not None]
    assert song.symbols.count(TRIPLET) == len(tuplet_notes) // 3 == 2
    # The same notes, a third of a quarter each, in C (the tune is moved by its shift).
    assert [n.pitch for n in decoded] == [n.pitch.midi + song.transposition for n in tuplet_notes]
    assert {n.duration for n in decoded} == {Fraction(4, 3)}


def test_a_triplet_renders_to_midi_musicxml_and_abc_exactly(tmp_path: Path) -> None:
    melody = Melody(BAR + BAR_2, "4/4", "G")
    midi = pretty_midi.PrettyMIDI(str(write_midi(melody, tmp_path / "t.mid", bpm=90)))
    ticks = [(midi.time_to_tick(n.start), n.pitch) for n in midi.instruments[0].notes]
    per_quarter = midi.resolution
    assert ticks[2:5] == [
        (per_quarter, 67),
        (per_quarter + per_quarter // 3, 65),
        (per_quarter + 2 * per_quarter // 3, 64),
    ]
    write_musicxml(melody, tmp_path / "t.musicxml", title="triplets")
    read = converter.parse(tmp_path / "t.musicxml")
    bracketed = [n for n in read.recurse().notesAndRests if n.duration.tuplets]
    assert [n.duration.tuplets[0].type for n in bracketed[:3]] == ["start", None, "stop"]
    assert all(n.duration.tuplets[0].bracket is not False for n in bracketed[:3])
    assert "<tuplet " in (tmp_path / "t.musicxml").read_text()
    text = abc_tune(melody, title="triplets")
    assert "(3" in text
    from_abc = converter.parse(text, format="abc").stripTies().flatten().notes
    assert [(Fraction(n.offset), n.pitch.midi) for n in from_abc] == [
        (Fraction(n.start, 4), n.pitch) for n in melody.notes if n.pitch is not None
    ]


def test_triplet_bars_counts_bars_with_a_group_in_reel_meters() -> None:
    from lstmuse_core.music.meter import Meter

    entries = [(BAR + BAR_2 + BAR, Meter(4, 4), "major"), (BAR, Meter(6, 8), "major")]
    counted = triplet_bars(entries)
    assert counted == {"melodies": 1, "bars": 3, "bars_with_triplets": 3, "share": 1.0}


def test_a_tiny_model_learns_oneills_triplets_and_samples_them(tmp_path: Path) -> None:
    from lstmuse_core.model.generate import SamplingControls, load_generator
    from lstmuse_core.model.train import train_style
    from lstmuse_core.music.meter import Meter

    folder = tmp_path / "oneill"
    folder.mkdir()
    for name in ("0001-0050.abc", "0051-0100.abc", "0101-0200.abc"):
        shutil.copy(STYLES["irish"].root / name, folder / name)
    result = train_style(
        "tinyreels",
        preset_name="tiny",
        max_epochs=6,
        input_dir=folder,
        models_dir=tmp_path / "models",
        cache_dir=tmp_path / "cache",
        read_options=ReadOptions(off_grid="triplets"),
        seed=1,
    )
    assert TRIPLET in result.bundle.vocabulary
    generator = load_generator("tinyreels", models_dir=tmp_path / "models")
    plans = [generator.plan(seed, meter=Meter(4, 4), bars=8) for seed in range(40)]
    melodies = generator.sample_plans(plans, SamplingControls(1.0))
    counted = triplet_bars([(m.symbols, m.meter, m.mode) for m in melodies])
    assert counted["bars_with_triplets"] > 0
    with_triplet = next(m for m in melodies if TRIPLET in m.symbols)
    melody = Melody(with_triplet.symbols, with_triplet.meter)
    notes = [n for n in melody.notes if n.in_tuplet and n.pitch is not None]
    midi = pretty_midi.PrettyMIDI(str(write_midi(melody, tmp_path / "g.mid", bpm=120)))
    starts = {round(n.start * 12, 9) for n in midi.instruments[0].notes}  # 12 per 16th at 120
    # Each triplet note starts on its exact third of a 16th-note step (1/8 s a step at 120).
    assert {round(float(n.start) * 0.125 * 12, 9) for n in notes} <= starts

    # Its triplet calibration, measured at training on the training songs: the offset
    # moves the uncalibrated rate towards theirs, the one kept is the measured one nearest
    # it, and replies on other seeds than the calibration's move the same way with it.
    calibration = result.bundle.config_json["triplet_calibration"]
    assert result.bundle.triplet_bias == calibration["triplet_bias"]
    target, rounds = calibration["target"], calibration["rounds"]
    assert target > 0 and rounds[0]["bias"] == 0.0
    bias = calibration["triplet_bias"]
    assert bias == 0.0 or (bias > 0) == (target > rounds[0]["share"])
    nearest = min(rounds, key=lambda r: abs(math.log(max(r["share"], 1e-9) / target)))
    assert (bias, calibration["reached"]) == (nearest["bias"], nearest["share"])
    controls = SamplingControls(generator.default_temperature)
    plans = [
        generator.plan(seed, meter=meter, bars=8)
        for seed in range(500, 600)
        for meter in (Meter(4, 4), Meter(2, 2))
        if meter.text in calibration["meters"]
    ]

    def share(bias: float | None) -> float:
        replies = generator.sample_plans(plans, replace(controls, triplet_bias=bias), 6)
        return float(triplet_bars([(m.symbols, m.meter, m.mode) for m in replies])["share"])

    calibrated, uncalibrated = share(None), share(0.0)
    print(f"target {target:.3f}: calibrated {calibrated:.3f}, uncalibrated {uncalibrated:.3f}")
    if bias != 0.0:
        assert (calibrated > uncalibrated) == (bias > 0)


def test_train_keeps_triplets_when_told_and_a_retrain_reads_as_the_active_version(
    tmp_path: Path,
) -> None:
    """``lstmuse train --off-grid triplets`` trains a vocabulary with the marker; a retrain
    not told how to read (``!retrain``, ``lstmuse train`` unflagged) reads as the active
    version was read, so it keeps triplets; ``--off-grid drop`` drops them again."""
    import json
    import os
    import subprocess
    import sys

    from lstmuse_core.model.bundle import resolve_bundle
    from lstmuse_core.model.train import retrain_reading, train_style

    folder, models, cache = tmp_path / "oneill", tmp_path / "models", tmp_path / "cache"
    folder.mkdir()
    shutil.copy(STYLES["irish"].root / "0001-0050.abc", folder / "0001-0050.abc")
    assert retrain_reading("tinyreels", models, built_in=False) is None  # no version yet

    def cli_train(*flags: str) -> dict[str, object]:
        command = [sys.executable, "-m", "lstmuse_core.cli", "train", "--style", "tinyreels"]
        command += ["--preset", "tiny", "--epochs", "1", "--input", str(folder), "--json"]
        env = {**os.environ, "LSTMUSE_CACHE_DIR": str(cache)}
        done = subprocess.run(
            [*command, "--models-dir", str(models), *flags],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    assert cli_train("--off-grid", "triplets")["version"] == "v001"
    first = resolve_bundle("tinyreels", models)
    assert TRIPLET in first.vocabulary and first.config_json["dataset"]["off_grid"] == "triplets"
    assert retrain_reading("tinyreels", models, built_in=False) == ReadOptions(off_grid="triplets")

    again = train_style(
        "tinyreels",
        preset_name="tiny",
        max_epochs=1,
        input_dir=folder,
        models_dir=models,
        cache_dir=cache,
    )
    assert TRIPLET in again.bundle.vocabulary
    assert again.bundle.config_json["dataset"]["off_grid"] == "triplets"

    assert cli_train("--off-grid", "drop", "--force")["version"] == "v003"
    dropped = resolve_bundle("tinyreels", models, "v003")
    assert TRIPLET not in dropped.vocabulary
    assert dropped.config_json["dataset"]["off_grid"] == "drop"
    assert dropped.config_json["dataset"]["songs_kept"] < first.config_json["dataset"]["songs_kept"]
