"""Seed melodies from uploaded files (MIDI, MusicXML, ABC), read in a child process with
hard limits.

A seed file is a tune file cut to the seed's length: `read_seed_file` is
`lstmuse_core.music.tune_file.read_tune_file` (size cap, note count before
any parser, .mxl archive checks, a child process under a wall-clock timeout
and address-space and CPU limits, off the event loop) with the refusals
naming ``seed``. The seed keeps the key the file states (None where it
states none, so the request's own key applies) and its tempo.
"""

from __future__ import annotations

from pathlib import Path

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.limits import MAX_SEED_STEPS
from lstmuse_core.music.midi import MidiSeed
from lstmuse_core.music.tune_file import (
    MAX_READING_AT_ONCE,
    MAX_TUNE_FILE_BYTES,
    MAX_TUNE_FILE_NOTES,
    TUNE_FILE_MEMORY_BYTES,
    TUNE_FILE_SECONDS,
    Tune,
    check_tune_file_size,
    read_tune,
    read_tune_file,
)

__all__ = [
    "MAX_READING_AT_ONCE",
    "MAX_SEED_FILE_BYTES",
    "MAX_SEED_FILE_NOTES",
    "SEED_FILE_MEMORY_BYTES",
    "SEED_FILE_SECONDS",
    "check_seed_file_size",
    "read_seed_file",
    "read_seed_path",
    "seed_of",
]

# A seed file's limits are a tune file's: one reader, one set of limits.
MAX_SEED_FILE_BYTES = MAX_TUNE_FILE_BYTES
MAX_SEED_FILE_NOTES = MAX_TUNE_FILE_NOTES
SEED_FILE_SECONDS = TUNE_FILE_SECONDS
SEED_FILE_MEMORY_BYTES = TUNE_FILE_MEMORY_BYTES


async def read_seed_file(
    data: bytes,
    name: str = "seed.mid",
    *,
    max_steps: int = MAX_SEED_STEPS,
    timeout: float = SEED_FILE_SECONDS,
) -> MidiSeed:
    """The melody of a MIDI, MusicXML or ABC file's first ``max_steps`` 16th notes, with
    the key and tempo the file states.

    The melody is the file's melody part (`tune_file.melody_part`), a pickup
    as leading rests. Raises `InvalidParameter` (``seed``) naming the file for
    anything too large, too slow, too dense, damaged or without a melody.
    """
    tune = await read_tune_file(
        data, name, parameter="seed", max_steps=max_steps, cut=True, timeout=timeout
    )
    return seed_of(tune)


def read_seed_path(path: Path, *, max_steps: int = MAX_SEED_STEPS) -> MidiSeed:
    """`read_seed_file` in this process, for a file the user named on the command line."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InvalidParameter("seed-file", str(path), "a readable file", hint=str(error)) from None
    check_seed_file_size(len(data), path.name)
    return seed_of(read_tune(data, path.name, parameter="seed", max_steps=max_steps, cut=True))


def seed_of(tune: Tune) -> MidiSeed:
    """A read tune as a seed: its symbols, the key the file states (None where it states
    none, so the request's own key applies) and its tempo."""
    return MidiSeed(tune.melody.symbols, tune.melody.key if tune.key_stated else None, tune.bpm)


def check_seed_file_size(size: int, name: str) -> None:
    """Refuse a seed file over `MAX_SEED_FILE_BYTES` (front ends check before downloading)."""
    check_tune_file_size(size, name, "seed")
