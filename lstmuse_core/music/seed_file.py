"""Seed melodies from uploaded MIDI files, read in a child process with hard limits.

A MIDI file of under 1 MiB can still take tens of seconds and gigabytes to
read (pretty_midi builds a tick-to-time table as long as the file's last
tick). A bot must not do that on its event loop, nor at all without limits,
so the file is read by ``python -m lstmuse_core.music.seed_file`` with a wall-clock
timeout, an address-space and CPU-time limit, and a note-count check made
with mido before pretty_midi sees the file. The child answers one JSON line:
``{"symbols": [...], "key": "Bb major" or null, "bpm": 96.0 or null}`` or
``{"error": {"allowed": ..., "hint": ...}}``.
"""

from __future__ import annotations

import asyncio
import io
import json
import resource
import sys
import weakref

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.limits import MAX_SEED_STEPS
from lstmuse_core.music.keys import parse_key
from lstmuse_core.music.midi import SEED_FILE_ALLOWED, MidiSeed, read_midi_seed

MAX_SEED_FILE_BYTES = 1024 * 1024
MAX_SEED_FILE_NOTES = 20_000
SEED_FILE_SECONDS = 10.0  # wall clock, including the child's start (~1 s)
SEED_FILE_MEMORY_BYTES = 1024**3
# Children reading at once, whoever sent the files: the bot's machine lends
# at most this many times SEED_FILE_MEMORY_BYTES to MIDI seeds.
MAX_READING_AT_ONCE = 2
_reading: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def read_seed_file(
    data: bytes,
    name: str = "seed.mid",
    *,
    max_steps: int = MAX_SEED_STEPS,
    timeout: float = SEED_FILE_SECONDS,
) -> MidiSeed:
    """The top voice of a MIDI file's first ``max_steps`` 16th notes, with its key and tempo.

    See `read_midi_seed`. Raises `InvalidParameter` (``seed``) naming the
    file for anything too large, too slow, too dense or unreadable.
    """
    check_seed_file_size(len(data), name)
    slots = _reading.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(MAX_READING_AT_ONCE))
    async with slots:
        out = await _run_child(data, name, max_steps, timeout)
    try:
        answer = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):  # killed by a limit, or crashed in a library
        raise InvalidParameter(
            "seed", name, SEED_FILE_ALLOWED, hint="it could not be read within our limits"
        ) from None
    if "error" in answer:
        error = answer["error"]
        raise InvalidParameter("seed", name, error["allowed"], hint=error.get("hint", ""))
    return MidiSeed(
        tuple(str(symbol) for symbol in answer["symbols"]),
        parse_key(answer["key"]) if answer.get("key") else None,
        float(answer["bpm"]) if answer.get("bpm") is not None else None,
    )


def check_seed_file_size(size: int, name: str) -> None:
    """Refuse a seed file over `MAX_SEED_FILE_BYTES` (front ends check before downloading)."""
    if size > MAX_SEED_FILE_BYTES:
        raise InvalidParameter("seed", name, f"a MIDI file of at most {MAX_SEED_FILE_BYTES} bytes")


async def _run_child(data: bytes, name: str, max_steps: int, timeout: float) -> bytes:
    """The child's answer; it is killed on timeout and whenever the caller stops waiting."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        str(max_steps),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        out, _ = await asyncio.wait_for(child.communicate(data), timeout)
        return out
    except TimeoutError:
        raise InvalidParameter(
            "seed", name, f"a MIDI file that can be read within {timeout:g} s"
        ) from None
    finally:
        if child.returncode is None:  # timed out, or our caller was cancelled
            child.kill()
            await child.wait()


def _limit_child() -> None:
    """The child's first act (not a pre-exec hook: those are unsafe in threaded parents):
    cap its own memory and CPU time before it reads anything."""
    resource.setrlimit(resource.RLIMIT_AS, (SEED_FILE_MEMORY_BYTES, SEED_FILE_MEMORY_BYTES))
    cpu = int(SEED_FILE_SECONDS) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))


def _count_notes(data: bytes) -> int:
    import mido

    midi = mido.MidiFile(file=io.BytesIO(data))
    return sum(
        1
        for track in midi.tracks
        for message in track
        if message.type == "note_on" and message.velocity > 0
    )


def _read(data: bytes, max_steps: int) -> dict[str, object]:
    try:
        notes = _count_notes(data)
    except Exception as error:  # mido raises many types for a corrupt file
        return {"error": {"allowed": SEED_FILE_ALLOWED, "hint": str(error)[:120]}}
    if notes > MAX_SEED_FILE_NOTES:
        return {
            "error": {
                "allowed": f"a MIDI file of at most {MAX_SEED_FILE_NOTES} notes",
                "hint": f"it has {notes}",
            }
        }
    try:
        seed = read_midi_seed(data, max_steps=max_steps)
        return {
            "symbols": list(seed.symbols),
            "key": seed.key.name if seed.key is not None else None,
            "bpm": seed.bpm,
        }
    except InvalidParameter as error:
        return {"error": {"allowed": error.allowed, "hint": error.hint}}


if __name__ == "__main__":
    _limit_child()
    print(json.dumps(_read(sys.stdin.buffer.read(), int(sys.argv[1]))))
