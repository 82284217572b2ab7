"""Melodies to MIDI files and back, and instrument names (lstmuse_core.music.midi)."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import mido
import pretty_midi
import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.keys import Key
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.midi import (
    MAX_BPM,
    MidiSeed,
    melody_from_midi,
    melody_to_midi,
    read_midi_seed,
    resolve_instrument,
    write_midi,
)


def _symbols(text: str) -> list[str]:
    """Model symbols written as one space-separated string."""
    return text.split()


# Leading rest, holds, a rest inside, a repeated pitch, a one-step note; ends on a note.
MELODY = _symbols("r _ 67 _ 69 _ 71 _ _ _ 72 72 _ r _ _ 74 76 _ _ 60 _ _ _")


def _midi_bytes(midi: pretty_midi.PrettyMIDI) -> bytes:
    buffer = io.BytesIO()
    midi.write(buffer)
    return buffer.getvalue()


def test_symbols_survive_a_round_trip_through_a_midi_file(tmp_path: Path) -> None:
    """symbols -> .mid -> melody_from_midi gives the same symbols, from a path and from bytes."""
    path = write_midi(MELODY, tmp_path / "m.mid", bpm=97, program=73, meter="3/4")
    assert melody_from_midi(path) == MELODY
    assert melody_from_midi(path.read_bytes()) == MELODY


def test_written_file_has_tempo_instrument_time_signature_and_step_timing(tmp_path: Path) -> None:
    """The file carries bpm, program and time signature; a 16th step lasts 60/bpm/4 s."""
    path = write_midi(MELODY, tmp_path / "m.mid", bpm=90, program=40, meter=Meter(6, 8))
    midi = pretty_midi.PrettyMIDI(str(path))
    _, tempi = midi.get_tempo_changes()
    assert tempi[0] == pytest.approx(90, abs=0.01)
    (instrument,) = midi.instruments
    assert instrument.program == 40 and not instrument.is_drum
    signature = midi.time_signature_changes[0]
    assert (signature.numerator, signature.denominator) == (6, 8)
    step = 60 / 90 / 4
    first = instrument.notes[0]  # "67" after a two-step rest, two steps long
    assert (first.pitch, first.start, first.end) == (
        67,
        pytest.approx(2 * step),
        pytest.approx(4 * step),
    )


def test_transpose_shifts_every_pitch_and_refuses_to_leave_the_midi_range(tmp_path: Path) -> None:
    """write_midi's transpose adds semitones; a shift past pitch 127 names the parameter."""
    path = write_midi(MELODY, tmp_path / "low.mid", transpose=-12)
    notes = pretty_midi.PrettyMIDI(str(path)).instruments[0].notes
    assert [n.pitch for n in notes][:3] == [55, 57, 59]
    with pytest.raises(InvalidParameter) as raised:
        write_midi(MELODY, tmp_path / "high.mid", transpose=60)
    assert raised.value.parameter == "transpose"
    assert not (tmp_path / "high.mid").exists()


def test_melody_to_midi_takes_a_melody_and_its_meter() -> None:
    """A Melody's meter becomes the file's time signature; its notes the file's notes."""
    midi = melody_to_midi(Melody(MELODY, "6/8"), bpm=90, program=40)
    signature = midi.time_signature_changes[0]
    assert (signature.numerator, signature.denominator) == (6, 8)
    assert [n.pitch for n in midi.instruments[0].notes] == [67, 69, 71, 72, 72, 74, 76, 60]


def test_write_midi_takes_a_melody_or_symbols(tmp_path: Path) -> None:
    """A Melody keeps its meter unless ``meter`` (a Meter or its text) changes it; symbols
    default to 4/4."""

    def signature(path: Path) -> tuple[int, int]:
        change = pretty_midi.PrettyMIDI(str(path)).time_signature_changes[0]
        return change.numerator, change.denominator

    melody = Melody(MELODY, "3/4")
    assert signature(write_midi(melody, tmp_path / "a.mid")) == (3, 4)
    assert signature(write_midi(melody, tmp_path / "b.mid", meter="7/8")) == (7, 8)
    assert signature(write_midi(melody, tmp_path / "d.mid", meter=Meter(9, 8))) == (9, 8)
    assert signature(write_midi(MELODY, tmp_path / "c.mid")) == (4, 4)
    assert melody_from_midi(tmp_path / "a.mid") == MELODY


@pytest.mark.parametrize(
    ("value", "program"),
    [
        ("flute", 73),
        ("  FLUTE ", 73),
        ("Acoustic Grand Piano", 0),
        ("acoustic_grand-piano", 0),
        ("piano", 0),
        ("violin", 40),
        ("fiddle", 40),
        ("guitar", 24),
        ("harp", 46),
        ("nylon", 24),
        ("Church Organ", 19),
        ("73", 73),
        (110, 110),
        (0, 0),
    ],
)
def test_resolve_instrument_reads_numbers_names_and_aliases(value: str | int, program: int) -> None:
    """Numbers, GM names (any case, punctuation) and aliases give the GM program."""
    assert resolve_instrument(value) == program


@pytest.mark.parametrize("value", ["kazoo 9000", "", 128, -1, "200", True])
def test_unknown_instrument_names_the_parameter(value: str | int) -> None:
    """An unknown name or a number outside 0-127 raises InvalidParameter('instrument')."""
    with pytest.raises(InvalidParameter) as raised:
        resolve_instrument(value)
    assert raised.value.parameter == "instrument"
    assert "0-127" in str(raised.value)


@pytest.mark.parametrize(("bpm", "parameter"), [(19, "bpm"), (301, "bpm"), (math.nan, "bpm")])
def test_tempo_outside_20_to_300_is_refused(bpm: float, parameter: str, tmp_path: Path) -> None:
    """write_midi with bpm below 20, above 300 or NaN raises InvalidParameter('bpm')."""
    with pytest.raises(InvalidParameter) as raised:
        write_midi(MELODY, tmp_path / "m.mid", bpm=bpm)
    assert raised.value.parameter == parameter


@pytest.mark.parametrize("text", ["5/5", "0/4", "four four", "4/4/4", "33/4"])
def test_bad_meter_names_the_parameter(text: str, tmp_path: Path) -> None:
    """write_midi with a meter that is not N/2^k raises InvalidParameter('meter')."""
    with pytest.raises(InvalidParameter) as raised:
        write_midi(MELODY, tmp_path / "m.mid", meter=text)
    assert raised.value.parameter == "meter"


def test_seed_from_midi_keeps_the_top_voice_and_quantises_at_the_file_tempo() -> None:
    """Chords give their top note, drums are ignored, and humanised timings snap to 16ths."""
    midi = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=80)
    step = 60 / 80 / 4
    piano = pretty_midi.Instrument(program=0)
    jitter = 0.1 * step  # a human player, a tenth of a step early or late
    piano.notes += [
        pretty_midi.Note(90, 72, 0 * step + jitter, 4 * step - jitter),  # melody C5
        pretty_midi.Note(90, 60, 0 * step, 8 * step),  # accompaniment C4 under it
        pretty_midi.Note(90, 64, 0 * step, 8 * step),  # E4
        pretty_midi.Note(90, 74, 4 * step - jitter, 6 * step + jitter),  # melody D5
        pretty_midi.Note(90, 76, 10 * step, 12 * step),  # E5 after a gap
    ]
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    drums.notes.append(pretty_midi.Note(100, 81, 0, 12 * step))  # louder and higher, but drums
    midi.instruments += [piano, drums]
    symbols = melody_from_midi(_midi_bytes(midi))
    # C5 0-4, D5 4-6, the held E4 re-emerges at 6-8, silence 8-10, E5 10-12.
    assert symbols == _symbols("72 _ _ _ 74 _ 64 _ r _ 76 _")


def test_seed_from_midi_is_capped_at_max_steps() -> None:
    """A note far away cannot blow up the seed: at most max_steps symbols come back."""
    midi = melody_to_midi(Melody(["60", "_"]))
    far = pretty_midi.Note(100, 62, 10_000.0, 10_001.0)  # ~80,000 steps in
    midi.instruments[0].notes.append(far)
    assert len(melody_from_midi(_midi_bytes(midi), max_steps=64)) == 2
    assert (
        len(
            melody_from_midi(_midi_bytes(melody_to_midi(Melody(["60"] + ["_"] * 99))), max_steps=64)
        )
        == 64
    )


@pytest.mark.parametrize("content", [b"", b"not a midi file at all", b"MThd\x00\x00\x00\x06\x00"])
def test_corrupt_seed_file_names_the_parameter(content: bytes, tmp_path: Path) -> None:
    """Bytes or a file that are no MIDI raise InvalidParameter('seed') asking for a .mid."""
    path = tmp_path / "seed.mid"
    path.write_bytes(content)
    for source in (content, path):
        with pytest.raises(InvalidParameter) as raised:
            melody_from_midi(source)
        assert raised.value.parameter == "seed"
        assert "standard MIDI file" in str(raised.value)


def test_seed_file_with_only_drums_is_refused() -> None:
    """A MIDI file without pitched notes raises InvalidParameter('seed')."""
    midi = pretty_midi.PrettyMIDI()
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    drums.notes.append(pretty_midi.Note(100, 36, 0, 0.5))
    midi.instruments.append(drums)
    with pytest.raises(InvalidParameter, match="no pitched"):
        melody_from_midi(_midi_bytes(midi))


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (None, "C Major"),
        ("D", "D Major"),
        ("Bb", "Bb Major"),
        ("Em", "E minor"),
        ("F#m", "F# minor"),
    ],
)
def test_midi_carries_the_melody_key_signature(key: str | None, expected: str) -> None:
    """The MIDI file's key-signature event is the melody's key (C major for the model's own)."""
    import pretty_midi

    from lstmuse_core.music.melody import Melody
    from lstmuse_core.music.midi import melody_to_midi

    midi = melody_to_midi(Melody.from_model(["60", "_", "64", "67"], "3/4", key))
    (signature,) = midi.key_signature_changes
    assert pretty_midi.key_number_to_key_name(signature.key_number) == expected
    (meter,) = midi.time_signature_changes
    assert (meter.numerator, meter.denominator) == (3, 4)


def _seed_file(
    meta: Sequence[mido.MetaMessage] = (), *more_tracks: list[mido.MetaMessage]
) -> bytes:
    """A MIDI file: ``meta`` events and one C4 quarter note, then a track for each of ``more``."""
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(
        mido.MidiTrack(
            [
                *meta,
                mido.Message("note_on", note=60, velocity=80, time=0),
                mido.Message("note_off", note=60, velocity=0, time=480),
            ]
        )
    )
    midi.tracks += [mido.MidiTrack(events) for events in more_tracks]
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


# Events outside the first track break the standard, and pretty_midi says so.
@pytest.mark.filterwarnings("ignore:Tempo, Key or Time signature change events")
def test_a_seed_file_states_its_key_and_tempo() -> None:
    """The earliest key signature (as spelled: Gb, not F#) and tempo of any track come back."""
    tempo_92, tempo_140 = mido.bpm2tempo(92), mido.bpm2tempo(140)
    seed = read_midi_seed(
        _seed_file(
            (),
            [
                mido.MetaMessage("key_signature", key="D", time=960),
                mido.MetaMessage("set_tempo", tempo=tempo_140, time=0),
            ],
            [
                mido.MetaMessage("key_signature", key="Gb", time=0),
                mido.MetaMessage("set_tempo", tempo=tempo_92, time=0),
            ],
        )
    )
    assert seed == MidiSeed(("60", "_", "_", "_"), Key("Gb", "major"), 92.0)
    minor = read_midi_seed(_seed_file([mido.MetaMessage("key_signature", key="Bbm")]))
    assert minor.key == Key("Bb", "minor")


def test_a_seed_file_without_key_or_tempo_says_none() -> None:
    """No key-signature or tempo event: key and bpm are None (pretty_midi would claim 120)."""
    seed = read_midi_seed(_seed_file())
    assert (seed.key, seed.bpm) == (None, None)


def test_a_seed_files_tempo_is_rounded_and_kept_in_range() -> None:
    """110 bpm (545,454 microseconds) reads as 110; 400 bpm as the fastest allowed."""
    fast = [mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(400))]
    assert read_midi_seed(_seed_file(fast)).bpm == MAX_BPM
    usual = [mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(110))]
    assert read_midi_seed(_seed_file(usual)).bpm == 110.0


def test_our_own_midi_file_reads_back_with_its_key_and_tempo(tmp_path: Path) -> None:
    """A melody in E minor written at 96 bpm is a seed in E minor at 96 bpm."""
    path = write_midi(
        Melody.from_model(["57", "_", "59", "60"], "3/4", "E minor"), tmp_path / "m.mid", bpm=96
    )
    seed = read_midi_seed(path)
    assert (seed.key, seed.bpm) == (Key("E", "minor"), 96.0)


def test_a_seed_files_signature_is_read_in_the_mode_asked_for() -> None:
    """A G major file in dorian is A dorian; in its own mode or none, it stays G major."""
    seed = MidiSeed(("67",), Key("G"), None)
    assert seed.key_in_mode("dorian") == Key("A", "dorian")
    assert seed.key_in_mode("minor") == Key("E", "minor")
    assert seed.key_in_mode(None) == seed.key_in_mode("major") == Key("G")
    assert MidiSeed(("67",)).key_in_mode("dorian") is None
