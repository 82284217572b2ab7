"""Pitch spelling in one place: note names, key tonics and signatures (music.pitch)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lstmuse_core.music.keys import MODES, Key, key_with_signature
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.pitch import midi_pitch, note_name, pitch_class
from lstmuse_core.music.seed_melody import parse_seed_melody


@pytest.mark.parametrize(
    ("key", "names"),
    [
        (None, ("C#4", "A#4", "D#5")),
        (Key("G"), ("C#4", "A#4", "D#5")),
        (Key("D", "dorian"), ("C#4", "A#4", "D#5")),  # no signature: sharps
        (Key("F"), ("Db4", "Bb4", "Eb5")),
        (Key("Gb"), ("Db4", "Bb4", "Eb5")),
        (Key("D", "minor"), ("Db4", "Bb4", "Eb5")),
        (Key("C", "minor"), ("Db4", "Bb4", "Eb5")),
        (Key("G", "dorian"), ("Db4", "Bb4", "Eb5")),  # one flat
    ],
)
def test_note_names_are_spelled_as_the_key_signature(
    key: Key | None, names: tuple[str, ...]
) -> None:
    """Black keys take flats in keys whose signature has flats, sharps otherwise."""
    flats = key is not None and key.flats
    assert tuple(note_name(pitch, flats=flats) for pitch in (61, 70, 75)) == names
    assert note_name(60, flats=flats) == "C4"


@pytest.mark.parametrize(
    ("tonic", "mode", "sharps"),
    [
        ("C", "major", 0),
        ("F", "major", -1),
        ("Gb", "major", -6),
        ("F#", "major", 6),
        ("D", "minor", -1),
        ("Eb", "minor", -6),
        ("C#", "minor", 4),
        ("D", "dorian", 0),
        ("G", "dorian", -1),
        ("B", "lydian", 6),
        ("F", "locrian", -6),
    ],
)
def test_signature_sharps_follow_the_spelling(tonic: str, mode: str, sharps: int) -> None:
    """Sharps (negative: flats) as music21 counts them; Gb and F# differ though they sound alike."""
    from music21 import key

    assert Key(tonic, mode).signature_sharps == sharps
    assert key.Key(tonic.replace("b", "-"), mode).sharps == sharps


def test_every_signature_has_a_key_in_every_mode() -> None:
    """key_with_signature inverts signature_sharps for -7..7 sharps in all seven modes."""
    for sharps in range(-7, 8):
        for mode in MODES:
            found = key_with_signature(sharps, mode)
            assert found.mode == mode and found.signature_sharps == sharps


def test_typed_notes_keys_and_labels_agree_on_every_pitch() -> None:
    """A name read as a seed, a key's tonic and a label name the same pitch, both spellings."""
    for pitch in range(0, 128):
        for flats in (False, True):
            name = note_name(pitch, flats=flats)
            assert parse_seed_melody(f"{name}:1/4") == [str(pitch)], name
            letter, accidental = name[0], name[1:].rstrip("-0123456789")
            assert Key(letter + accidental).tonic_pitch_class == pitch % 12


def test_accidentals_cross_the_octave_as_written() -> None:
    """Cb4 is B3 and B#3 is C4; the typographic signs count as typed."""
    assert midi_pitch("C", "b", 4) == 59 and midi_pitch("B", "#", 3) == 60
    assert pitch_class("E", "♭") == pitch_class("D", "♯") == 3


@pytest.mark.parametrize(
    ("key", "semitones", "moved"),
    [
        (None, 1, Key("Db")),  # the model's key space moves to a major key
        (Key("D"), 1, Key("Eb")),  # not D# major
        (Key("A", "minor"), 4, Key("C#", "minor")),  # not Db minor
        (Key("E", "dorian"), -2, Key("D", "dorian")),
    ],
)
def test_a_moved_key_takes_the_conventional_spelling(
    key: Key | None, semitones: int, moved: Key
) -> None:
    """Transposing names the new tonic with the fewer accidentals for its major or minor."""
    assert Melody(["60"], "4/4", key).transposed(semitones).key == moved


def test_importing_pitch_loads_no_music_library() -> None:
    """The bot reads seeds through this module: no numba, music21 or pretty_midi comes with it."""
    heavy = ["numba", "music21", "pretty_midi", "mido", "numpy", "PIL"]
    code = (
        f"import sys, lstmuse_core.music.pitch; print([m for m in {heavy!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("key", "midi", "spelled"),
    [
        (Key("F#", "major"), 65, ("E", 1)),  # a scale note as the signature has it
        (Key("F", "major"), 70, ("B", -1)),
        (Key("A", "minor"), 68, ("G", 1)),  # the raised seventh, in minor and in modes
        (Key("A", "dorian"), 68, ("G", 1)),
        (Key("G", "mixolydian"), 66, ("F", 1)),
        (Key("D", "major"), 65, ("F", 0)),  # outside the scale: a natural in a sharp key
        (Key("Eb", "major"), 66, ("G", -1)),  # flats in a flat key
        (Key("C", "major"), 63, ("E", -1)),  # no signature: C#, Eb, F#, G#, Bb
        (Key("C", "major"), 61, ("C", 1)),
    ],
)
def test_a_key_spells_each_pitch_as_players_read_it(
    key: Key, midi: int, spelled: tuple[str, int]
) -> None:
    """Key.spell: the one spelling rule of every score we write (ABC, MusicXML, sheet music)."""
    assert key.spell(midi) == spelled
    letter, alteration = spelled
    assert midi_pitch(letter, "#" * alteration + "b" * -alteration, 4) % 12 == midi % 12


def test_the_music21_score_spells_every_note_as_the_abc_does() -> None:
    """MusicXML and sheet music (the music21 score) and ABC share `Key.spell`, note for note."""
    from lstmuse_core.music.render.notation import music21_score

    chromatic = [str(pitch) for pitch in range(60, 72)] + ["r"]
    for key in (Key("A", "dorian"), Key("Bb", "major"), Key("F#", "minor"), None):
        melody = Melody.from_model(chromatic, "4/4", key)
        score = music21_score(melody, title="spelling", bpm=120)
        written = [(n.pitch.step, int(n.pitch.alter), n.pitch.midi) for n in score.flatten().notes]
        spelling = key or Key("C", "major")
        assert written == [(*spelling.spell(m), m) for _, _, m in written], key
        assert len(written) == 12
