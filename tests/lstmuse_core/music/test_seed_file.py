"""MIDI seed files are read in a child process, within time, memory and note limits."""

from __future__ import annotations

import io

import mido
import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.keys import Key
from lstmuse_core.music.seed_file import MAX_SEED_FILE_NOTES, read_seed_file


def _midi(
    notes: int, *, ticks_per_note: int = 480, meta: tuple[mido.MetaMessage, ...] = ()
) -> bytes:
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack(meta)
    midi.tracks.append(track)
    for number in range(notes):
        pitch = 60 + number % 12
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=ticks_per_note))
    data = io.BytesIO()
    midi.save(file=data)
    return data.getvalue()


async def test_a_midi_seed_is_read_as_its_top_voice() -> None:
    """Four quarter notes become four onsets, each held for three more 16ths."""
    seed = await read_seed_file(_midi(4), "four.mid")
    assert seed.symbols == tuple(
        symbol for pitch in ["60", "61", "62", "63"] for symbol in (pitch, "_", "_", "_")
    )
    assert (seed.key, seed.bpm) == (None, None)  # the file says neither


async def test_the_child_reports_the_files_key_and_tempo() -> None:
    """A file in Eb minor at 84 bpm: the child's answer carries both, spelled as written."""
    meta = (
        mido.MetaMessage("key_signature", key="Ebm", time=0),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(84), time=0),
    )
    seed = await read_seed_file(_midi(2, meta=meta), "minor.mid")
    assert seed.key == Key("Eb", "minor")
    assert seed.bpm == 84.0


async def test_a_dense_file_is_refused_by_its_note_count() -> None:
    """A file with more notes than the limit is refused before pretty_midi reads it."""
    with pytest.raises(InvalidParameter, match=f"at most {MAX_SEED_FILE_NOTES} notes"):
        await read_seed_file(_midi(MAX_SEED_FILE_NOTES + 1, ticks_per_note=2), "dense.mid")


async def test_a_slow_read_is_stopped_at_the_time_limit() -> None:
    """The child is killed when the time limit passes, and the reply names the file."""
    with pytest.raises(InvalidParameter, match=r"seed='slow.mid'.*within 0.05 s"):
        await read_seed_file(_midi(4), "slow.mid", timeout=0.05)


async def test_corrupt_and_oversized_files_are_refused() -> None:
    """Not a MIDI file, or over 1 MiB: a refusal naming the file."""
    with pytest.raises(InvalidParameter, match=r"seed='junk\.mid'.*standard MIDI file"):
        await read_seed_file(b"MThd" + bytes(100), "junk.mid")
    with pytest.raises(InvalidParameter, match="at most 1048576 bytes"):
        await read_seed_file(bytes(1024 * 1024 + 1), "big.mid")
