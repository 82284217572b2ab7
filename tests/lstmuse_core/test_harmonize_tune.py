"""A member's tune harmonized: chords in every bar of its score, read back by music21, in the
tune's own key, meter, pickup and register."""

from __future__ import annotations

from pathlib import Path

from music21 import converter, harmony, key, meter, note, stream

from lstmuse_core.harmonize_tune import harmonize_tune
from lstmuse_core.music.corpus import music21_corpus_root, split_abc_tunes
from lstmuse_core.music.render import RenderOptions
from lstmuse_core.music.tune_file import read_tune

SCORE_ONLY = RenderOptions(audio_format="none", image="none", export="musicxml", bpm=100)


def erk5_tune(number: int) -> bytes:
    tunes = split_abc_tunes((music21_corpus_root() / "essenFolksong/erk5.abc").read_text())
    return tunes[number - 1].encode()


def test_a_harmonized_erk5_tune_has_its_chords_in_every_bar_of_its_score(tmp_path: Path) -> None:
    """erk5 #13 (3/4, D major, a quarter pickup): its MusicXML has a chord symbol in every
    full bar, none in the pickup bar, and music21 reads back the chords to_json lists,
    bar by bar and beat by beat, over the tune's own notes in D major and 3/4."""
    tune = read_tune(erk5_tune(13), "erk5-13.abc")
    harmonized = harmonize_tune(tune, tmp_path, stem="erk5-13", title="erk5 13", options=SCORE_ONLY)
    assert harmonized.files.musicxml is not None
    score = converter.parse(harmonized.files.musicxml)
    measures = list(score.parts[0].getElementsByClass(stream.Measure))
    pickup, full = measures[0], measures[1:]
    assert (pickup.number, pickup.paddingLeft, pickup.duration.quarterLength) == (0, 2.0, 1.0)
    assert not pickup.getElementsByClass(harmony.ChordSymbol)
    assert all(m.getElementsByClass(harmony.ChordSymbol) for m in full)
    read_back = [
        (m.number, int(1 + symbol.offset), symbol.figure)
        for m in measures
        for symbol in m.getElementsByClass(harmony.ChordSymbol)
    ]
    rows = harmonized.to_json()["chords"]
    assert read_back == [(row["bar"], row["beat"], row["symbol"]) for row in rows]
    assert len(rows) == len(full) == 17
    melody = score.parts[0].stripTies().flatten().getElementsByClass(note.Note)
    sounding = [n.pitch.midi for n in melody]
    written = converter.parse(erk5_tune(13).decode(), format="abc").parts[0].stripTies()
    assert sounding == [n.pitch.midi for n in written.flatten().notes]  # its own register
    assert score.recurse().getElementsByClass(key.Key).first().sharps == 2
    assert score.recurse().getElementsByClass(meter.TimeSignature).first().ratioString == "3/4"


def test_chords_are_counted_in_the_meters_beats_from_the_first_full_bar(tmp_path: Path) -> None:
    """erk5 #2 (6/8, no pickup): bar 1 is the first bar, two chords a bar at beats 1 and 2
    (dotted quarters); the JSON names the key, meter and tempo the files were made in."""
    tune = read_tune(erk5_tune(2), "erk5-2.abc")
    harmonized = harmonize_tune(tune, tmp_path, stem="erk5-2", title="erk5 2", options=SCORE_ONLY)
    summary = harmonized.to_json()
    rows = summary["chords"]
    assert rows[0]["bar"] == 1 and rows[0]["start_step"] == 0
    assert {row["beat"] for row in rows} <= {1, 2}
    for row in rows:
        assert row["start_step"] == (row["bar"] - 1) * 12 + (row["beat"] - 1) * 6
    bars = len(tune.melody) // 12
    assert {row["bar"] for row in rows} == set(range(1, bars + 1))
    assert (summary["meter"], summary["key"], summary["bpm"]) == ("6/8", tune.melody.key_name, 100)
    assert set(summary["files"]) == {"midi", "musicxml"}
