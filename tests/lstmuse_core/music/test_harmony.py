"""The harmonizer on real tunes: harmonic rhythm, cadence, scores and replies with its chords."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from lstmuse_core.compose import compose
from lstmuse_core.jobs.json_form import MalformedResult
from lstmuse_core.jobs.results import GeneratedMelody
from lstmuse_core.model.generate import load_generator_from_path
from lstmuse_core.model.train import StyleTrainingResult
from lstmuse_core.music.corpus import ReadOptions, Song, music21_corpus_root, read_file
from lstmuse_core.music.harmony import ChordSpan, harmonize
from lstmuse_core.music.harmony.chart import chord_chart
from lstmuse_core.music.harmony.evaluate import agreement_with_bach
from lstmuse_core.music.harmony.harmonizer import TABLES_PATH, chord_slots
from lstmuse_core.music.harmony.learn import count, held_out, read_chorale
from lstmuse_core.music.harmony.measures import (
    best_triad_progression,
    measure,
    tonic_progression,
)
from lstmuse_core.music.keys import Key, key_with_signature, model_key
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.render.abc import abc_tune
from lstmuse_core.music.render.musicxml import write_musicxml
from lstmuse_core.music.render.notation import music21_figure
from lstmuse_core.music.render.score import triads_as_named
from lstmuse_core.request import MelodyRequest

# The most chords a bar has in each of erk5's meters: two where the bar halves into whole
# beats of at least a dotted quarter.
CHORDS_PER_BAR = {"2/4": 1, "3/4": 1, "3/2": 1, "4/4": 2, "2/2": 2, "6/8": 2, "6/4": 2, "4/2": 2}


def _erk5() -> list[Melody]:
    """erk5's tunes as the corpus reader gives them, in G major / E dorian etc. (one sharp)."""
    results = read_file(music21_corpus_root() / "essenFolksong/erk5.abc", "erk5", ReadOptions())
    songs = [r for r in results if isinstance(r, Song)]
    assert len(songs) >= 20
    return [Melody(s.symbols, s.meter, model_key(s.mode)).in_key(_one_sharp(s.mode)) for s in songs]


def _one_sharp(mode: str) -> Key:
    """The key of ``mode`` with one sharp, so chord names need a sharp somewhere (F#m, D)."""
    return key_with_signature(1, mode)


def _bars_of(melody: Melody, chords: tuple[ChordSpan, ...]) -> list[int]:
    return sorted({c.start // melody.meter.bar_steps for c in chords})


def test_erk5_tunes_get_a_chord_per_bar_or_half_bar_and_end_on_the_tonic() -> None:
    """Every bar from the first full one starts a chord; 2/4 and 3/4 one a bar, 4/4 and 6/8
    at most two; the last chord is the tonic."""
    melodies = _erk5()
    meters = set()
    for melody in melodies:
        chords = harmonize(melody)
        bar = melody.meter.bar_steps
        slot = chord_slots(melody.meter)
        meters.add(melody.meter.text)
        assert chords
        first_bar, last_bar = chords[0].start // bar, (chords[-1].end - 1) // bar
        assert _bars_of(melody, chords) == list(range(first_bar, last_bar + 1))
        assert all(c.start % slot == 0 and c.steps <= bar for c in chords)
        assert slot == bar // CHORDS_PER_BAR[melody.meter.text]
        assert all(b.start == a.end for a, b in itertools.pairwise(chords))
        assert melody.key is not None
        assert chords[-1].root == melody.key.tonic_pitch_class
    assert meters == set(CHORDS_PER_BAR)


def _musicxml_chords(path: Path) -> list[list[str]]:
    """Each measure's chord symbols as music21 reads the file back."""
    from music21 import converter, harmony

    score: Any = converter.parse(str(path))
    return [
        [h.figure for h in measure.getElementsByClass(harmony.ChordSymbol)]
        for measure in score.parts[0].getElementsByClass("Measure")
    ]


def test_musicxml_has_a_harmony_in_every_bar_that_reads_back(tmp_path: Path) -> None:
    """A harmonized erk5 tune's MusicXML: a harmony element in every harmonized bar, the same
    chord symbols read back by music21."""
    for number, melody in enumerate(_erk5()[:6]):
        chords = harmonize(melody)
        path = write_musicxml(melody, tmp_path / f"{number}.musicxml", chords=chords)
        text = path.read_text(encoding="utf-8")
        assert text.count("<harmony") == len(chords)
        per_measure = _musicxml_chords(path)
        pickup = melody.notes[0].pitch is None and chords[0].start > 0
        harmonized = per_measure[1:] if pickup else per_measure
        assert all(harmonized), per_measure
        read_back = [figure for measure in per_measure for figure in measure]
        assert read_back == [music21_figure(c.symbol) for c in chords]


def test_flat_chords_are_the_chords_named_in_musicxml_and_on_the_score(tmp_path: Path) -> None:
    """Bb, Eb, Ebm, Bbm (flat keys): the MusicXML's chord symbols sound the chord's own
    pitch classes (music21 refused "Bb" and read "Eb7" as E7), and LilyPond names the
    triads as written (musicxml2ly's "d4:5" is a power chord, "D5" on the page)."""
    import shutil
    import subprocess

    from music21 import converter, harmony

    tune = "70 _ _ _ 74 _ _ _ 75 _ _ _ 72 _ _ _ 70 _ _ _ 73 _ _ _ 70 _ _ _ _ _ _ _"
    melody = Melody(tune.split(), "4/4", "Bb")  # a chord on every note
    spans = (
        ChordSpan(0, 4, "Bb", 10, (10, 2, 5)),
        ChordSpan(4, 4, "Gm", 7, (7, 10, 2)),
        ChordSpan(8, 4, "Eb", 3, (3, 7, 10)),
        ChordSpan(12, 4, "F7", 5, (5, 9, 0, 3)),
        ChordSpan(16, 4, "Bbm", 10, (10, 1, 5)),
        ChordSpan(20, 4, "Ebm", 3, (3, 6, 10)),
    )
    path = write_musicxml(melody, tmp_path / "flats.musicxml", chords=spans)
    read = converter.parse(str(path)).flatten().getElementsByClass(harmony.ChordSymbol)
    assert [sorted(p.pitchClass for p in c.pitches) for c in read] == [
        sorted(span.pitch_classes) for span in spans
    ]
    assert shutil.which("musicxml2ly"), "apt-get install lilypond"
    subprocess.run(["musicxml2ly", "--output=flats.ly", path.name], cwd=tmp_path, check=True)
    lily = triads_as_named((tmp_path / "flats.ly").read_text(encoding="utf-8"))
    chord_mode = lily[lily.index("\\chordmode") :].split("}")[0]
    names = [token for token in chord_mode.split()[2:] if token[0] in "abcdefg"]
    assert names == ["bes4", "g4:m", "es4", "f4:7", "bes4:m", "es4:m"]


def _abc_chords(text: str) -> list[str]:
    from music21 import converter, harmony

    score = converter.parse(text, format="abc")
    return [h.figure for h in score.flatten().getElementsByClass(harmony.ChordSymbol)]


def test_abc_has_a_chord_symbol_in_every_bar_that_reads_back() -> None:
    """A harmonized erk5 tune's ABC: a quoted chord in every harmonized bar; music21's ABC
    parser reads back the same chords and the same notes as without them."""
    from music21 import converter

    for melody in _erk5()[:6]:
        chords = harmonize(melody)
        text = abc_tune(melody, title="erk5", chords=chords)
        body = "\n".join(text.splitlines()[7:])
        bars = [bar for bar in body.replace("|]", "|").replace("\n", " ").split("|")]
        bars = [bar for bar in bars if bar.strip()]
        pickup = chords[0].start > melody.notes[0].start
        assert all('"' in bar for bar in bars[1 if pickup else 0 :]), text
        assert _abc_chords(text) == [music21_figure(c.symbol) for c in chords]
        plain = converter.parse(abc_tune(melody, title="erk5"), format="abc")
        with_chords = converter.parse(text, format="abc")
        notes = [(n.pitch.midi, n.quarterLength) for n in _notes(plain)]
        assert [(n.pitch.midi, n.quarterLength) for n in _notes(with_chords)] == notes


def _notes(score: Any) -> list[Any]:
    """The score's notes, ties joined (chord symbols are not notes)."""
    return list(score.flatten().stripTies().getElementsByClass("Note"))


def test_the_committed_tables_are_what_learn_counts() -> None:
    """The committed file holds out every 10th chorale and has learn's shape; learning on a
    few chorales gives the same tables twice (no hidden randomness) and real probabilities."""
    from lstmuse_core.music.harmony.learn import chorale_names

    document = json.loads(TABLES_PATH.read_text(encoding="utf-8"))
    names = chorale_names()
    assert document["held_out"] == held_out(names)
    assert document["learned_from"] >= 300
    chorales = [read_chorale(name) for name in names[1:4]]
    assert all(c is not None for c in chorales)
    small = count([c for c in chorales if c is not None])
    assert small == count([read_chorale(name) for name in names[1:4]])  # type: ignore[misc]
    for mode, table in document["tables"].items():
        assert table["states"] == small[mode]["states"]
        for rows in (table["transitions"], table["roles"], small[mode]["transitions"]):
            assert all(sum(row) == pytest.approx(1.0, abs=1e-3) for row in rows)
        assert table != small[mode]  # 3 chorales are not the committed 300


def _strong_chord_tone_share(melodies: list[Melody], method: Any) -> float:
    measures = [measure(m, method(m)) for m in melodies]
    return sum(m.strong_chord_tones for m in measures) / sum(m.strong_notes for m in measures)


def test_viterbi_beats_both_baselines_where_each_is_weak() -> None:
    """On erk5's tunes the HMM's chords hold more strong-beat notes than the tonic throughout
    and end more tunes V-I or IV-I than the best triad per half bar (which, fitted to each
    half bar alone and changing twice as often in 2/4 and 3/4, holds more strong-beat notes:
    bench/harmony_bench.py)."""
    melodies = _erk5()
    assert _strong_chord_tone_share(melodies, harmonize) > _strong_chord_tone_share(
        melodies, tonic_progression
    )
    assert _cadence_share(melodies, harmonize) > _cadence_share(melodies, best_triad_progression)


def _cadence_share(melodies: list[Melody], method: Any) -> float:
    return sum(measure(m, method(m)).authentic_or_plagal_ending for m in melodies) / len(melodies)


def test_viterbi_agrees_with_bach_more_than_both_baselines_on_held_out_chorales() -> None:
    """On four held-out chorales, the HMM's roots match Bach's on more beats than the tonic
    throughout and than the best triad per half bar."""
    document = json.loads(TABLES_PATH.read_text(encoding="utf-8"))
    agreement = agreement_with_bach(document["held_out"][:4])
    roots = {label: result.roots / result.beats for label, result in agreement.items()}
    assert agreement["tonic throughout"].beats >= 100
    ours = roots["HMM (Viterbi), chorale tables"]
    assert ours > roots["tonic throughout"]
    assert ours > roots["best triad per half bar"]


def test_a_chord_chart_has_eight_bars_a_line_and_both_chords_of_a_split_bar() -> None:
    """Nine bars of 4/4 after a pickup: two lines, the split bar as ``C D``, from bar 1."""
    chords = [(16, 16, "G")] + [(16 * b, 16, "D7") for b in range(2, 8)]
    chords += [(128, 8, "C"), (136, 8, "D"), (144, 16, "G")]
    assert chord_chart(chords, 16) == [
        "| G | D7 | D7 | D7 | D7 | D7 | D7 | C D |",
        "| G |",
    ]
    assert chord_chart([], 16) == []


def test_a_melody_result_carries_its_chords_through_json() -> None:
    """Chords survive the queue's JSON; a malformed chord is refused naming its place."""
    melody = GeneratedMelody(("60", "_") * 8, 1, "C major", Meter(2, 4), chords=((0, 8, "C"),))
    data = json.loads(json.dumps(melody.to_json()))
    assert GeneratedMelody.from_json(data) == melody
    data["chords"] = [[0, 8, 7]]
    with pytest.raises(MalformedResult, match=r"melody\.chords\[0\]"):
        GeneratedMelody.from_json(data)
    del data["chords"]  # a worker that sends no chords
    assert GeneratedMelody.from_json(data).chords == ()


def test_compose_with_chords_writes_them_into_the_abc_and_its_result(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """chords=yes: each composed melody has the harmonizer's chords, in its JSON and as chord
    symbols in its ABC tune; chords=no: none."""
    generator = load_generator_from_path(tiny_training.bundle.path)
    settings: dict[str, Any] = {
        "style": "tinyfolk",
        "bars": 8,
        "random_seed": 3,
        "meter": Meter(3, 4),
        "key": "G",
        "audio": "none",
        "image": "none",
        "export": "abc",
    }
    (with_chords,) = compose(
        MelodyRequest(**settings, chords=True), tmp_path / "yes", generator=generator
    )
    assert with_chords.chords == harmonize(with_chords.melody) != ()
    assert with_chords.to_json()["chords"][0][2] == with_chords.chords[0].symbol
    abc = with_chords.files.by_kind["abc"].read_text(encoding="utf-8")
    assert _abc_chords(abc) == [music21_figure(c.symbol) for c in with_chords.chords]
    (without,) = compose(MelodyRequest(**settings), tmp_path / "no", generator=generator)
    assert without.chords == () and '"' not in without.files.by_kind["abc"].read_text()
