"""A member's tune file (MIDI, MusicXML, ABC) is read in its key, meter, pickup and register,
on its melody part, within the reader's limits; seeds are read the same way."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pretty_midi
import pytest
from music21 import converter, corpus, stream

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.corpus import music21_corpus_root, split_abc_tunes
from lstmuse_core.music.keys import Key
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.seed_file import read_seed_file
from lstmuse_core.music.tune_file import (
    MAX_TUNE_FILE_NOTES,
    read_tune,
    read_tune_file,
)

# erk5 #13, "Es haett ein Maidlein ein Reiter hold": 3/4 in D major, a one-quarter pickup,
# a note tied over a bar line and C naturals.
ERK5_TUNE = 13
PICKUP_START = 8  # the first note, in 16ths: a quarter before the first bar line of 12


def erk5_abc() -> str:
    tunes = split_abc_tunes((music21_corpus_root() / "essenFolksong/erk5.abc").read_text())
    return tunes[ERK5_TUNE - 1]


def erk5_notes() -> list[tuple[int, int]]:
    """(start step, MIDI pitch) of the tune as music21 reads the ABC, ties merged, the first
    note at `PICKUP_START`: what every format must give back."""
    notes = list(converter.parse(erk5_abc(), format="abc").parts[0].stripTies().flatten().notes)
    first = notes[0].offset
    return [(int((n.offset - first) * 4) + PICKUP_START, n.pitch.midi) for n in notes]


def erk5_midi() -> bytes:
    """The tune as a MIDI file at 120 bpm that starts on the pickup's bar line, as a
    sequencer writes a pickup (MIDI has no short bar): a quarter of silence first."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    midi.time_signature_changes.append(pretty_midi.TimeSignature(3, 4, 0.0))
    midi.key_signature_changes.append(pretty_midi.KeySignature(2, 0.0))  # D major
    flute = pretty_midi.Instrument(program=73, name="Flute")
    score = converter.parse(erk5_abc(), format="abc").parts[0].stripTies().flatten()
    for (start, pitch), note in zip(erk5_notes(), score.notes, strict=True):
        seconds = start * 0.125  # a 16th at 120 quarters a minute
        end = seconds + note.quarterLength * 0.5
        flute.notes.append(pretty_midi.Note(velocity=90, pitch=pitch, start=seconds, end=end))
    midi.instruments.append(flute)
    data = io.BytesIO()
    midi.write(data)
    return data.getvalue()


def erk5_musicxml() -> bytes:
    written = converter.parse(erk5_abc(), format="abc").write("musicxml")
    return Path(written).read_bytes()


def onsets(melody: Melody) -> list[tuple[int, int]]:
    return [(n.start, n.pitch) for n in melody.notes if n.pitch is not None]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("erk5-13.abc", lambda: erk5_abc().encode()),
        ("erk5-13.musicxml", erk5_musicxml),
        ("erk5-13.mid", erk5_midi),
    ],
)
def test_a_tune_keeps_its_key_meter_pickup_and_register(
    name: str, content: Callable[[], bytes]
) -> None:
    """ABC, MusicXML and MIDI of one tune give its notes at the same steps and pitches, in
    D major and 3/4, the pickup a quarter before the first bar line."""
    tune = read_tune(content(), name)
    assert tune.melody.meter == Meter(3, 4)
    assert tune.melody.key == Key("D", "major") and tune.key_stated
    assert onsets(tune.melody) == erk5_notes()
    assert tune.melody.symbols[:PICKUP_START] == ("r",) + ("_",) * (PICKUP_START - 1)
    assert tune.part == "the only part"


async def test_the_limited_reader_gives_the_same_tune() -> None:
    """read_tune_file (the child process) answers what read_tune does, title and all."""
    data = erk5_abc().encode()
    assert await read_tune_file(data, "erk5-13.abc") == read_tune(data, "erk5-13.abc")


def test_a_chorale_is_read_on_its_soprano_part() -> None:
    """A Bach chorale of four named parts: the soprano, said so, its pitches as written."""
    path = corpus.getWork("bach/bwv66.6")
    tune = read_tune(Path(path).read_bytes(), "bwv66.6.mxl")
    soprano = converter.parse(path).parts["Soprano"].stripTies().flatten().notes
    assert tune.part == '"Soprano", named as the melody'
    assert [pitch for _, pitch in onsets(tune.melody)] == [n.pitch.midi for n in soprano]
    assert tune.melody.key == Key("F#", "minor")


def test_without_names_the_highest_part_is_the_melody(tmp_path: Path) -> None:
    """The chorale with its parts unnamed and the bass first: the highest part is taken."""
    score = converter.parse(corpus.getWork("bach/bwv66.6"))
    parts = list(score.parts)
    for number, part in enumerate(parts, start=1):
        part.partName, part.id = f"Part {number}", f"P{number}"
    reordered = stream.Score(list(reversed(parts)))
    path = Path(reordered.write("musicxml", tmp_path / "unnamed.musicxml"))
    tune = read_tune(path.read_bytes(), "unnamed.musicxml")
    soprano = parts[0].stripTies().flatten().notes
    assert tune.part == '"Part 1", the highest of 4 parts'
    assert [pitch for _, pitch in onsets(tune.melody)] == [n.pitch.midi for n in soprano]


def test_an_abc_file_of_several_tunes_gives_its_first() -> None:
    """The whole erk5 book: its first tune, and the reader says so."""
    tune = read_tune((music21_corpus_root() / "essenFolksong/erk5.abc").read_bytes(), "erk5.abc")
    assert tune.tunes_in_file == 27
    assert tune.source == "the only part of the first of 27 tunes in the file"
    assert tune.title == "Kaisari nokkur maetur mann"


def _drums_only() -> bytes:
    midi = pretty_midi.PrettyMIDI()
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    drums.notes += [pretty_midi.Note(100, 36 + i % 3, i * 0.25, i * 0.25 + 0.1) for i in range(8)]
    midi.instruments.append(drums)
    data = io.BytesIO()
    midi.write(data)
    return data.getvalue()


async def test_a_file_without_a_melody_is_refused_by_name() -> None:
    """Only drums, or nothing at all: a refusal naming the parameter and the file."""
    with pytest.raises(InvalidParameter, match=r"tune='drums\.mid'.*no pitched") as refused:
        await read_tune_file(_drums_only(), "drums.mid")
    assert refused.value.parameter == "tune"
    with pytest.raises(InvalidParameter, match=r"tune='empty\.abc'.*the file is empty"):
        await read_tune_file(b"", "empty.abc")
    rests_only = b"X:1\nT:Silence\nM:4/4\nL:1/4\nK:C\nz4|z4|\n"
    with pytest.raises(InvalidParameter, match=r"tune='rests\.abc'.*no pitched notes"):
        await read_tune_file(rests_only, "rests.abc")


async def test_damaged_files_are_refused_by_name() -> None:
    """A cut-off MusicXML score, a cut-off .mxl and MIDI junk: refused, each by its name."""
    score = erk5_musicxml()
    with pytest.raises(InvalidParameter, match=r"tune='cut\.musicxml'.*MusicXML score"):
        await read_tune_file(score[: len(score) // 2], "cut.musicxml")
    archive = Path(corpus.getWork("bach/bwv66.6")).read_bytes()
    with pytest.raises(InvalidParameter, match=r"tune='cut\.mxl'.*readable \.zip or \.mxl"):
        await read_tune_file(archive[: len(archive) // 2], "cut.mxl")
    with pytest.raises(InvalidParameter, match=r"tune='junk\.mid'.*standard MIDI file"):
        await read_tune_file(b"MThd" + bytes(100), "junk.mid")


async def test_dense_files_are_refused_by_their_note_count() -> None:
    """More notes than the limit, in ABC or MusicXML: refused before music21 parses them."""
    dense_abc = "X:1\nM:4/4\nL:1/16\nK:C\n" + "CDEF|" * (MAX_TUNE_FILE_NOTES // 4 + 1)
    with pytest.raises(
        InvalidParameter, match=rf"tune='dense\.abc'.*at most {MAX_TUNE_FILE_NOTES}"
    ):
        await read_tune_file(dense_abc.encode(), "dense.abc")
    note = b"<note><rest/></note>"  # 20,001 of them fit in the 1 MiB a file may have
    dense_xml = b"<score-partwise><part id='P1'><measure>" + note * (MAX_TUNE_FILE_NOTES + 1)
    with pytest.raises(
        InvalidParameter, match=rf"tune='dense\.xml'.*at most {MAX_TUNE_FILE_NOTES}"
    ):
        await read_tune_file(dense_xml + b"</measure></part></score-partwise>", "dense.xml")


def test_a_tune_longer_than_the_limit_is_refused_or_cut() -> None:
    """A tune is refused past max_steps; a seed is cut there."""
    data = erk5_abc().encode()
    with pytest.raises(InvalidParameter, match="a tune of at most 100 16th notes"):
        read_tune(data, "erk5-13.abc", max_steps=100)
    assert len(read_tune(data, "erk5-13.abc", max_steps=100, cut=True).melody) == 100


async def test_an_abc_file_is_a_seed_like_a_midi_file() -> None:
    """read_seed_file takes an ABC tune: its first 16ths in its stated key, refusals by seed."""
    seed = await read_seed_file(erk5_abc().encode(), "seed.abc", max_steps=48)
    whole = read_tune(erk5_abc().encode(), "seed.abc")
    assert seed.symbols == whole.melody.symbols[:48]
    assert (seed.key, seed.bpm) == (Key("D", "major"), None)
    with pytest.raises(InvalidParameter, match=r"seed='drums\.mid'"):
        await read_seed_file(_drums_only(), "drums.mid")
