"""A member's tune from a file: one checked, limited reader for every melody format we take.

`read_tune` reads a MIDI file (.mid, .midi), a MusicXML score (.musicxml,
.xml, .mxl) or an ABC tune (.abc) into a `Tune`: the melody in the file's own
key (its mode where the file states one), meter and register, a pickup kept as
leading rests so that the first full bar starts on a bar line, and the tempo
the file states. A file of several parts gives its melody part: the first
named as one (Melody, Soprano, Voice, Lead, ...), else the highest-sounding;
chords give their top note. An ABC file of several tunes gives its first.

Files come from strangers, and a small one can still cost seconds and
gigabytes to parse, so `read_tune_file` reads one off the event loop in a
child process (``python -m lstmuse_core.music.tune_file``) with a wall-clock
timeout and address-space and CPU limits, at most `MAX_READING_AT_ONCE` at a
time. Inside it, before any parser sees the file, its notes are counted (mido
for MIDI, the ``<note`` elements of MusicXML, the note letters of ABC) and a
.mxl passes the archive checks of `lstmuse_core.music.uploads` (a zip bomb).
The child answers one JSON line: ``{"tune": ...}`` (`Tune.to_json`) or
``{"error": {"allowed": ..., "hint": ...}}``. Seed files are read the same way
and cut to the seed's length (`lstmuse_core.music.seed_file`).

MIDI is read from its ticks with pretty_midi (`read_midi_parts`); its first
tick is taken as a bar line, as MIDI has no pickup of its own. MusicXML and
ABC are read by music21 through the corpus reader (`song_from_score`: ties
merged, durations put on the 16th grid, the mode by the signature and the
final note).
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import resource
import sys
import weakref
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.limits import MAX_BPM, MAX_TOTAL_STEPS, MIN_BPM
from lstmuse_core.music.encoding import transpose_symbols
from lstmuse_core.music.keys import Key, key_with_signature
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.meter import COMMON_TIME, Meter

MAX_TUNE_FILE_BYTES = 1024 * 1024
MAX_TUNE_FILE_NOTES = 20_000  # every part's, before any parser reads the file
# The longest tune kept: what a request may cost (64 bars of 4/4); a seed is cut shorter.
MAX_TUNE_STEPS = MAX_TOTAL_STEPS
TUNE_FILE_SECONDS = 10.0  # wall clock, including the child's start (~1 s)
TUNE_FILE_MEMORY_BYTES = 1024**3
# Children reading at once, whoever sent the files: the bot's machine lends
# at most this many times TUNE_FILE_MEMORY_BYTES to reading members' files.
MAX_READING_AT_ONCE = 2
_reading: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)

# What each format is called in a refusal; MIDI's words are the seed's since before
# the other formats were read.
FORMAT_ALLOWED = {
    "midi": "a standard MIDI file (.mid)",
    "musicxml": "a MusicXML score (.musicxml, .xml or .mxl)",
    "mxl": "a MusicXML score (.musicxml, .xml or .mxl)",
    "abc": "an ABC tune (.abc)",
}
TUNE_FILE_ALLOWED = "a MIDI (.mid), MusicXML (.musicxml, .xml, .mxl) or ABC (.abc) file"
_SUFFIX_FORMATS = {
    ".mid": "midi",
    ".midi": "midi",
    ".musicxml": "musicxml",
    ".xml": "musicxml",
    ".mxl": "mxl",
    ".abc": "abc",
}
TUNE_FILE_SUFFIXES = tuple(_SUFFIX_FORMATS)  # what front ends pick from a message's files
# What a member is told is being read ("Reading your seed ABC tune...").
FORMAT_NAMES = {
    "midi": "MIDI file",
    "musicxml": "MusicXML score",
    "mxl": "MusicXML score",
    "abc": "ABC tune",
}

# A part named with one of these words (or a longer word they start: Sopran,
# Melodie, Vocals) is the melody; otherwise the highest-sounding part is.
MELODY_PART_WORDS = (
    "melod",
    "sopran",
    "voice",
    "vocal",
    "vox",
    "lead",
    "tune",
    "sing",
    "cantus",
    "canto",
    "descant",
    "treble",
)


@dataclass(frozen=True)
class Tune:
    """A tune read from a file, in its own key, meter and register.

    ``melody``: absolute pitches as the file has them, the file's key (with
    its mode, analysed where the file states none: see ``key_stated``) and
    meter, a pickup as leading rests; ``bpm``: the tempo the file states,
    quarter notes a minute, None without one; ``part``: which part was taken
    and why (``'"Soprano", named as the melody'``, ``"the only part"``);
    ``title``: the file's, if any; ``tunes_in_file``: how many tunes the file
    held (the first was read).
    """

    melody: Melody
    bpm: float | None = None
    part: str = "the only part"
    title: str = ""
    key_stated: bool = True
    tunes_in_file: int = 1

    @property
    def source(self) -> str:
        """What was read, in words: ``"the only part"``, ``"the only part of the first of
        3 tunes in the file"``."""
        if self.tunes_in_file > 1:
            return f"{self.part} of the first of {self.tunes_in_file} tunes in the file"
        return self.part

    def to_json(self) -> dict[str, Any]:
        return {
            "symbols": self.melody.text,
            "meter": self.melody.meter.text,
            "key": self.melody.key.name if self.melody.key is not None else None,
            "key_stated": self.key_stated,
            "bpm": self.bpm,
            "part": self.part,
            "title": self.title,
            "tunes_in_file": self.tunes_in_file,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tune:
        """The tune `to_json` wrote; the melody is checked again as any melody is."""
        return cls(
            Melody(str(data["symbols"]).split(), str(data["meter"]), data["key"]),
            float(data["bpm"]) if data["bpm"] is not None else None,
            str(data["part"]),
            str(data["title"]),
            bool(data["key_stated"]),
            int(data["tunes_in_file"]),
        )


async def read_tune_file(
    data: bytes,
    name: str,
    *,
    parameter: str = "tune",
    max_steps: int = MAX_TUNE_STEPS,
    cut: bool = False,
    timeout: float = TUNE_FILE_SECONDS,
) -> Tune:
    """`read_tune` in a limited child process, without blocking the event loop.

    Raises `InvalidParameter` (``parameter``) naming the file for anything too
    large, too slow, too dense, damaged, or without a melody.
    """
    check_tune_file_size(len(data), name, parameter)
    music_format = tune_file_format(data, name, parameter)
    slots = _reading.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(MAX_READING_AT_ONCE))
    async with slots:
        arguments = [music_format, str(max_steps), str(cut)]
        out = await _run_child(data, name, parameter, arguments, timeout)
    try:
        answer = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):  # killed by a limit, or crashed in a library
        raise InvalidParameter(
            parameter,
            name,
            FORMAT_ALLOWED[music_format],
            hint="it could not be read within our limits",
        ) from None
    if "error" in answer:
        error = answer["error"]
        raise InvalidParameter(parameter, name, error["allowed"], hint=error.get("hint", ""))
    return Tune.from_json(answer["tune"])


def check_tune_file_size(size: int, name: str, parameter: str = "tune") -> None:
    """Refuse a file over `MAX_TUNE_FILE_BYTES` (front ends check before downloading)."""
    if size > MAX_TUNE_FILE_BYTES:
        raise InvalidParameter(
            parameter, name, f"a MIDI, MusicXML or ABC file of at most {MAX_TUNE_FILE_BYTES} bytes"
        )


def format_by_suffix(name: str) -> str | None:
    """``"midi"``, ``"musicxml"``, ``"mxl"`` or ``"abc"`` by the name's suffix; None if
    the suffix is none of `TUNE_FILE_SUFFIXES`."""
    return _SUFFIX_FORMATS.get(PurePosixPath(name).suffix.lower())


def tune_file_format(data: bytes, name: str, parameter: str = "tune") -> str:
    """``"midi"``, ``"musicxml"``, ``"mxl"`` or ``"abc"``: by the name's suffix, else by
    how the file starts (a chat attachment may be called anything)."""
    by_suffix = format_by_suffix(name)
    if by_suffix is not None:
        return by_suffix
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"MThd"):
        return "midi"
    if head.startswith(b"PK\x03\x04"):
        return "mxl"
    if head.startswith(b"<"):
        return "musicxml"
    if re.search(rb"^(X|K):", data, re.MULTILINE):
        return "abc"
    raise InvalidParameter(parameter, name, TUNE_FILE_ALLOWED)


def read_tune(
    data: bytes,
    name: str,
    *,
    parameter: str = "tune",
    max_steps: int = MAX_TUNE_STEPS,
    cut: bool = False,
) -> Tune:
    """The melody of a MIDI, MusicXML or ABC file (see the module docstring), in this process.

    ``max_steps``: the longest tune, in 16th notes; a longer one is refused, or
    with ``cut`` cut to its first ``max_steps`` (a seed). Raises
    `InvalidParameter` (``parameter``) naming the file ``name`` for a damaged,
    dense or empty file, one without pitched notes, or one we cannot write.
    Trusts its caller on size and time: files from strangers go through
    `read_tune_file`.
    """
    music_format = tune_file_format(data, name, parameter)
    allowed = FORMAT_ALLOWED[music_format]

    def refuse(hint: str, what: str = allowed) -> InvalidParameter:
        return InvalidParameter(parameter, name, what, hint=hint[:200])

    if not data.strip():
        raise refuse("the file is empty")
    if music_format == "midi":
        notes = _midi_notes(data, refuse)
        _check_density(notes, refuse)
        tune = _midi_tune(data, name, parameter, max_steps + 1, refuse)
    else:
        tune = _score_tune(data, name, parameter, music_format, refuse)
    if len(tune.melody) > max_steps:
        if not cut:
            raise refuse(
                f"it is {len(tune.melody)} 16th notes long",
                f"a tune of at most {max_steps} 16th notes ({max_steps // 16} bars of 4/4)",
            )
        tune = _cut(tune, max_steps)
    return tune


def _check_density(notes: int, refuse: Any) -> None:
    if notes > MAX_TUNE_FILE_NOTES:
        raise refuse(f"it has {notes}", f"a file of at most {MAX_TUNE_FILE_NOTES} notes")


def _cut(tune: Tune, steps: int) -> Tune:
    melody = tune.melody
    return Tune(
        Melody(melody.symbols[:steps], melody.meter, melody.key),
        tune.bpm,
        tune.part,
        tune.title,
        tune.key_stated,
        tune.tunes_in_file,
    )


def melody_part(parts: Sequence[tuple[str, float]]) -> tuple[int, str]:
    """The index of the melody among ``(name, mean pitch)`` parts, and why, in words.

    The first part named as a melody (`MELODY_PART_WORDS`), else the one with
    the highest mean pitch: in a song, a hymn or a lead sheet the tune is on top.
    """
    if len(parts) == 1:
        return 0, "the only part"
    for index, (name, _) in enumerate(parts):
        words = re.findall(r"[a-z]+", name.casefold())
        if any(word.startswith(MELODY_PART_WORDS) for word in words):
            return index, f'"{name}", named as the melody'
    index = max(range(len(parts)), key=lambda i: parts[i][1])
    shown = f'"{parts[index][0]}"' if parts[index][0] else f"part {index + 1}"
    return index, f"{shown}, the highest of {len(parts)} parts"


def _midi_notes(data: bytes, refuse: Any) -> int:
    """The note-ons of a MIDI file, counted by mido before pretty_midi reads the file."""
    import mido

    try:
        midi = mido.MidiFile(file=io.BytesIO(data))
    except Exception as error:  # mido raises many types for a corrupt file
        raise refuse(str(error)) from None
    return sum(
        1
        for track in midi.tracks
        for message in track
        if message.type == "note_on" and message.velocity > 0
    )


def _midi_tune(data: bytes, name: str, parameter: str, max_steps: int, refuse: Any) -> Tune:
    from lstmuse_core.music.midi import read_midi_parts, top_voice

    try:
        read = read_midi_parts(data, max_steps=max_steps, parameter=parameter)
    except InvalidParameter as error:  # it names the bytes, not the file
        raise refuse(error.hint, error.allowed) from None
    index, why = melody_part(
        [(part.name, sum(p for _, _, p in part.notes) / len(part.notes)) for part in read.parts]
    )
    symbols = top_voice(read.parts[index].notes)
    try:
        meter = Meter.parse(read.meter, parameter) if read.meter else COMMON_TIME
    except InvalidParameter:
        raise refuse(
            f"its time signature is {read.meter}", "a tune in a meter we write (2/4, 6/8, ...)"
        ) from None
    key = read.key or _analysed_key(Melody(symbols, meter))
    return Tune(Melody(symbols, meter, key), read.bpm, why, "", read.key is not None)


def _analysed_key(melody: Melody) -> Key:
    """The major or minor key music21's analysis hears in ``melody`` (a file without a key)."""
    from music21 import note, stream

    part = stream.Part()
    for event in melody.notes:
        item = note.Rest() if event.pitch is None else note.Note(event.pitch)
        item.quarterLength = event.duration / 4
        part.append(item)
    analysed = part.analyze("key")
    return Key(
        analysed.tonic.name.replace("-", "b"), "minor" if analysed.mode == "minor" else "major"
    )


def _score_tune(data: bytes, name: str, parameter: str, music_format: str, refuse: Any) -> Tune:
    """A MusicXML or ABC file's melody, by music21 and the corpus reader."""
    from lstmuse_core.music.corpus import split_abc_tunes

    tunes_in_file = 1
    if music_format == "abc":
        tunes = split_abc_tunes(data.decode("utf-8", errors="replace"))
        if not tunes:
            raise refuse("the file is empty")
        text, tunes_in_file = tunes[0], len(tunes)
        _check_density(_abc_notes(text), refuse)
    else:
        xml = _mxl_score(data, name, parameter, refuse) if music_format == "mxl" else data
        _check_density(len(re.findall(rb"<note[\s>]", xml)), refuse)
        text = xml.decode("utf-8", errors="replace")
    tune = _parsed_tune(text, "abc" if music_format == "abc" else "musicxml", name, refuse)
    return Tune(
        tune.melody, tune.bpm, tune.part, tune.title, tune.key_stated, tunes_in_file=tunes_in_file
    )


# Parts of an ABC tune's body that are not notes: chord symbols and annotations in
# quotes, decorations (!trill!, +fermata+) and inline fields ([K:D]).
_ABC_NOT_NOTES = re.compile(r'"[^"\n]*"|![^!\n]*!|\+[^+\n]*\+|\[[A-Za-z]:[^\]\n]*\]')
_ABC_FIELD_OR_COMMENT = re.compile(r"^\s*(%|[A-Za-z]:)")


def _abc_notes(text: str) -> int:
    """The note letters of an ABC tune's body (an upper bound: what music21 would make)."""
    body = "\n".join(line for line in text.splitlines() if not _ABC_FIELD_OR_COMMENT.match(line))
    return len(re.findall(r"[A-Ga-g]", _ABC_NOT_NOTES.sub("", body)))


def _mxl_score(data: bytes, name: str, parameter: str, refuse: Any) -> bytes:
    """The score inside a compressed MusicXML file, once the archive passed the upload checks."""
    from lstmuse_core.music.uploads import compressed_musicxml_size

    compressed_musicxml_size(name, data, parameter=parameter)  # refuses a bomb, names the file
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        root = None
        if "META-INF/container.xml" in names:
            container = archive.read("META-INF/container.xml")
            found = re.search(rb'full-path="([^"]+)"', container)
            root = found.group(1).decode("utf-8", errors="replace") if found else None
        if root not in names:
            root = next(
                (
                    n
                    for n in names
                    if not n.startswith("META-INF/") and n.endswith((".xml", ".musicxml"))
                ),
                None,
            )
        if root is None:
            raise refuse("the archive holds no score")
        return archive.read(root)


def _parsed_tune(text: str, music21_format: str, name: str, refuse: Any) -> Tune:
    """Parse a score's text with music21 and take its melody part (see `melody_part`)."""
    from music21 import converter, key, stream, tempo

    from lstmuse_core.music.corpus import (
        ReadOptions,
        Song,
        parse_errors,
        song_from_score,
        without_beaming,
    )

    errors = parse_errors()
    try:
        with without_beaming():
            parsed = converter.parse(text, format=music21_format, forceSource=True)
    except errors as error:
        raise refuse(f"{type(error).__name__}: {error}") from None
    score = parsed.scores[0] if isinstance(parsed, stream.Opus) and parsed.scores else parsed
    parts = list(getattr(score, "parts", [])) or [score]
    sounding = [(_part_name(p), _mean_pitch(p)) for p in parts]
    voiced = [i for i, (_, mean) in enumerate(sounding) if mean is not None]
    if not voiced:
        raise refuse("the file has no pitched notes")
    index, why = melody_part([(sounding[i][0], sounding[i][1] or 0.0) for i in voiced])
    part = parts[voiced[index]]
    try:
        # A tune with triplets is still a tune: they are put on the nearest 16th.
        song = song_from_score(part, name, ReadOptions(off_grid="quantize"))
    except errors as error:
        raise refuse(f"{type(error).__name__}: {error}") from None
    if not isinstance(song, Song):
        raise refuse(f"{song.reason}: {song.detail}" if song.detail else song.reason)
    symbols = transpose_symbols(song.symbols, -song.transposition)  # back to its register
    marks = list(score.recurse().getElementsByClass(tempo.MetronomeMark))
    bpm = _clamped_bpm(marks[0].getQuarterBPM()) if marks else None
    title = str((score.metadata.title if score.metadata is not None else None) or "")
    return Tune(
        Melody(symbols, song.meter, key_with_signature(song.key_sharps, song.mode)),
        bpm,
        why,
        title,
        key_stated=bool(part.recurse().getElementsByClass(key.KeySignature)),
    )


def _part_name(part: Any) -> str:
    name = part.partName or (part.id if isinstance(part.id, str) else "")
    return str(name or "")


def _mean_pitch(part: Any) -> float | None:
    """The mean pitch of a part's notes (a chord's top note), None for a part without any."""
    tops = [max(p.midi for p in element.pitches) for element in part.flatten().notes]
    return sum(tops) / len(tops) if tops else None


def _clamped_bpm(quarter_bpm: float | None) -> float | None:
    if quarter_bpm is None or not quarter_bpm > 0:
        return None
    return min(MAX_BPM, max(MIN_BPM, round(float(quarter_bpm), 2)))


async def _run_child(
    data: bytes, name: str, parameter: str, arguments: list[str], timeout: float
) -> bytes:
    """The child's answer; it is killed on timeout and whenever the caller stops waiting."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        *arguments,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        out, _ = await asyncio.wait_for(child.communicate(data), timeout)
        return out
    except TimeoutError:
        raise InvalidParameter(
            parameter, name, f"a file that can be read within {timeout:g} s"
        ) from None
    finally:
        if child.returncode is None:  # timed out, or our caller was cancelled
            child.kill()
            await child.wait()


def _limit_child() -> None:
    """The child's first act (not a pre-exec hook: those are unsafe in threaded parents):
    cap its own memory and CPU time before it reads anything."""
    resource.setrlimit(resource.RLIMIT_AS, (TUNE_FILE_MEMORY_BYTES, TUNE_FILE_MEMORY_BYTES))
    cpu = int(TUNE_FILE_SECONDS) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))


def _child_answer(data: bytes, music_format: str, max_steps: int, cut: bool) -> dict[str, Any]:
    """What the child prints: the tune, or the refusal's words (the parent names the file)."""
    name = f"file.{'mid' if music_format == 'midi' else music_format}"
    try:
        return {"tune": read_tune(data, name, max_steps=max_steps, cut=cut).to_json()}
    except InvalidParameter as error:
        return {"error": {"allowed": error.allowed, "hint": error.hint}}


if __name__ == "__main__":
    _limit_child()
    music_format, steps, cut = sys.argv[1:4]
    answer = _child_answer(sys.stdin.buffer.read(), music_format, int(steps), cut == "True")
    print(json.dumps(answer))
