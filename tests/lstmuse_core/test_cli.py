"""The ``lstmuse`` command line, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lstmuse_core.model.train import StyleTrainingResult
from lstmuse_core.music.meter import Meter
from lstmuse_core.tensorflow_logs import START_UP_NOTICES


def lstmuse(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lstmuse_core.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )


def test_preprocess_folder_json(erk5_folder: Path) -> None:
    """preprocess --input --json prints one JSON object with the summary fields."""
    result = lstmuse("preprocess", "--input", str(erk5_folder), "--name", "erk5", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    # Every one of erk5's 27 songs is kept: two have a bar of another length (#4, in 4/2,
    # a bar of 6/4 and one of 3/4; #26, in 6/4, one of 2/4), kept as written.
    assert (summary["songs_loaded"], summary["songs_kept"]) == (27, 27)
    assert summary["dropped"] == {}
    assert summary["split"] == {"train": 21, "validation": 3, "test": 3}
    assert summary["vocab_size"] > 10 and summary["steps"] > 1000


def test_styles_lists_the_corpora() -> None:
    """styles names every built-in style and its music21 corpus."""
    result = lstmuse("styles", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["style"]: row for row in json.loads(result.stdout)}
    assert {"folk", "irish", "fiddle", "chorale", "scottish"} <= set(rows)
    assert rows["folk"]["corpus"].startswith("essenFolksong/altdeu*.abc,ballad*.abc")


def test_styles_prints_what_each_models_reading_kept_and_dropped() -> None:
    """Under each style with a model: its songs read, kept and dropped by reason, from its
    config.json; the counts add up to the songs read (the committed bundles)."""
    models = str(Path(__file__).resolve().parents[2] / "trained_models")
    result = lstmuse("styles", "--json", "--models-dir", models)
    assert result.returncode == 0, result.stderr
    rows = {row["style"]: row for row in json.loads(result.stdout)}
    for style in ("folk", "chinese", "irish", "fiddle", "scottish", "chorale"):
        reading = rows[style]["reading"]
        assert reading["kept"] + sum(reading["dropped"].values()) == reading["read"], style
    assert rows["irish"]["reading"]["off_grid"] == "triplets-round"
    text = lstmuse("styles", "--models-dir", models).stdout
    # irish v004 read O'Neill's bar for bar (reader version 8), triplets kept.
    assert "its songs: 2,009 read, 1,980 kept (98.6%); dropped: 26 irregular bar lines" in text


def test_generate_writes_files(tiny_training: StyleTrainingResult, tmp_path: Path) -> None:
    """generate --json writes MIDI, MP3 and PNG and reports symbols, version and seed."""
    result = lstmuse(
        "generate",
        "--style",
        str(tiny_training.bundle.path),
        "--bars",
        "4",
        "--key",
        "G",
        "--meter",
        "3/4",
        "--random-seed",
        "42",
        "--count",
        "2",
        "--out",
        str(tmp_path),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["random_seed"] == 42 and report["model_version"] == "v001"
    assert [m["random_seed"] for m in report["melodies"]] == [42, 43]
    for melody in report["melodies"]:
        assert melody["steps"] == 4 * 12 and melody["meter"] == "3/4"
        assert melody["key"] in ("G major", "G dorian")  # a bare tonic: the mode is drawn
        assert {Path(p).suffix for p in melody["files"].values()} == {".mid", ".mp3", ".png"}
        assert all(Path(p).stat().st_size > 100 for p in melody["files"].values())


def test_evaluate_input_json(tiny_training: StyleTrainingResult, erk5_folder: Path) -> None:
    """evaluate --input --json prints the held-out figures for the given songs."""
    result = lstmuse(
        "evaluate", "--style", str(tiny_training.bundle.path), "--input", str(erk5_folder), "--json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["songs"] == 27 and report["bits_per_symbol"] > 0
    assert report["ngram_bits_per_symbol"] is not None


def test_evaluate_musical_prints_each_figure_beside_the_corpus_and_the_9_gram(
    tiny_training: StyleTrainingResult, capsys: pytest.CaptureFixture[str]
) -> None:
    """evaluate --musical: the 8-bar figures with the test songs' and the 9-gram's melodies'
    beside them (free length has no baseline), and the 9-gram's triplets on a line."""
    from lstmuse_core.cli import main

    path = str(tiny_training.bundle.path)
    assert main(["evaluate", "--style", path, "--musical", "--melodies", "6"]) == 0
    fixed, free = capsys.readouterr().out.split("  free length:")
    for name in ("metric_alignment", "cadence", "repetition"):
        assert re.search(rf"{name}: [0-9.]+ \(corpus [0-9.]+; 9-gram [0-9.]+\)", fixed), name
        assert re.search(rf"{name}: [0-9.]+ \(corpus [0-9.]+\); target", free), name
    assert "9-gram's melodies (bars=8): bars with a triplet in 4/4/2/2" in free


def test_user_errors_are_one_line(tiny_training: StyleTrainingResult, tmp_path: Path) -> None:
    """A bad value exits with status 2 and one line naming parameter, value and range."""
    result = lstmuse(
        "generate",
        "--style",
        str(tiny_training.bundle.path),
        "--temperature",
        "9",
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "lstmuse: temperature=9.0 is not allowed: a number from 0.1 to 2"
    )
    bad_seed = lstmuse(
        "generate",
        "--style",
        str(tiny_training.bundle.path),
        "--seed-melody",
        "C4 D4 Q4",
        "--out",
        str(tmp_path),
    )
    assert bad_seed.returncode == 2 and "token 3" in bad_seed.stderr
    unknown = lstmuse("generate", "--style", "nosuchstyle", "--out", str(tmp_path))
    assert unknown.returncode == 2 and "style='nosuchstyle'" in unknown.stderr


def test_train_refuses_zero_epochs_before_any_work(erk5_folder: Path, tmp_path: Path) -> None:
    """train --epochs 0 exits with status 2 naming the option; no bundle is written."""
    models = tmp_path / "models"
    result = lstmuse(
        "train",
        "--style",
        "tinyzero",
        "--preset",
        "tiny",
        "--epochs",
        "0",
        "--input",
        str(erk5_folder),
        "--models-dir",
        str(models),
        "--json",
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("lstmuse: max_epochs=0 is not allowed")
    assert not models.exists()


def test_style_paths_are_bundle_folders_only_in_the_cli(tmp_path: Path) -> None:
    """--style PATH must be a bundle folder; any other value passes the style name check."""
    not_bundle = lstmuse("evaluate", "--style", str(tmp_path), "--json")
    assert not_bundle.returncode == 2 and "is not a model bundle folder" in not_bundle.stderr
    bad_name = lstmuse("evaluate", "--style", "tiny folk", "--json")
    assert bad_name.returncode == 2 and "style='tiny folk'" in bad_name.stderr


def test_generate_never_overwrites_an_earlier_run(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """--random-seed 12 at two temperatures, then again: three runs, three sets of files."""
    base = ["generate", "--style", str(tiny_training.bundle.path), "--bars", "1"]
    base += ["--random-seed", "12", "--audio", "none", "--image", "none", "--out", str(tmp_path)]
    names = []
    for temperature in ("0.8", "1.2", "0.8"):
        result = lstmuse(*base, "--temperature", temperature, "--json")
        assert result.returncode == 0, result.stderr
        (melody,) = json.loads(result.stdout)["melodies"]
        names.append(Path(melody["files"]["midi"]).name)
    assert names[0].startswith("tinyfolk-12-t0_8-") and names[1].startswith("tinyfolk-12-t1_2-")
    assert len(set(names)) == 3
    assert sorted(p.name for p in tmp_path.glob("*.mid")) == sorted(names)


def test_evaluate_prints_no_tensorflow_lines(tiny_training: StyleTrainingResult) -> None:
    """evaluate (which imports TensorFlow; generate never does) prints no TensorFlow start-up
    lines; TF_CPP_MIN_LOG_LEVEL=0 shows them again."""
    args = ["evaluate", "--style", str(tiny_training.bundle.path), "--json"]
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    quiet = lstmuse(*args, env=env)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    loud = lstmuse(*args, env={**env, "TF_CPP_MIN_LOG_LEVEL": "0"})
    assert loud.returncode == 0, loud.stderr
    # Which notices TensorFlow prints depends on the CPU (oneDNN's only on some): the
    # absl line always comes, and at least one more of the known ones.
    assert "absl::InitializeLog()" in loud.stderr
    assert sum(notice in loud.stderr for notice in START_UP_NOTICES) >= 2


def test_out_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    """--out naming a file, or a folder under a file, exits 2 with one line, no traceback."""
    (tmp_path / "notes.txt").write_text("not a folder")
    for out, reason in (("notes.txt", "it is a file"), ("notes.txt/new", "Not a directory")):
        result = lstmuse("generate", "--bars", "1", "--out", out, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.strip() == (
            f"lstmuse: out='{out}' is not allowed: a folder that can be written ({reason})"
        )


def test_style_names_are_case_insensitive(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """--style TinyFolk finds the style tinyfolk."""
    models = tiny_training.bundle.path.parent.parent
    result = lstmuse(
        "generate", "--style", "TinyFolk", "--models-dir", str(models), "--bars", "1",
        "--audio", "none", "--image", "none", "--out", str(tmp_path), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["style"] == "tinyfolk"


def test_instruments_lists_the_names_instrument_errors_point_to(tmp_path: Path) -> None:
    """instruments lists 128 GM programs with aliases; a bad --instrument points to it."""
    listing = lstmuse("instruments", "--json")
    assert listing.returncode == 0, listing.stderr
    rows = json.loads(listing.stdout)
    assert [row["program"] for row in rows] == list(range(128))
    assert rows[73]["name"] == "Flute" and "flute" in rows[73]["aliases"]
    assert rows[40]["aliases"] == ["violin", "fiddle"]
    kazoo = lstmuse("generate", "--instrument", "kazoo", "--out", str(tmp_path))
    assert kazoo.returncode == 2 and len(kazoo.stderr.strip().splitlines()) == 1
    assert "instrument='kazoo'" in kazoo.stderr and "`lstmuse instruments`" in kazoo.stderr


def test_bars_count_the_music_after_the_seed(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """--bars 2 after a 2-bar seed gives 4 bars; help and the printed line say so."""
    help_text = lstmuse("generate", "--help").stdout
    assert "after the seed melody" in " ".join(help_text.split())
    result = lstmuse(
        "generate", "--style", str(tiny_training.bundle.path), "--bars", "2",
        "--seed-melody", "C4:4 D4:4", "--random-seed", "7",
        "--audio", "none", "--image", "none", "--out", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # A style without a dance table plays a song's walking quarter of 100: 64 16ths, 10 s.
    assert "seed 7: 2 bars of 4/4 after a 2-bar seed, 10 s at 100 bpm in" in result.stdout


def test_a_seed_midi_file_brings_key_and_tempo_and_the_options_shape_the_melody(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """A D major file at 90 bpm, one bar kept, on flute an octave up, with a MusicXML score."""
    import mido
    from music21 import converter

    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack(
        [
            mido.MetaMessage("key_signature", key="D"),
            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(90)),
        ]
    )
    for pitch in (62, 64, 66, 67, 69, 71):  # D4 E4 F#4 G4, then A4 B4 in bar 2
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=480))
    midi.tracks.append(track)
    midi.save(str(tmp_path / "start.mid"))
    result = lstmuse(
        "generate", "--style", str(tiny_training.bundle.path), "--seed-midi",
        str(tmp_path / "start.mid"), "--seed-bars", "1", "--bars", "2", "--meter", "4/4",
        "--instrument", "flute", "--octave", "1", "--score-format", "musicxml",
        "--random-seed", "3", "--audio", "none", "--image", "none", "--out", str(tmp_path),
        "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["key"], report["bpm"]) == ("D major", 90.0)
    (melody,) = report["melodies"]
    symbols = melody["symbols"].split()
    assert len(symbols) == 16 + 2 * 16  # one bar of seed, two generated
    seed_pitches = [int(s) for s in symbols[:16] if s.isdigit()]
    assert [p % 12 for p in seed_pitches] == [2, 4, 6, 7]  # only the first bar, still in D
    assert min(int(s) for s in symbols if s.isdigit()) >= 72  # flute from C4, an octave up
    score = converter.parse(melody["files"]["musicxml"]).flatten()
    assert score.getElementsByClass("KeySignature")[0].sharps == 2
    assert [n.pitch.midi for n in score.stripTies().notes][:4] == seed_pitches


def test_score_format_abc_writes_the_tune(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """--score-format abc writes <stem>.abc, which music21 reads back to the melody's notes."""
    from music21 import converter

    result = lstmuse(
        "generate", "--style", str(tiny_training.bundle.path), "--bars", "2", "--meter", "4/4",
        "--key", "D", "--score-format", "abc", "--random-seed", "5", "--audio", "none",
        "--image", "none", "--out", str(tmp_path), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (melody,) = json.loads(result.stdout)["melodies"]
    assert {Path(p).suffix for p in melody["files"].values()} == {".mid", ".abc"}
    text = Path(melody["files"]["abc"]).read_text(encoding="utf-8")
    assert "M:4/4" in text.splitlines() and "|]" in text
    pitches = [int(s) for s in melody["symbols"].split() if s.isdigit()]
    score = converter.parse(text, format="abc").flatten()
    assert [n.pitch.midi for n in score.stripTies().notes] == pitches


def test_every_generate_flag_users_type_still_parses_to_the_request() -> None:
    """The README's flag spellings (and the table's aliases) build the request chat would."""
    from lstmuse_core.cli import build_parser, melody_request
    from lstmuse_core.request import MelodyRequest

    spellings = [
        "--temperature", "1.1", "--top-k", "8", "--top-p", "0.9", "--seed-melody", "C4 D4",
        "--seed-bars", "1", "--bars", "4", "--key", "E", "--bpm", "110", "--instrument",
        "flute", "--octave", "-1", "--meter", "6/8", "--mode", "Dorian", "--count", "2",
        "--random-seed", "7", "--audio", "ogg", "--image", "score", "--score-format", "musicxml",
    ]  # fmt: skip
    args = build_parser().parse_args(["generate", "--style", "irish", *spellings])
    typed = {
        "style": "irish", "temp": "1.1", "top_k": "8", "top_p": "0.9", "seed": "C4 D4",
        "seed_bars": "1", "bars": "4", "key": "E", "bpm": "110", "instrument": "flute",
        "octave": "-1", "meter": "6/8", "mode": "Dorian", "count": "2", "random_seed": "7",
        "audio": "ogg", "image": "score", "export": "musicxml",
    }  # fmt: skip
    expected = MelodyRequest.from_options(typed)
    assert melody_request(args, args.style) == expected
    aliases = ["--time-signature", "6/8", "-t", "1.1", "-n", "2", "--tempo", "110", "--length", "4"]
    again = build_parser().parse_args(["generate", *aliases])
    assert melody_request(again, "folk") == MelodyRequest(
        meter=Meter(6, 8), temperature=1.1, count=2, bpm=110, bars=4
    )


def test_generate_help_states_the_request_defaults_and_ranges() -> None:
    """--steps says the request's default (512) and range; --bars and --steps exclude each other."""
    from lstmuse_core.limits import DEFAULT_STEPS, MAX_TOTAL_STEPS

    help_text = " ".join(lstmuse("generate", "--help").stdout.split())
    assert f"(1-{MAX_TOTAL_STEPS}; default: {DEFAULT_STEPS})" in help_text
    assert "--top-p TOP_P, --topp TOP_P" in help_text and "(0.01-1; default: 1)" in help_text
    both = lstmuse("generate", "--bars", "2", "--steps", "64")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


def _erk5_tune_file(folder: Path, number: int) -> Path:
    from lstmuse_core.music.corpus import music21_corpus_root, split_abc_tunes

    tunes = split_abc_tunes((music21_corpus_root() / "essenFolksong/erk5.abc").read_text())
    path = folder / f"erk5-{number}.abc"
    path.write_text(tunes[number - 1])
    return path


def test_harmonize_json_lists_every_chord_by_bar_beat_and_symbol(tmp_path: Path) -> None:
    """harmonize --json on erk5 #13 (a pickup, 3/4, D major, no tempo): a chord in each of
    its 17 full bars on beat 1, a song's tempo for 3/4, the files asked for, with a backing."""
    import pretty_midi
    from music21 import converter, harmony

    tune = _erk5_tune_file(tmp_path, 13)
    out = tmp_path / "out"
    result = lstmuse(
        "harmonize", str(tune), "--out", str(out), "--json", "--audio", "none",
        "--image", "none", "--score-format", "musicxml", "--backing", "guitar",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["key"], summary["meter"], summary["bpm"]) == ("D major", "3/4", 100.0)
    assert summary["part"] == "the only part"
    assert [(row["bar"], row["beat"]) for row in summary["chords"]] == [
        (bar, 1) for bar in range(1, 18)
    ]
    score = converter.parse(summary["files"]["musicxml"])
    symbols = [s.figure for s in score.recurse().getElementsByClass(harmony.ChordSymbol)]
    assert symbols == [row["symbol"] for row in summary["chords"]]
    tracks = pretty_midi.PrettyMIDI(summary["files"]["midi"]).instruments
    assert len(tracks) == 2  # the tune and its guitar backing


def test_harmonize_refuses_a_file_without_a_melody_in_one_line(tmp_path: Path) -> None:
    """A drums-only MIDI file: exit status 2 and one line naming the parameter and the file."""
    import pretty_midi

    midi = pretty_midi.PrettyMIDI()
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    drums.notes.append(pretty_midi.Note(100, 36, 0.0, 0.5))
    midi.instruments.append(drums)
    midi.write(str(tmp_path / "drums.mid"))
    result = lstmuse("harmonize", str(tmp_path / "drums.mid"), "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "lstmuse: tune='drums.mid' is not allowed: a standard MIDI file (.mid) "
        "(the file has no pitched (non-drum) notes)"
    ]


def test_a_seed_abc_file_starts_the_melody_in_its_key(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """``--seed-file tune.abc``: an ABC tune is a seed as a MIDI file is, in its K: (E
    dorian: the F is sharp) and Q: (a quarter at 90); --bpm would win."""
    (tmp_path / "start.abc").write_text(
        "X:1\nT:Start\nM:4/4\nL:1/4\nQ:1/4=90\nK:Edor\nE F G A|\n", encoding="utf-8"
    )
    result = lstmuse(
        "generate", "--style", str(tiny_training.bundle.path), "--seed-file",
        str(tmp_path / "start.abc"), "--bars", "1", "--meter", "4/4", "--random-seed", "3",
        "--audio", "none", "--image", "none", "--out", str(tmp_path), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["key"], report["bpm"]) == ("E dorian", 90.0)
    symbols = report["melodies"][0]["symbols"].split()
    assert [int(s) for s in symbols[:16] if s.isdigit()] == [64, 66, 67, 69]
