"""Reading real corpus files and hand-made ones into key-normalised melodies."""

from __future__ import annotations

from pathlib import Path

import pytest

from lstmuse_core.music.corpus import (
    STYLES,
    DroppedSong,
    ReadOptions,
    Song,
    find_music_files,
    music21_corpus_root,
    read_abc_tunes,
    read_file,
    split_abc_tunes,
    transposition_to_c,
)
from lstmuse_core.music.meter import Meter

C_MAJOR_PITCH_CLASSES = {0, 2, 4, 5, 7, 9, 11}


def _abc(tmp_path: Path, body: str, name: str = "tune.abc") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def _tune(results: list, title: str) -> Song:
    return next(r for r in results if isinstance(r, Song) and r.title == title)


def test_tied_notes_are_one_note(tmp_path: Path) -> None:
    """A tie across a bar line gives one onset and holds (the seed split it).

    The opening rest stays: step 0 is the bar line, so the note starts on beat 3.
    """
    path = _abc(tmp_path, "X:1\nM:4/4\nL:1/4\nK:C\nz2 C2- | C2 D2 |\n")
    (song,) = read_file(path, "tune.abc", ReadOptions())
    assert isinstance(song, Song)
    assert song.symbols == ["r"] + ["_"] * 7 + ["60"] + ["_"] * 15 + ["62"] + ["_"] * 7


def test_pickup_bars_line_up_and_the_last_bar_is_filled(tmp_path: Path) -> None:
    """A one-beat pickup in 3/4: a two-beat rest before it; the last note held to its bar line."""
    path = _abc(tmp_path, "X:1\nM:3/4\nL:1/4\nK:G\nD | G A B | d2 B | G2 |]\n")
    (song,) = read_file(path, "tune.abc", ReadOptions())
    assert isinstance(song, Song)
    assert (song.meter, song.mode, song.pickup) == (Meter(3, 4), "major", 8)
    assert song.symbols[:9] == ["r"] + ["_"] * 7 + ["67"]  # D moved to C's scale: G
    assert song.symbols[12] == "72" and len(song.symbols) == 4 * 12  # G on the downbeat
    assert song.symbols[-12:] == ["72"] + ["_"] * 11  # the 2-beat last bar held to its end


def test_a_song_keeps_its_meter_through_the_cache_json() -> None:
    """A cached song stores its meter as text under "meter" and reads back the same Meter."""
    song = Song("tune.abc#1", "Tune", ["67", "_", "r"], Meter(6, 8), 1, -7, "dorian", 2)
    data = song.to_json()
    assert data["meter"] == "6/8" and "time_signature" not in data
    assert Song.from_json(data) == song


@pytest.mark.parametrize(
    ("tune", "reason"),
    [
        ("M:4/4\nL:1/16\nK:C\nC4D4E4F4 | G8A8B8c8d8 | A16 |]", "overfull bar"),
        ("M:2/4\nL:1/16\nK:C\nC4D4 | E4F4G8G | A8 |]", "unsupported meter"),
        ("M:9/4\nL:1/4\nK:C\nC D E F G A B c d |]", "unsupported meter"),
    ],
)
def test_songs_whose_bars_cannot_be_trusted_are_dropped(
    tmp_path: Path, tune: str, reason: str
) -> None:
    """Bars too long for the network's position input (one of 40 16ths, a 9/4 meter) and a
    bar no meter names (17 16ths) are named drops."""
    (dropped,) = read_file(_abc(tmp_path, f"X:1\n{tune}\n"), "tune.abc", ReadOptions())
    assert isinstance(dropped, DroppedSong) and dropped.reason == reason


@pytest.mark.parametrize(
    ("tune", "meter", "bars"),
    [
        # A 2/4 bar of 12 16ths (music21 writes it as 2/4 plus a 1/4 of overflow): one bar.
        ("M:2/4\nL:1/8\nK:C\nCD | E2 F2 | GA Bc d2 | c4 |]", "2/4", (8, 8, 12, 8)),
        # A short bar inside a line, which the next cannot complete: a bar of its own.
        ("M:3/4\nL:1/4\nK:C\nC D E | F G | A B c | d e f |]", "3/4", (12, 8, 12, 12)),
        # A bar of 9 16ths in 2/4: 9/16.
        ("M:2/4\nL:1/16\nK:C\nC4D4 | E4F4G | A8 |]", "2/4", (8, 9, 8)),
    ],
)
def test_a_song_whose_bars_change_length_keeps_each_bar_as_written(
    tmp_path: Path, tune: str, meter: str, bars: tuple[int, ...]
) -> None:
    """Every written bar line stays a bar line; the song's meter is that of most bars."""
    (song,) = read_file(_abc(tmp_path, f"X:1\n{tune}\n"), "tune.abc", ReadOptions())
    assert isinstance(song, Song), song
    assert song.meter == Meter.parse(meter) and song.bars == bars
    assert sum(bars) == len(song.symbols)
    assert Song.from_json(song.to_json()) == song


def test_real_esac_songs_that_change_meter_read_bar_for_bar() -> None:
    """han1 #24 (2/4, a bar of 3/4 at the word's long note), han1 #79 (a 2/4 bar of 12
    16ths) and altdeu10 #139 (3/4, turning to 4/4 after a phrase's pickup): kept, with
    every bar where it was written, and the meters their bars are in."""
    root = music21_corpus_root() / "essenFolksong"
    found = {}
    for name, number in (("han1.abc", 24), ("han1.abc", 79), ("altdeu10.abc", 139)):
        tunes = split_abc_tunes((root / name).read_text(encoding="latin-1"))
        (song,) = read_abc_tunes([tunes[number - 1]], name, ReadOptions(), first_number=number)
        assert isinstance(song, Song), song
        found[song.song_id] = song
    chinese = found["han1.abc#24"]
    assert chinese.meter == Meter(2, 4) and chinese.bars[:4] == (8, 8, 12, 8)
    assert set(chinese.bars) == {8, 12}
    assert found["han1.abc#79"].bars.count(12) == 1
    german = found["altdeu10.abc#139"]
    # Four bars of 3/4 and a pickup; then 4/4 (``C | FCFG | ...``): half its bars each.
    assert german.meter == Meter(3, 4) and german.bars[:7] == (12, 12, 12, 12, 12, 4, 16)
    assert set(german.bars) == {4, 12, 16} and german.bars.count(16) == 7
    # Its notes stay on its bar lines: the pickup F, then G on the downbeat of bar 2.
    assert german.symbols[8] == "60" and german.symbols[12] == "62"  # F pickup, G (in C)


def test_triplets_dropped_or_quantised(tmp_path: Path) -> None:
    """Off-grid durations: dropped with a reason, or quantised to the 16th grid."""
    path = _abc(tmp_path, "X:1\nM:2/4\nL:1/8\nK:C\n(3CDE F2 | G4 |\n")
    (dropped,) = read_file(path, "tune.abc", ReadOptions(off_grid="drop"))
    assert isinstance(dropped, DroppedSong) and dropped.reason == "off-grid duration"
    (song,) = read_file(path, "tune.abc", ReadOptions(off_grid="quantize"))
    assert isinstance(song, Song)
    assert song.symbols[:8] == ["60", "62", "_", "64", "65", "_", "_", "_"]
    assert len(song.symbols) == 16


def test_chords_and_voices_give_the_top_line(tmp_path: Path) -> None:
    """Polyphony becomes one line: the highest note sounding at each onset."""
    path = _abc(tmp_path, "X:1\nM:2/4\nL:1/4\nK:C\n[CEG] [DF] | c2 |\n")
    (song,) = read_file(path, "tune.abc", ReadOptions())
    assert isinstance(song, Song)
    assert song.symbols == ["67", "_", "_", "_", "65", "_", "_", "_", "72"] + ["_"] * 7


@pytest.mark.parametrize(
    ("sharps", "shift"), [(0, 0), (1, 5), (2, -2), (3, 3), (-1, -5), (-2, 2), (6, -6), (-6, -6)]
)
def test_transposition_to_no_signature(sharps: int, shift: int) -> None:
    """The smallest move that takes the signature's relative major to C."""
    assert transposition_to_c(sharps) == shift


def test_real_tunes_in_major_minor_and_dorian() -> None:
    """O'Neill's: E minor -> A minor, A dorian -> D dorian; ESAC F major -> C major."""
    oneills = music21_corpus_root() / "oneills1850" / "0001-0050.abc"
    results = read_file(oneills, "0001-0050.abc", ReadOptions(off_grid="quantize"))
    minor = _tune(results, "The Lucky Lover")  # K:Em, starts on B
    first_pitch = next(s for s in minor.symbols if s.isdigit())
    assert (minor.key_sharps, minor.transposition, first_pitch, minor.mode) == (
        1,
        5,
        "76",
        "minor",
    )
    dorian = _tune(results, "Rory Dall's Sister's Lament")  # K:Ador, starts on A
    first_pitch = next(s for s in dorian.symbols if s.isdigit())
    assert (dorian.key_sharps, dorian.transposition, first_pitch, dorian.mode) == (
        1,
        5,
        "74",
        "dorian",
    )
    assert dorian.meter == Meter(3, 4)
    erk = music21_corpus_root() / "essenFolksong" / "erk10.abc"
    major = next(r for r in read_file(erk, "erk10.abc", ReadOptions()) if isinstance(r, Song))
    assert (major.key_sharps, major.transposition, major.mode) == (-1, -5, "major")
    for song in (minor, dorian, major):
        pitches = [int(s) for s in song.symbols if s.isdigit()]
        in_scale = sum(p % 12 in C_MAJOR_PITCH_CLASSES for p in pitches) / len(pitches)
        assert in_scale > 0.95, (song.title, in_scale)


def test_song_without_key_signature_is_analysed(tmp_path: Path) -> None:
    """No K: field with a signature: the key is analysed (G major melody -> moved to C)."""
    path = _abc(tmp_path, "X:1\nM:4/4\nL:1/4\nG A B c | d e ^f g | d B G2 |\n")
    (song,) = read_file(path, "tune.abc", ReadOptions())
    assert isinstance(song, Song)
    assert song.key_sharps == 1 and song.transposition == 5
    assert song.symbols[0] == "72" and song.mode == "major"


def test_named_part_of_a_chorale() -> None:
    """A polyphonic chorale: the soprano by name, the bass by name, top part by default."""
    chorale = music21_corpus_root() / "bach" / "bwv66.6.mxl"
    (soprano,) = read_file(chorale, "bwv66.6.mxl", ReadOptions(part="Soprano"))
    (bass,) = read_file(chorale, "bwv66.6.mxl", ReadOptions(part="bass"))
    (top,) = read_file(chorale, "bwv66.6.mxl", ReadOptions())
    assert isinstance(soprano, Song) and isinstance(bass, Song)
    assert soprano.symbols == top.symbols
    soprano_mean = sum(int(s) for s in soprano.symbols if s.isdigit())
    bass_mean = sum(int(s) for s in bass.symbols if s.isdigit())
    assert soprano_mean / len(soprano.symbols) > bass_mean / len(bass.symbols)
    (missing,) = read_file(chorale, "bwv66.6.mxl", ReadOptions(part="Tuba"))
    assert isinstance(missing, DroppedSong) and missing.reason == "no such part"


def test_bad_files_are_reported_not_raised(tmp_path: Path) -> None:
    """Empty, corrupt, not-music and unsupported files are dropped with reasons."""
    (tmp_path / "empty.abc").write_text("")
    (tmp_path / "corrupt.mid").write_bytes(b"MThd\x00\x00garbage" * 3)
    (tmp_path / "notmusic.xml").write_text("<html><body>hello</body></html>")
    (tmp_path / "notes.txt").write_text("not a score")
    _abc(tmp_path, "X:1\nM:4/4\nL:1/4\nK:C\nC D E F |\n", "good.abc")
    music, others = find_music_files(tmp_path)
    assert [p.name for p in music] == ["corrupt.mid", "empty.abc", "good.abc", "notmusic.xml"]
    assert [(d.source, d.reason) for d in others] == [("notes.txt", "unsupported format")]
    results = {p.name: read_file(p, p.name, ReadOptions()) for p in music}
    assert results["empty.abc"][0].reason == "empty file"
    assert results["corrupt.mid"][0].reason == "not readable as music"
    assert isinstance(results["notmusic.xml"][0], DroppedSong)
    assert isinstance(results["good.abc"][0], Song)


def test_abc_books_split_into_tunes() -> None:
    """A multi-tune ABC file is one text per tune, header fields kept."""
    text = "%comment\nL:1/8\n\nX:1\nT:A\nK:C\nCD|\n\nX:2\nT:B\nK:G\nGA|\n"
    tunes = split_abc_tunes(text)
    assert len(tunes) == 2
    assert tunes[1].startswith("L:1/8\nX:2") and "%comment" not in tunes[0]


def test_every_style_has_files() -> None:
    """Each built-in style names real files in music21's corpus."""
    for style in STYLES.values():
        assert style.files(), style.name


def test_a_stop_raised_into_the_reader_is_not_a_bad_song() -> None:
    """A time limit raised while music21 parses stops the read; a parse error drops the song."""
    from lstmuse_core.music.corpus import DroppedSong, ReadOptions, _read_parsed

    class TimeLimit(Exception):  # Celery's SoftTimeLimitExceeded is a plain Exception too
        pass

    def stopped() -> None:
        raise TimeLimit("soft time limit exceeded")

    def broken() -> None:
        raise ValueError("bad pitch")

    with pytest.raises(TimeLimit):
        list(_read_parsed(stopped, "tune.abc", ReadOptions()))
    (dropped,) = list(_read_parsed(broken, "tune.abc", ReadOptions()))
    assert isinstance(dropped, DroppedSong) and "bad pitch" in dropped.detail
