"""How a tune's parts close (`part_cadences`), on a real reel and on a written form."""

from __future__ import annotations

from lstmuse_core.music.corpus import (
    ReadOptions,
    Song,
    music21_corpus_root,
    read_abc_tunes,
    split_abc_tunes,
)
from lstmuse_core.music.encoding import HOLD
from lstmuse_core.music.form import Form, tune_form
from lstmuse_core.music.form_measures import part_cadences
from lstmuse_core.music.meter import Meter


def _bar(*notes: str) -> list[str]:
    """A 4/4 bar of four quarter notes."""
    return [s for note in notes for s in (note, HOLD, HOLD, HOLD)]


def test_a_written_form_closes_its_parts_and_leads_on_from_its_first_ending() -> None:
    """A1A2B in C major, parts of 2 bars: A's first ending stops on G (it leads back), its
    second and B close on C; B sits a tenth above A."""
    form = Form.parse("A1A2B")
    assert form is not None
    layout = tune_form(form, 2, 16, False)
    written = (
        _bar("60", "62", "64", "65")  # A's body
        + _bar("64", "62", "60", "67")  # first ending: on the dominant
        + _bar("64", "62", "60", HOLD)  # second ending: home, on beat 3
        + _bar("76", "77", "79", "77")  # B, higher
        + _bar("76", "74", "72", HOLD)
    )
    cadences = part_cadences(written, layout.sections, Meter(4, 4), "major")
    assert cadences.closes == [True, True]
    assert cadences.first_endings == [False]
    assert cadences.b_above_a is not None and cadences.b_above_a > 12


def test_a_real_jig_closes_its_parts_and_leads_on_from_its_first_ending() -> None:
    """'Tie the Petticoat Tighter' (O'Neill's 1850, 6/8, AABB): both parts as played the
    last time close on the tonic, B's first ending does not, and B climbs 5 semitones
    above A on average; 'The Geese in the Bog' ends its written tune on a weak-beat D
    (the pickup back to its start): no part closes on a strong-beat tonic."""
    book = (music21_corpus_root() / "oneills1850" / "0759-0810.abc").read_text(errors="replace")
    (song,) = read_abc_tunes([split_abc_tunes(book)[33]], "0759-0810.abc", ReadOptions(), 34)
    assert isinstance(song, Song) and song.form == "AABB"
    cadences = part_cadences(song.symbols, song.sections, song.meter, song.mode)
    assert cadences.closes == [True, True] and cadences.first_endings == [False]
    assert cadences.b_above_a is not None and 4.5 < cadences.b_above_a < 5.5
    book = (music21_corpus_root() / "oneills1850" / "1031-1115.abc").read_text(errors="replace")
    (geese,) = read_abc_tunes([split_abc_tunes(book)[54]], "1031-1115.abc", ReadOptions(), 55)
    assert isinstance(geese, Song)
    assert part_cadences(geese.symbols, geese.sections, geese.meter, geese.mode).closes == [
        False,
        False,
    ]
