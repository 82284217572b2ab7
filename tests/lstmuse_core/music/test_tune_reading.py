"""Issue 21's reader rules on real tunes: modes by the final, repeats and endings read
whole, the tune's parts, where it really ends, pentatonic modes and variant groups."""

from __future__ import annotations

import re

import pytest

from lstmuse_core.music.corpus import (
    STYLES,
    DroppedSong,
    ReadOptions,
    Song,
    music21_corpus_root,
    read_abc_tunes,
    split_abc_tunes,
)
from lstmuse_core.music.dataset import split_songs
from lstmuse_core.music.encoding import HOLD, REST
from lstmuse_core.music.harmony import harmonize
from lstmuse_core.music.keys import (
    MODE_TONICS,
    PENTATONIC_MODES,
    Key,
    model_key,
    scale_pitch_classes,
)
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.meter import Meter, bar_meters_of
from lstmuse_core.music.musicality import musical_report
from lstmuse_core.music.variants import variant_groups


def _tune_text(book: str, number: int) -> str:
    return split_abc_tunes((music21_corpus_root() / book).read_text(errors="replace"))[number - 1]


def _read(book: str, number: int, options: ReadOptions | None = None) -> Song:
    (song,) = read_abc_tunes(
        [_tune_text(book, number)], book.split("/")[-1], options or ReadOptions(), number
    )
    assert isinstance(song, Song), song
    return song


def _dropped(book: str, number: int) -> DroppedSong:
    (dropped,) = read_abc_tunes(
        [_tune_text(book, number)], book.split("/")[-1], ReadOptions(), number
    )
    assert isinstance(dropped, DroppedSong), dropped
    return dropped


def _final_pitch_class(song: Song) -> int:
    return int(next(s for s in reversed(song.ending_symbols) if s not in (HOLD, REST))) % 12


def _bars_are_whole(song: Song) -> bool:
    if song.bars:
        return sum(song.bars) == len(song.symbols)
    return len(song.symbols) % song.meter.bar_steps == 0


def test_a_k_g_tune_ending_on_a_is_a_dorian() -> None:
    """O'Neill's 'Fill the Bumper Fair' is written K:G and ends on A: A dorian (D in C's
    scale); 'The Boy of My Heart', K:G ending on D: D mixolydian (G in C's scale)."""
    text = _tune_text("oneills1850/0401-0486.abc", 40)
    assert re.search(r"^K:\s*G\s*$", text, re.MULTILINE)
    dorian = _read("oneills1850/0401-0486.abc", 40)
    assert (dorian.key_sharps, dorian.mode, _final_pitch_class(dorian)) == (1, "dorian", 2)
    mixolydian = _read("oneills1850/0201-0300.abc", 61)
    assert re.search(r"^K:\s*G\s*$", _tune_text("oneills1850/0201-0300.abc", 61), re.MULTILINE)
    assert (mixolydian.mode, _final_pitch_class(mixolydian)) == ("mixolydian", 7)


def test_a_repeat_with_first_and_second_endings_reads_its_bars_whole() -> None:
    """'Get Up Early' (O'Neill's 1850 #771, 6/8): A ``D|: ... :|``, B with ``|1 ... :|2 ...||``.

    Every bar is whole; the first ending's short last bar (its pickup is the repeat's) is
    completed by rest, and the second ending starts on the bar line; the parts read AABB.
    """
    song = _read("oneills1850/0759-0810.abc", 12)
    assert song.meter == Meter(6, 8) and _bars_are_whole(song)
    assert song.form == "AABB"
    a_part, b_part = song.sections
    assert a_part.repeated and not a_part.endings
    assert b_part.repeated and len(b_part.endings) == 2
    (first_start, first_end), (second_start, second_end) = b_part.endings
    bar = song.meter.bar_steps
    assert first_start % bar == 0 and second_start % bar == 0
    assert first_end < second_start  # the first ending's last bar is short ...
    assert song.symbols[first_end:second_start] == [REST] + [HOLD] * (second_start - first_end - 1)
    assert second_end == len(song.symbols) and b_part.end == first_start


def test_an_oneills_double_jig_reads_aabb_with_its_endings() -> None:
    """'The Geese in the Bog' (O'Neill's 1850, 6/8): ``|: A :|`` then ``|: B |1 .. :|2 ..||``."""
    song = _read("oneills1850/1031-1115.abc", 55)
    assert song.form == "AABB" and _bars_are_whole(song)
    assert [len(s.endings) for s in song.sections] == [0, 2]
    assert song.sections[1].endings[0][1] == song.sections[1].endings[1][0]


def test_fine_and_da_capo_end_the_tune_where_it_is_played_to() -> None:
    """'I'm the Boy for Bewitching Them' (slip jig, K:G): ``"Fine"E2 :|`` ... ``"D.C"A2 ||``:
    it ends on the E under Fine (E minor), not on the written last A (A dorian).
    'Sloan's Lamentation' (K:Bb) writes ``G3"fine":|``: it ends on that G, G minor."""
    boy = _read("oneills1850/1136-1175.abc", 16)
    assert boy.end is not None and boy.end < len(boy.symbols)
    assert boy.end == boy.sections[0].stop and boy.form == "AAB"
    assert (boy.mode, _final_pitch_class(boy)) == ("minor", MODE_TONICS["minor"])
    written_last = int(next(s for s in reversed(boy.symbols) if s not in (HOLD, REST)))
    assert written_last % 12 == MODE_TONICS["dorian"]
    lament = _read("oneills1850/0101-0200.abc", 41)
    assert (lament.mode, lament.end) == ("minor", lament.sections[0].end)


def test_pentatonic_songs_are_named_by_their_final() -> None:
    """Han songs of five notes are in a pentatonic mode, moved so gong is C: every note is in
    the mode's scale and the song ends on its tonic; others keep a heptatonic mode."""
    options = STYLES["chinese"].read_options()
    songs = [
        r
        for r in read_abc_tunes(
            split_abc_tunes((music21_corpus_root() / "essenFolksong" / "han1.abc").read_text())[
                :40
            ],
            "han1.abc",
            options,
        )
        if isinstance(r, Song)
    ]
    pentatonic = [s for s in songs if s.mode in PENTATONIC_MODES]
    assert len({s.mode for s in pentatonic}) >= 3 and len(pentatonic) >= 10
    for song in pentatonic:
        scale = scale_pitch_classes(MODE_TONICS[song.mode], song.mode)
        pitches = {int(s) % 12 for s in song.symbols if s not in (HOLD, REST)}
        assert pitches == scale, song.song_id
        assert _final_pitch_class(song) == MODE_TONICS[song.mode]
    assert all(s.mode not in PENTATONIC_MODES for s in songs if s not in pentatonic)
    german = read_abc_tunes([_tune_text("essenFolksong/han1.abc", 5)], "han1.abc", ReadOptions(), 5)
    assert isinstance(german[0], Song) and german[0].mode not in PENTATONIC_MODES


def test_folk_is_the_german_books_and_chinese_the_han_books() -> None:
    folk = {p.name for p in STYLES["folk"].files()}
    chinese = {p.name for p in STYLES["chinese"].files()}
    assert chinese == {"han1.abc", "han2.abc"}
    assert not folk & chinese and {"erk5.abc", "lot.abc", "lux.abc", "dva0.abc"} <= folk


def test_an_overfull_bar_and_a_change_of_meter_are_read_bar_for_bar() -> None:
    """O'Neill's #1 writes a 2/4 bar of nine 16ths (``d2g2 (g3ga)``; music21 splits it
    into a bar and a 1/16 bar): one bar of 9/16, as written. ESAC erk10 #540, in 2/4 with
    bars of 3/4: each bar its own length."""
    book = "oneills1850/0001-0050.abc"
    options = ReadOptions(off_grid="triplets-round")
    (reel,) = read_abc_tunes([_tune_text(book, 1)], "0001-0050.abc", options, 1)
    assert isinstance(reel, Song) and reel.meter == Meter(2, 4)
    assert set(reel.bars) == {8, 9} and reel.bars.count(9) == 1
    assert sum(reel.bars) == len(reel.symbols)
    book = "essenFolksong/erk10.abc"
    (song,) = read_abc_tunes([_tune_text(book, 540)], "erk10.abc", ReadOptions(), 540)
    assert isinstance(song, Song) and set(song.bars) == {8, 12}
    assert bar_meters_of(song.meter, song.bars).count(Meter(3, 4)) == song.bars.count(12)


def test_a_fermata_written_h_keeps_its_note() -> None:
    """``Hd3``: music21 drops the note after ABC's H; the reader writes !fermata! instead."""
    (song,) = read_abc_tunes(["X:1\nM:6/8\nL:1/8\nK:C\nC2D Hd3 | c6 |]\n"], "t.abc", ReadOptions())
    assert isinstance(song, Song) and _bars_are_whole(song)
    assert song.symbols[:6] == ["60", HOLD, HOLD, HOLD, "62", HOLD]
    assert song.symbols[6] == "74"


@pytest.mark.slow
def test_variants_share_four_bars_and_stay_in_one_split() -> None:
    """Two erk songs that share 4 whole bars (found by the grouping) land in one split."""
    results = read_abc_tunes(
        split_abc_tunes((music21_corpus_root() / "essenFolksong" / "erk5.abc").read_text()),
        "erk5.abc",
        ReadOptions(),
    )
    songs = [r for r in results if isinstance(r, Song)]
    groups = [g for g in variant_groups(songs) if len(g) > 1]
    assert groups
    by_id = {s.song_id: s for s in songs}
    a, b = (by_id[i] for i in groups[0][:2])
    bar = a.meter.bar_steps
    windows = {
        tuple(a.symbols[i : i + 4 * bar]) for i in range(0, len(a.symbols) - 4 * bar + 1, bar)
    }
    assert a.meter == b.meter and any(
        tuple(b.symbols[i : i + 4 * bar]) in windows
        for i in range(0, len(b.symbols) - 4 * bar + 1, bar)
    )
    for seed in range(5):
        split = split_songs([s.song_id for s in songs], seed, groups=groups)
        for group in groups:
            assert len({name for name, ids in split.items() for i in ids if i in group}) == 1


def test_a_pentatonic_song_is_harmonized_in_its_parent_mode() -> None:
    """A zhi song (G A C D E on G) gets chords of G mixolydian, spelled in its signature,
    and a key named with the pentatonic mode writes no accidental for its scale."""
    options = STYLES["chinese"].read_options()
    texts = split_abc_tunes((music21_corpus_root() / "essenFolksong" / "han1.abc").read_text())
    song = next(
        r
        for r in read_abc_tunes(texts[:40], "han1.abc", options)
        if isinstance(r, Song) and r.mode == "zhi"
    )
    chords = harmonize(Melody(song.symbols, song.meter, model_key("zhi")))
    assert chords and all(chord.symbol for chord in chords)
    assert {chord.symbol[0] for chord in chords} <= set("CDEFGAB")
    assert Key("G", "zhi").signature_sharps == 0 and Key("E", "yu").signature_sharps == 1
    assert Key("D", "zhi").spell(66) == ("F", 1)  # F# in D's signature


def test_the_cadence_of_a_corpus_tune_is_read_where_it_really_ends() -> None:
    """'I'm the Boy for Bewitching Them' ends at Fine on E, its tonic as read (E minor);
    its written last note, an A, is not: the report reads the cadence at `Song.end`."""
    boy = _read("oneills1850/1136-1175.abc", 16)
    entry = [(boy.symbols, boy.meter, boy.mode)]
    assert musical_report(entry, endings=[boy.end]).tonic_endings == 1.0
    assert musical_report(entry).tonic_endings == 0.0


def test_a_major_song_ending_on_its_third_stays_major() -> None:
    """ESAC ballad10 #3 (K:G) ends on B, the third: G major, not B phrygian."""
    song = _read("essenFolksong/ballad10.abc", 3)
    assert (song.key_sharps, song.mode, _final_pitch_class(song)) == (1, "major", 4)


def test_a_variant_group_goes_to_one_split_and_singletons_split_as_before() -> None:
    """200 songs, two groups of five: each group lands whole in one split, the sizes stay
    160/20/20, and songs in no group are cut where the plain per-song split cut them."""
    import hashlib

    ids = [f"song{i:03d}" for i in range(200)]
    groups = [ids[0:5], ids[100:105]]
    for seed in range(20):
        split = split_songs(ids, seed, groups=groups)
        assert sorted(i for part in split.values() for i in part) == ids
        for group in groups:
            assert sum(set(group) <= set(part) for part in split.values()) == 1
        assert [len(split[k]) for k in ("train", "validation", "test")] == [160, 20, 20]
    order = sorted(ids, key=lambda i: hashlib.sha256(f"7:{i}".encode()).hexdigest())
    assert split_songs(ids, 7)["test"] == order[-20:]


def test_an_accidental_holds_to_the_bar_line() -> None:
    """``^F3F``: both Fs are sharp (music21 read the second natural); the next bar's F is
    natural again, and a sharp on f (an octave up) leaves F alone."""
    (song,) = read_abc_tunes(
        ["X:1\nM:6/8\nL:1/8\nK:C\n^F3F ^f F | F3 f3 |]\n"], "t.abc", ReadOptions()
    )
    assert isinstance(song, Song)
    onsets = [int(s) for s in song.symbols if s not in (HOLD, REST)]
    assert onsets == [66, 66, 78, 66, 65, 77]
