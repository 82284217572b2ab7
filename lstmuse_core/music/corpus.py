"""Reading symbolic music files into monophonic, key-normalised, bar-aligned melodies.

music21 does the parsing; everything after it works on plain numbers so it is
fast: ties are merged while walking the notes, the top voice is kept where
notes overlap (chords give their highest note), offsets are put on the 16th
grid (or the song is dropped, by option), and the song is moved to C major /
A minor by shifting MIDI numbers by the key signature's distance from C
(a modal tune keeps its mode: A dorian, one sharp, becomes D dorian).

Every song keeps its meter and mode and starts on a bar line: a pickup
(anacrusis) is preceded by a rest for the rest of its bar, and the last note is
held to the end of its bar, so step ``k * bar`` is always a bar line and a
model can be told where the bar is. Songs that change meter, whose bar is not
a whole number of 16ths (or longer than `MAX_BAR_STEPS`), or whose full bars
do not fall on that grid (an irregular pickup after a repeat) are dropped,
with the reason counted.

A style names a folder of music21's bundled corpus; any folder of MIDI,
MusicXML, kern or ABC files works the same way.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from lstmuse_core.errors import CorpusError, InvalidParameter
from lstmuse_core.music.encoding import HOLD, STEPS_PER_QUARTER, NoteEvent, encode_notes
from lstmuse_core.music.keys import parse_mode
from lstmuse_core.music.meter import MAX_BAR_STEPS, Meter
from lstmuse_core.music.music_files import SUPPORTED_SUFFIXES
from lstmuse_core.music.uploads import UploadLimits, compressed_musicxml_size

OffGridPolicy = Literal["drop", "quantize"]
# A .mxl in a folder the CLI reads is checked as an upload is (a zip bomb of 200 MiB
# inflated took 120 s and 1.25 GB of music21), with room for a whole score.
FOLDER_ARCHIVE_LIMITS = UploadLimits(max_file_bytes=64 * 1024 * 1024)


@dataclass(frozen=True)
class Style:
    """A style: a named corpus inside music21 and, for polyphony, the part to read."""

    name: str
    description: str
    corpus_folder: str
    patterns: tuple[str, ...]
    part: str | None = None

    def files(self) -> list[Path]:
        root = music21_corpus_root() / self.corpus_folder
        found = sorted({p for pattern in self.patterns for p in root.glob(pattern) if p.is_file()})
        if not found:
            raise CorpusError(f"style {self.name!r}: no files match {self.patterns} in {root}")
        return found

    @property
    def root(self) -> Path:
        return music21_corpus_root() / self.corpus_folder


STYLES: dict[str, Style] = {
    style.name: style
    for style in (
        Style(
            "folk",
            "German folk songs and ballads (Essen collection, ESAC)",
            "essenFolksong",
            (
                "altdeu*.abc",
                "ballad*.abc",
                "boehme*.abc",
                "dva0.abc",
                "erk*.abc",
                "han*.abc",
                "zuccal0.abc",
                "lot.abc",
                "lux.abc",
            ),
        ),
        Style(
            "irish",
            "Irish dance tunes and airs (O'Neill's Music of Ireland, 1850)",
            "oneills1850",
            ("*.abc",),
        ),
        Style(
            "fiddle",
            "Fiddle reels, hornpipes and strathspeys (Ryan's Mammoth Collection)",
            "ryansMammoth",
            ("*.abc",),
        ),
        Style(
            "chorale",
            "Bach chorales, soprano line",
            "bach",
            ("*.mxl", "*.xml", "*.krn"),
            part="Soprano",
        ),
        Style(
            "scottish", "Scottish airs (Aird's Selection of Airs, 6 books)", "airdsAirs", ("*.abc",)
        ),
    )
}


def music21_corpus_root() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


@dataclass(frozen=True)
class ReadOptions:
    """How files become melodies; part of every cache key.

    off_grid: "drop" skips a song with a duration off the 16th grid (triplets,
    ...), counting it; "quantize" rounds onsets and ends to the nearest 16th.
    part: the part to read from polyphonic scores (matched against part names
    and ids, case-insensitively); None reads the top part.
    """

    off_grid: OffGridPolicy = "drop"
    part: str | None = None

    def __post_init__(self) -> None:
        if self.off_grid not in ("drop", "quantize"):
            from lstmuse_core.errors import InvalidParameter

            raise InvalidParameter("off_grid", self.off_grid, "use 'drop' or 'quantize'")


@dataclass(frozen=True)
class Song:
    """One melody in the model's key space (C's scale), starting on a bar line.

    ``mode``: one of `lstmuse_core.music.keys.MODES` (its tonic in C's scale is
    `MODE_TONICS`); ``pickup``: steps of leading rest before the first note
    (0: the song starts on the downbeat).
    """

    song_id: str
    title: str
    symbols: list[str] = field(repr=False)
    meter: Meter
    key_sharps: int
    transposition: int
    mode: str = "major"
    pickup: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.song_id,
            "title": self.title,
            "symbols": " ".join(self.symbols),
            "meter": self.meter.text,
            "key_sharps": self.key_sharps,
            "transposition": self.transposition,
            "mode": self.mode,
            "pickup": self.pickup,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Song:
        return cls(
            data["id"],
            data["title"],
            data["symbols"].split(),
            Meter.parse(data["meter"]),
            data["key_sharps"],
            data["transposition"],
            data["mode"],
            data["pickup"],
        )


@dataclass(frozen=True)
class DroppedSong:
    """A song or file that was skipped, with a short reason category and details."""

    source: str
    reason: str
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {"source": self.source, "reason": self.reason, "detail": self.detail}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> DroppedSong:
        return cls(data["source"], data["reason"], data.get("detail", ""))


ReadResult = Song | DroppedSong


def find_music_files(folder: Path) -> tuple[list[Path], list[DroppedSong]]:
    """All music files under ``folder`` (recursively) and the other files, as dropped."""
    if not folder.is_dir():
        raise CorpusError(f"input folder {str(folder)!r} does not exist or is not a folder")
    music, others = [], []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.suffix.lower() in SUPPORTED_SUFFIXES:
            music.append(path)
        else:
            allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
            others.append(
                DroppedSong(
                    str(path.relative_to(folder)),
                    "unsupported format",
                    f"suffix {path.suffix!r}; readable: {allowed}",
                )
            )
    return music, others


_ABC_TUNE_START = re.compile(r"^X:", re.MULTILINE)


def split_abc_tunes(text: str) -> list[str]:
    """Split an ABC file into one text per tune, each with the file header prepended."""
    starts = [m.start() for m in _ABC_TUNE_START.finditer(text)]
    if not starts:
        return [text] if text.strip() else []
    header = text[: starts[0]]
    # Only header fields (not the free-text comments of a book's title page)
    # carry defaults that tunes rely on.
    header = "\n".join(line for line in header.splitlines() if re.match(r"^[A-Za-z]:|^%%", line))
    bounds = [*starts, len(text)]
    return [header + "\n" + text[a:b] for a, b in itertools.pairwise(bounds)]


def read_file(path: Path, label: str, options: ReadOptions) -> list[ReadResult]:
    """Read every song of one file; never raises for a bad file (it is reported dropped)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return [DroppedSong(label, "unreadable", str(error))]
    if not data.strip():
        return [DroppedSong(label, "empty file")]
    music_format = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if music_format is None:
        return [DroppedSong(label, "unsupported format", f"suffix {path.suffix!r}")]
    if music_format == "abc":
        tunes = split_abc_tunes(data.decode("utf-8", errors="replace"))
        return read_abc_tunes(tunes, label, options)
    if path.suffix.lower() == ".mxl":
        try:
            compressed_musicxml_size(label, data, FOLDER_ARCHIVE_LIMITS, parameter="file")
        except InvalidParameter as error:
            return [DroppedSong(label, "refused archive", str(error))]
    with without_beaming():
        return list(_read_parsed(lambda: _parse_path(path, music_format), label, options))


def read_abc_tunes(
    tunes: list[str], label: str, options: ReadOptions, first_number: int = 1
) -> list[ReadResult]:
    """Read ABC tune texts (see `split_abc_tunes`); one result per tune."""
    results: list[ReadResult] = []
    with without_beaming():
        for number, tune in enumerate(tunes, start=first_number):
            tune_label = f"{label}#{number}"
            results += _read_parsed(lambda tune=tune: _parse_text(tune, "abc"), tune_label, options)
    return results


@contextlib.contextmanager
def without_beaming() -> Iterator[None]:
    """Skip music21's beam layout while parsing.

    music21's ABC reader calls ``makeBeams`` on every part: more than 40 % of
    the parse time (measured on ESAC erk), spent on notation that a melody
    encoding never reads. Only this reader's own parsing is affected; the
    method is restored afterwards.
    """
    from music21 import stream

    original = stream.Stream.makeBeams
    stream.Stream.makeBeams = lambda self, *args, **kwargs: self  # type: ignore[method-assign]
    try:
        yield
    finally:
        stream.Stream.makeBeams = original  # type: ignore[method-assign]


def _parse_path(path: Path, music_format: str) -> Any:
    from music21 import converter

    return converter.parse(str(path), format=music_format, forceSource=True)


def _parse_text(text: str, music_format: str) -> Any:
    from music21 import converter

    return converter.parse(text, format=music_format, forceSource=True)


def parse_errors() -> tuple[type[Exception], ...]:
    """What music21 raises for bad input: its own errors and the built-in kinds.

    Not ``Exception``: an exception raised *into* the reader to stop it (a
    Celery soft time limit is a plain ``Exception`` subclass) must not become
    one more dropped song while the job runs on past its limit.
    """
    from music21.exceptions21 import Music21Exception

    return (
        Music21Exception,
        ArithmeticError,
        AssertionError,
        AttributeError,
        EOFError,
        LookupError,
        OSError,
        RuntimeError,
        TypeError,
        ValueError,
    )


def _read_parsed(parse: Any, label: str, options: ReadOptions) -> Iterator[ReadResult]:
    from music21 import stream

    errors = parse_errors()
    try:
        parsed = parse()
    except errors as error:
        yield DroppedSong(label, "not readable as music", f"{type(error).__name__}: {error}"[:300])
        return
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    for number, score in enumerate(scores, start=1):
        song_label = label if len(scores) == 1 else f"{label}#{number}"
        try:
            yield song_from_score(score, song_label, options)
        except errors as error:
            yield DroppedSong(
                song_label, "not readable as music", f"{type(error).__name__}: {error}"[:300]
            )


def song_from_score(score: Any, label: str, options: ReadOptions) -> ReadResult:
    """One music21 score -> a bar-aligned `Song` in C's scale, or the reason it was dropped."""
    part = _choose_part(score, options.part)
    if part is None:
        return DroppedSong(label, "no such part", f"no part named {options.part!r}")
    meter = _single_meter(part)
    if isinstance(meter, DroppedSong):
        return DroppedSong(label, meter.reason, meter.detail)
    timed = _top_line(part.flatten().notes)
    if not timed:
        return DroppedSong(label, "no notes")
    pickup = _pickup_quarters(part)
    if not _full_bars_on_grid(part, meter, pickup):
        return DroppedSong(
            label, "irregular bar lines", f"a full bar of {meter} falls off the bar grid"
        )
    notes = _on_grid(timed, options.off_grid, origin=-pickup)
    if notes is None:
        return DroppedSong(
            label, "off-grid duration", "a duration is not a multiple of a 16th (triplet, ...)"
        )
    if not notes:
        return DroppedSong(label, "no notes")
    sharps, mode = _key_and_mode(part, score)
    shift = transposition_to_c(sharps)
    shifted = [
        NoteEvent(n.pitch + shift, n.start, n.duration) for n in notes if n.pitch is not None
    ]
    final = shifted[-1].pitch
    assert final is not None  # only notes were kept
    mode = _mode_by_final_note(mode, final)
    symbols = encode_notes(shifted)
    symbols += [HOLD] * (-len(symbols) % meter.bar_steps)  # the last note lasts to the bar line
    title = (score.metadata.title if score.metadata is not None else None) or ""
    return Song(label, str(title), symbols, meter, sharps, shift, mode, shifted[0].start)


def transposition_to_c(key_sharps: int) -> int:
    """Semitones that move a key signature to none (smallest move, -6..+5).

    The tonic of the signature's relative major sits 7 semitones up per sharp,
    so a signature of ``key_sharps`` maps major -> C, minor -> A and any mode
    to the mode of C's scale with the same signature.
    """
    relative_major = (7 * key_sharps) % 12
    return (-relative_major + 6) % 12 - 6


def _choose_part(score: Any, part_name: str | None) -> Any:
    parts = list(getattr(score, "parts", []))
    if not parts:
        return score if part_name is None else None
    if part_name is None:
        return parts[0]
    wanted = part_name.casefold()
    for part in parts:
        names = {str(part.partName or "").casefold(), str(part.id or "").casefold()}
        if wanted in names:
            return part
    return None


@dataclass
class _TimedNote:
    start: Fraction
    end: Fraction
    pitch: int


def _top_line(notes: Iterable[Any]) -> list[_TimedNote]:
    """Monophonic top line in quarter lengths: ties merged, chords -> top note, skyline."""
    line: list[_TimedNote] = []
    open_ties: dict[int, _TimedNote] = {}
    for element in notes:
        length = Fraction(element.duration.quarterLength)
        if length <= 0:  # grace notes
            continue
        start = Fraction(element.offset)
        pitch = max(p.midi for p in element.pitches)
        tie = element.tie.type if element.tie is not None else None
        held = open_ties.get(pitch)
        if tie in ("stop", "continue") and held is not None and held.end == start:
            held.end = start + length
            if tie == "stop":
                del open_ties[pitch]
            continue
        note = _TimedNote(start, start + length, pitch)
        if line and line[-1].start == start:
            if pitch <= line[-1].pitch:
                continue
            line.pop()
        if line and line[-1].end > start:
            line[-1].end = start
        line.append(note)
        if tie == "start":
            open_ties[pitch] = note
    return line


def _on_grid(
    line: list[_TimedNote], policy: OffGridPolicy, origin: Fraction
) -> list[NoteEvent] | None:
    """Timed notes -> 16th-step notes from ``origin`` (the first bar line, in quarters).

    None when off-grid and the policy drops. Anything before ``origin`` (a
    pickup longer than its bar says) is off the grid too.
    """
    first = origin
    if line[0].start < origin:
        return None
    events: list[NoteEvent] = []
    for note in line:
        start, end = (
            (note.start - first) * STEPS_PER_QUARTER,
            (note.end - first) * STEPS_PER_QUARTER,
        )
        if start.denominator != 1 or end.denominator != 1:
            if policy == "drop":
                return None
            start, end = Fraction(round(start)), Fraction(round(end))
        begin, finish = int(start), int(end)
        if events and begin < events[-1].end:
            last = events.pop()
            if begin > last.start:
                events.append(NoteEvent(last.pitch, last.start, begin - last.start))
        if finish > begin:
            events.append(NoteEvent(note.pitch, begin, finish - begin))
    return events


def _key_and_mode(part: Any, score: Any) -> tuple[int, str]:
    """Sharps (negative: flats) of the first key signature and the song's mode.

    The mode is the file's where it names one (ABC ``K:Ador``, a MusicXML
    key with a mode); else music21's key analysis decides between the
    signature's major and minor; a song without a signature takes the analysed
    key's. `_mode_by_final_note` then corrects a "major" that ends elsewhere.
    """
    from music21 import key

    for signature in part.recurse().getElementsByClass(key.KeySignature):
        stated = getattr(signature, "mode", None)
        if stated:
            with contextlib.suppress(InvalidParameter):
                return int(signature.sharps), parse_mode(stated)
        analysed = score.analyze("key")
        agrees = int(analysed.sharps) == int(signature.sharps)
        return int(signature.sharps), "minor" if agrees and analysed.mode == "minor" else "major"
    analysed = score.analyze("key")
    return int(analysed.sharps), "minor" if analysed.mode == "minor" else "major"


# A "major" tune (its key signature's major) ending on the signature's 6th or
# 2nd degree is in minor or dorian: ESAC and many ABC books write only the
# signature (every ESAC tune reads as major), and a folk tune ends on its tonic.
_FINAL_NOTE_MODES = {9: "minor", 2: "dorian"}


def _mode_by_final_note(mode: str, final_pitch: int) -> str:
    """The mode, corrected by the last note for a tune read as major (in C's scale)."""
    if mode != "major":
        return mode
    return _FINAL_NOTE_MODES.get(final_pitch % 12, mode)


def _single_meter(part: Any) -> Meter | DroppedSong:
    """The song's one time signature (4/4 if it states none), or why it cannot be used."""
    from music21 import meter

    stated = {str(s.ratioString) for s in part.recurse().getElementsByClass(meter.TimeSignature)}
    if len(stated) > 1:
        return DroppedSong("", "changes meter", ", ".join(sorted(stated)))
    text = stated.pop() if stated else "4/4"
    try:
        parsed = Meter.parse(text)
    except InvalidParameter:
        return DroppedSong("", "unsupported meter", text)
    if not parsed.fits_model:
        return DroppedSong(
            "", "unsupported meter", f"{text}: bars of at most {MAX_BAR_STEPS} 16th notes"
        )
    return parsed


def _pickup_quarters(part: Any) -> Fraction:
    """How much of the first bar is missing before the first note (its anacrusis)."""
    from music21 import stream

    first = next(iter(part.getElementsByClass(stream.Measure)), None)
    return Fraction(first.paddingLeft) if first is not None else Fraction(0)


def _full_bars_on_grid(part: Any, meter: Meter, pickup: Fraction) -> bool:
    """Whether every complete bar starts on the bar grid that the pickup sets.

    Incomplete bars are allowed (a section's short last bar and the next
    section's pickup make one bar between them); a complete bar off the grid
    means the written bars do not add up, and the bar positions would lie.
    """
    from music21 import stream

    bar = Fraction(meter.bar_steps, STEPS_PER_QUARTER)
    return all(
        (Fraction(m.offset) + pickup) % bar == 0
        for m in part.getElementsByClass(stream.Measure)
        if Fraction(m.duration.quarterLength) == bar
    )
