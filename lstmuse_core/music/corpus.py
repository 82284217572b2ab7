"""Reading symbolic music files into monophonic, key-normalised, bar-aligned melodies.

music21 does the parsing; everything after it works on plain numbers so it is
fast: ties are merged while walking the notes, the top voice is kept where
notes overlap (chords give their highest note), offsets are put on the 16th
grid (or the song is dropped, by option), and the song is moved to C major /
A minor by shifting MIDI numbers by the key signature's distance from C
(a modal tune keeps its mode: A dorian, one sharp, becomes D dorian).

Every song keeps its meter and mode and starts on a bar line: a pickup
(anacrusis) is preceded by a rest for the rest of its bar, and the last note is
held to the end of its bar, so a model can be told where the bar is. A song
whose bars change length (a bar of 3/4 in a 2/4 song, a change of meter) keeps
each bar as written (`Song.bars`, laid out by `bar_layout`); one with a bar longer
than `MAX_BAR_STEPS` or off the 16th grid is dropped, with the reason counted.

A style names a folder of music21's bundled corpus; any folder of MIDI,
MusicXML, kern or ABC files works the same way.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from lstmuse_core.errors import CorpusError, InvalidParameter
from lstmuse_core.music.bar_layout import Dropped, Layout, lay_out_bars
from lstmuse_core.music.encoding import (
    HOLD,
    STEPS_PER_QUARTER,
    NoteEvent,
    encode_notes,
    round_ornaments,
)
from lstmuse_core.music.form import Section
from lstmuse_core.music.keys import (
    MODE_TONICS,
    PENTATONIC_MODES,
    PENTATONIC_SCALE,
    parse_mode,
)
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.music_files import SUPPORTED_SUFFIXES
from lstmuse_core.music.uploads import UploadLimits, compressed_musicxml_size

OffGridPolicy = Literal["drop", "quantize", "triplets", "triplets-round"]
OFF_GRID_POLICIES = ("drop", "quantize", "triplets", "triplets-round")
_KEEPS_TRIPLETS = ("triplets", "triplets-round")
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
    pentatonic: bool = False

    def read_options(self) -> ReadOptions:
        """How this style's files are read (its part, its modes)."""
        return ReadOptions(part=self.part, pentatonic=self.pentatonic)

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
                "zuccal0.abc",
                "lot.abc",
                "lux.abc",
            ),
        ),
        Style(
            "chinese",
            "Han Chinese folk songs (Essen collection, ESAC: Shaanxi, Sichuan, Hunan, ...)",
            "essenFolksong",
            ("han*.abc",),
            pentatonic=True,
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
    ...), counting it; "quantize" rounds onsets and ends to the nearest 16th;
    "triplets" keeps triplets of 8ths exactly (`encoding.TRIPLET`) and drops
    a song with any other off-grid time; "triplets-round" keeps them and rounds
    any other off-grid time to the grid (`encoding.round_ornaments`: 16th-note
    triplets and 32nds, which no marker holds, read as the notes they ornament).
    part: the part to read from polyphonic scores (matched against part names
    and ids, case-insensitively); None reads the top part.
    pentatonic: a tune of exactly the five notes of a pentatonic scale is in a
    pentatonic mode named by its final (gong, shang, jue, zhi, yu; `keys.PENTATONIC_MODES`).
    """

    off_grid: OffGridPolicy = "drop"
    part: str | None = None
    pentatonic: bool = False

    def __post_init__(self) -> None:
        if self.off_grid not in OFF_GRID_POLICIES:
            raise InvalidParameter(
                "off_grid", self.off_grid, f"one of {', '.join(OFF_GRID_POLICIES)}"
            )


@dataclass(frozen=True)
class Song:
    """One melody in the model's key space (C's scale), starting on a bar line.

    ``mode``: one of `lstmuse_core.music.keys.MODES` (its tonic in C's scale is
    `MODE_TONICS`); ``pickup``: steps of leading rest before the first note
    (0: the song starts on the downbeat). ``sections``: the tune's parts as written
    (`Section`; `form` spells them out, ``AABB``); ``end``: the step where the tune
    really ends (after the note under ``Fine``, or the first part's last ending for a
    ``D.C.`` without ``Fine``); None: at the end of ``symbols``. ``bars``: each
    bar's length in steps when they are not all the meter's (a song that changes
    meter, `bar_layout`); () when every bar is ``meter.bar_steps`` long.
    """

    song_id: str
    title: str
    symbols: list[str] = field(repr=False)
    meter: Meter
    key_sharps: int
    transposition: int
    mode: str = "major"
    pickup: int = 0
    sections: tuple[Section, ...] = ()
    end: int | None = None
    bars: tuple[int, ...] = ()

    @property
    def final_step(self) -> int:
        """The step after the tune's real end (`end`, else the whole song)."""
        return len(self.symbols) if self.end is None else self.end

    @property
    def ending_symbols(self) -> list[str]:
        """The symbols up to the tune's real end: what its cadence is read from."""
        return self.symbols[: self.final_step]

    @property
    def form(self) -> str:
        """The parts as played: ``AABB`` for two repeated parts, ``AAB`` for a repeated first."""
        return "".join(s.label * (2 if s.repeated else 1) for s in self.sections)

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
            "sections": [s.to_json() for s in self.sections],
            "end": self.end,
            **({"bars": list(self.bars)} if self.bars else {}),
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
            tuple(Section.from_json(s) for s in data.get("sections", ())),
            data.get("end"),
            tuple(data.get("bars", ())),
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
            marked, directions = prepare_abc_tune(tune)
            results += _read_parsed(
                lambda marked=marked: _parse_text(marked, "abc"), tune_label, options, directions
            )
    return results


# ABC writes "Fine" and "D.C." as annotations ("Fine", "^Fine", "_D.C.") or decorations
# (!fine!, !D.C.!); music21's ABC reader drops both.
_FINE = re.compile(r'"[\^_<>@]?\s*fine\.?\s*"|!fine!', re.IGNORECASE)
_DA_CAPO = re.compile(r'"[\^_<>@]?\s*D\.\s*C\.?[^"]*"|!D\.C\.!|!dacapo!', re.IGNORECASE)


def prepare_abc_tune(tune: str) -> tuple[str, Directions]:
    """An ABC tune as music21 should read it, and its `Directions` (``D.C.``, ``Fine``).

    Its first ``Fine`` becomes a no-chord sign (``"N.C."``: music21 keeps it, on the
    note it marks, and it sounds nothing). Where music21 misreads ABC (`_MUSIC21_FIXES`):
    the fermata shorthand ``H`` becomes ``!fermata!`` and text placed beside a note
    (``">"``) goes (music21 drops the note after either: O'Neill's ``Hd3`` lost its d,
    and the bar came out short); an accidental holds to the bar line on its pitch, as
    ABC says, so ``^F3F`` is written ``^F3^F`` (music21 read the second F natural).
    """
    body_start = tune.find("\nK:")
    head, body = (tune, "") if body_start < 0 else (tune[:body_start], tune[body_start:])
    body = "\n".join(_bar_at_line_ends(_music21_safe_lines(body.split("\n"))))
    fine = _FINE.search(body)
    marked = _FINE.sub('"N.C."', body, count=1)
    after_note = fine is not None and bool(re.match(r"\s*[|:\]]", body[fine.end() :]))
    return head + marked, Directions(bool(_DA_CAPO.search(body)), after_note)


_FIELD_LINE = re.compile(r"^[A-Za-z]:|^%")
# The tokens of an ABC music line the fixes look at; the rest passes through as written.
_MUSIC21_FIXES = re.compile(
    r'(?P<text>"[^"]*")|(?P<decoration>![^!\n]*!)|(?P<field>\[[A-Za-z]:[^\]]*\])'
    r"|(?P<comment>%.*)|(?P<bar>[|:]+)|(?P<fermata>H)"
    r"|(?P<note>(?P<accidental>\^\^|\^|__|_|=)?(?P<pitch>[A-Ga-g][,']*))"
)


def _music21_safe_lines(lines: list[str]) -> list[str]:
    """The tune's music lines with music21's misreadings written around (`prepare_abc_tune`)."""
    held: dict[str, str] = {}  # a pitch (letter and octave marks) -> its accidental in the bar

    def fix(match: re.Match[str]) -> str:
        text = match.group(0)
        if match.group("fermata"):
            return "!fermata!"
        if match.group("text"):
            # Text placed left or right of a note (">" for an accent, "<(" ...).
            return "" if text.startswith(('"<', '">')) else text
        if match.group("bar"):
            held.clear()
        elif match.group("note"):
            pitch, accidental = match.group("pitch"), match.group("accidental")
            if accidental:
                held[pitch] = accidental
            elif pitch in held:
                return held[pitch] + text
        return text

    # A bar may run on over a line break (ESAC writes a phrase a line): held carries on.
    return [line if _FIELD_LINE.match(line) else _MUSIC21_FIXES.sub(fix, line) for line in lines]


# The end of a music line that is already a bar line, a continuation or a field.
_ENDS_A_BAR = re.compile(r"(?:[|:\]\\]|^[A-Za-z]:.*|^\s*)$")


def _bar_at_line_ends(lines: list[str]) -> list[str]:
    """Each music line ended with a bar line where it has none.

    ESAC writes a phrase a line and leaves out the bar line at its end, where a
    bar often ends; music21 then reads the line's last bar and the next line's
    first as one (a 2/4 bar of 20 16ths, split where it chooses). Ended here, a
    bar that does run on over the line break is two short bars, which
    `bar_layout` adds up to the one bar again.
    """
    ended = []
    for line in lines:
        music = line.split("%", 1)[0].rstrip()
        ended.append(line if _ENDS_A_BAR.search(music) else music + " |")
    return ended


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


def _read_parsed(
    parse: Any, label: str, options: ReadOptions, directions: Directions | None = None
) -> Iterator[ReadResult]:
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
            yield song_from_score(score, song_label, options, directions=directions)
        except errors as error:
            yield DroppedSong(
                song_label, "not readable as music", f"{type(error).__name__}: {error}"[:300]
            )


@dataclass(frozen=True)
class Directions:
    """Playing directions found in an ABC tune's text (music21 drops the words).

    ``da_capo``: it says ``D.C.``: without a ``Fine`` it ends with its first part;
    ``fine_after_note``: its ``Fine`` stands after a note, before a bar line.
    """

    da_capo: bool = False
    fine_after_note: bool = False


def song_from_score(
    score: Any, label: str, options: ReadOptions, *, directions: Directions | None = None
) -> ReadResult:
    """One music21 score -> a bar-aligned `Song` in C's scale, or the reason it was dropped.

    ``directions``: what `prepare_abc_tune` found in an ABC tune's text.
    """
    part = _choose_part(score, options.part)
    if part is None:
        return DroppedSong(label, "no such part", f"no part named {options.part!r}")
    flat_notes = part.flatten().notes
    if options.off_grid == "drop" and _off_grid(flat_notes):
        # Before the bars are laid out: a tune with triplets counts as one, not as the
        # irregular bar a miscounted triplet makes.
        return DroppedSong(label, "off-grid duration", OFF_GRID_DETAIL)
    layout = lay_out_bars(part)
    if isinstance(layout, Dropped):
        return DroppedSong(label, layout.reason, layout.detail)
    meter = layout.meter
    timed = _top_line(layout.placed(flat_notes))
    if not timed:
        return DroppedSong(label, "no notes")
    notes = _on_grid(timed, options.off_grid, origin=Fraction(0))
    if notes is None:
        return DroppedSong(label, "off-grid duration", OFF_GRID_DETAIL)
    if not notes:
        return DroppedSong(label, "no notes")
    sharps, mode = _key_and_mode(part, score)
    shift = transposition_to_c(sharps)
    shifted = [
        NoteEvent(n.pitch + shift, n.start, n.duration) for n in notes if n.pitch is not None
    ]
    try:
        symbols = encode_notes(shifted)
    except ValueError:  # off the grid in no triplet of 8ths ("triplets" keeps only those)
        if options.off_grid != "triplets-round":
            return DroppedSong(label, "off-grid duration", OFF_GRID_DETAIL)
        shifted = round_ornaments(shifted)
        try:
            symbols = encode_notes(shifted)
        except ValueError:  # triplet groups that overlap: rare, and dropped
            return DroppedSong(label, "off-grid duration", OFF_GRID_DETAIL)
    bars = layout.irregular_bars
    written = sum(layout.bar_steps) if bars else len(symbols) + (-len(symbols) % meter.bar_steps)
    symbols += [HOLD] * (written - len(symbols))  # the last note lasts to the bar line
    sections = layout.sections(symbols)
    end = _real_end(layout, part, shifted, sections, directions or Directions())
    final = next(n.pitch for n in reversed(shifted) if n.start < (end or len(symbols)))
    assert final is not None  # only notes were kept
    if options.pentatonic and (gong := _pentatonic_gong(shifted)) is not None:
        # The five notes name the mode, not the signature: move gong to C, so each
        # pentatonic mode has one tonic in the model's scale (yu on A, zhi on G).
        move = (-gong + 6) % 12 - 6
        shifted = [NoteEvent(n.pitch + move, n.start, n.duration) for n in shifted]  # type: ignore[operator]
        symbols = [str(int(x) + move) if x.isdigit() else x for x in symbols]
        shift += move
        mode = PENTATONIC_BY_FINAL[(final + move) % 12]
    else:
        mode = _mode_by_final_note(mode, final)
    title = (score.metadata.title if score.metadata is not None else None) or ""
    return Song(
        label,
        str(title),
        symbols,
        meter,
        sharps,
        shift,
        mode,
        int(shifted[0].start),
        sections,
        end,
        bars,
    )


OFF_GRID_DETAIL = "a duration is not a multiple of a 16th (triplet, ...)"


def _off_grid(notes: Iterable[Any]) -> bool:
    """Whether a sounding note starts or lasts off the 16th grid (grace notes do not count)."""
    for element in notes:
        length = Fraction(element.duration.quarterLength)
        if length > 0 and (
            (length * STEPS_PER_QUARTER).denominator != 1
            or (Fraction(element.offset) * STEPS_PER_QUARTER).denominator != 1
        ):
            return True
    return False


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


def _top_line(notes: Iterable[tuple[Fraction, Any]]) -> list[_TimedNote]:
    """Monophonic top line in quarter lengths: ties merged, chords -> top note, skyline.

    ``notes``: (start in quarters, music21 note or chord), in time order.
    """
    line: list[_TimedNote] = []
    open_ties: dict[int, _TimedNote] = {}
    for start, element in notes:
        length = Fraction(element.duration.quarterLength)
        if length <= 0:  # grace notes, chord symbols
            continue
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
        exact = policy in _KEEPS_TRIPLETS
        if (start.denominator != 1 or end.denominator != 1) and not exact:
            if policy == "drop":
                return None
            start, end = Fraction(round(start)), Fraction(round(end))
        # Triplet times stay exact Fractions (encode_notes writes them as groups).
        begin: Any = start if exact and start.denominator != 1 else int(start)
        finish: Any = end if exact and end.denominator != 1 else int(end)
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


# A tune whose file states no mode, or only "major" (ABC's K:G is a signature more than a
# mode: O'Neill's writes G mixolydian and A dorian tunes so), takes the mode of its
# signature's scale that ends on its final: a K:G tune ending on A is A dorian, on D is D
# mixolydian, on E is E minor (in C's scale: the final's pitch class names the mode). Every
# ESAC tune reads as major. A final on the signature's 3rd, 4th or 7th degree keeps major:
# 797 German ESAC songs end on the third of a major tune (a ballad's last line), which
# is no phrygian; so does a final off the signature's scale.
FINAL_NOTE_MODES = ("major", "dorian", "mixolydian", "minor")
_FINAL_NOTE_MODES = {MODE_TONICS[mode]: mode for mode in FINAL_NOTE_MODES}
PENTATONIC_BY_FINAL = {MODE_TONICS[mode]: mode for mode in PENTATONIC_MODES}


def _mode_by_final_note(mode: str, final_pitch: int) -> str:
    """The mode, named by the last note for a tune read as major (in C's scale)."""
    if mode != "major":
        return mode
    return _FINAL_NOTE_MODES.get(final_pitch % 12, mode)


def _pentatonic_gong(notes: list[NoteEvent]) -> int | None:
    """The pitch class of gong when the tune's notes are exactly one pentatonic scale's five."""
    classes = {n.pitch % 12 for n in notes if n.pitch is not None}
    if len(classes) != len(PENTATONIC_SCALE):
        return None
    return next((g for g in range(12) if {(c - g) % 12 for c in classes} == PENTATONIC_SCALE), None)


def _real_end(
    layout: Layout,
    part: Any,
    notes: list[NoteEvent],
    sections: tuple[Section, ...],
    directions: Directions,
) -> int | None:
    """The step after the tune's last note as played, when that is not the song's end.

    ``Fine`` (marked by `prepare_abc_tune` as a no-chord sign): the end of the note
    it is written before, or after (``G3"fine":|``: ``Directions.fine_after_note``).
    A ``D.C.`` without ``Fine``: the end of the first part (its last ending).
    Otherwise None: the song ends where it is written to.
    """
    from music21 import harmony

    mark = next(iter(part.recurse().getElementsByClass(harmony.NoChord)), None)
    if mark is not None:
        at = layout.step(layout.place(Fraction(mark.getOffsetInHierarchy(part))))
        if directions.fine_after_note:
            last = max((n.start + n.duration for n in notes if n.start < at), default=None)
            return math.ceil(last) if last is not None else None  # a triplet's end: its step
        note = next((n for n in notes if n.start >= at), None)
        return math.ceil(note.start + note.duration) if note is not None else None
    if directions.da_capo and len(sections) > 1:
        return sections[0].stop
    return None
