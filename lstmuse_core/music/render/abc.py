"""The ABC export: a melody as folk players share tunes (thesession.org, tune books).

One tune in ABC 2.1: ``X:``, ``T:`` (the title), ``M:`` (the meter), ``L:1/8``,
``Q:`` (the tempo in the meter's beat: ``Q:3/8=80`` in 6/8 at 120 quarter
notes a minute), ``K:`` with its mode (``K:Ador``, ``K:Emin``, ``K:D``), then
the notes, a bar line every bar, four bars a line and ``|]`` at the end.

The unit is an eighth note in every meter, as the tune books write reels,
jigs, hornpipes, polkas and waltzes alike: an eighth is ``A``, a 16th ``A/``,
a dotted quarter ``A3``. A note is cut at each bar line and tied (``c3-|c``);
a length no single note has (five 16ths) becomes tied notes that do
(``A2-A/``). Notes are spelled in the key (`Key.spell`): an accidental is
written where the key signature and the accidentals already in the bar do
not give the note (ABC 2.1 carries an accidental to the end of its bar, in
every octave), so a note after an accidental may need a natural (``=F``); a
double sharp or flat is written on each note (music21 carries it as a single one).

Chords (`lstmuse_core.music.harmony`), when given, are written as players
read them, ``"G"`` before the note or rest where each chord starts; a note
held across a chord's start is written as two tied notes so the symbol has a
note to stand on.

A melody's leading rests are not written: the tune starts at its first note,
and when that note is not on a bar line its bar is a short first bar (the
pickup, as ABC allows), so the bars after it are whole.

A tune with a form (`lstmuse_core.music.form.TuneForm`; the melody is given as
played) is written as players write it: each repeat once between ``|:`` and
``:|``, first and second endings as ``[1`` and ``[2``, the form and part
lengths in an ``N:`` line. A part that comes back at the end (ABA) is written
out again, where the MusicXML score writes ``D.C. al Fine``: music21's ABC
reader and abc2midi 4.84 both ignore ``!D.C.!`` and ``!fine!`` (measured), so
an ABA tune so written would play as AB.

Plain text and arithmetic only: no music library is needed to write ABC.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from math import gcd
from pathlib import Path
from typing import Any

from lstmuse_core.music.encoding import TRIPLET_STEPS, NoteEvent, triplet_groups
from lstmuse_core.music.form import ScoreBar, TuneForm
from lstmuse_core.music.harmony import ChordSpan
from lstmuse_core.music.keys import Key, heptatonic_mode, key_with_signature
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.pitch import LETTER_PITCH_CLASSES
from lstmuse_core.music.render.base import RenderJob

BARS_PER_LINE = 4
STEPS_PER_UNIT = 2  # L:1/8 is two 16th-note steps
# Lengths one note can show, in 16th-note steps: plain and dotted values.
_NOTE_LENGTHS = (32, 24, 16, 12, 8, 6, 4, 3, 2, 1)
_MODE_SUFFIXES = {
    "major": "",
    "minor": "min",
    "dorian": "dor",
    "phrygian": "phr",
    "lydian": "lyd",
    "mixolydian": "mix",
    "locrian": "loc",
}
_ACCIDENTALS = {-2: "__", -1: "_", 0: "=", 1: "^", 2: "^^"}
# A header line may not start a comment (%) or a text escape (\).
_TITLE_UNSAFE = re.compile(r"[%\\\x00-\x1f\x7f]")


def render_job(job: RenderJob, path: Path) -> Path:
    return write_abc(
        job.melody, path, title=job.title, bpm=job.options.bpm, chords=job.chords, form=job.form
    )


def write_abc(
    melody: Melody,
    path: Path,
    *,
    title: str = "",
    bpm: float = 120.0,
    chords: tuple[ChordSpan, ...] = (),
    form: TuneForm | None = None,
) -> Path:
    """Write the melody as an ABC tune at ``path`` (see `abc_tune`)."""
    text = abc_tune(melody, title=title, bpm=bpm, chords=chords, form=form)
    path.write_text(text, encoding="utf-8")
    return path


def abc_tune(
    melody: Melody,
    *,
    title: str = "",
    bpm: float = 120.0,
    chords: tuple[ChordSpan, ...] = (),
    form: TuneForm | None = None,
) -> str:
    """The melody as one ABC 2.1 tune; ``bpm``: quarter notes a minute, written in the
    meter's beat; ``chords`` written as chord symbols; ``form``: the melody's parts
    (it is given played out), written with repeats and endings. A melody in the model's
    key space (no key) is written in C."""
    marks: tuple[ScoreBar, ...] = ()
    if form is not None:
        marks = form.score
        chords = tuple(form.score_chords(chords))
        melody = Melody(form.score_symbols(melody.symbols), melody.meter, melody.key)
    key = _writable(melody.key) if melody.key is not None else Key("C")
    meter = melody.meter
    beat_steps = meter.beat_steps
    beat = _fraction(beat_steps, 16)
    header = [
        "%abc-2.1",
        "X:1",
        f"T:{_TITLE_UNSAFE.sub('', title).strip() or 'Untitled'}",
        f"M:{meter.text}",
        f"L:{_fraction(STEPS_PER_UNIT, 16)}",
        f"Q:{beat}={round(bpm * 4 / beat_steps)}",
        # ABC's K: has no pentatonic modes: yu is written as its parent, minor.
        f"K:{key.tonic}{_MODE_SUFFIXES[heptatonic_mode(key.mode)]}",
    ]
    if form is not None:
        header.insert(-1, f"N:{form.summary(meter.text)}")
    return "\n".join(header + _body(melody, key, chords, marks)) + "\n"


@dataclass(frozen=True)
class _Piece:
    """One written note or rest inside a bar: ``length`` steps at ``position`` from its
    bar line; ``tied``: the same pitch goes on after it."""

    pitch: int | None
    position: int | Fraction
    length: int | Fraction
    tied: bool
    chord: str = ""  # the chord symbol that starts here, if one does
    # In a triplet group (`encoding.TRIPLET`): its length is thirds of a quarter, written
    # as 8ths under ``(3``; ``tuplet_notes``: on a group's first piece, its pieces.
    group: int | None = None  # the step its triplet group starts on
    tuplet_notes: int = 0

    @property
    def in_triplet(self) -> bool:
        return self.group is not None


def _bar_line(marks: tuple[ScoreBar, ...], before: int | None, after: int | None) -> str:
    """The bar line between score bars ``before`` and ``after`` (None: the tune's start or
    end): ``|``, ``|:``, ``:|``, ``::``, ``|]``, then ``[1``/``[2`` where a volta opens."""
    ends = before is not None and before < len(marks) and marks[before].repeat_end
    starts = after is not None and after < len(marks) and marks[after].repeat_start
    if after is None:
        return ":|" if ends else "|]"
    # ``::`` where one repeat ends and the next starts: music21 reads ``:|:`` as a
    # start only (it played the first part three times).
    if ends or starts:
        line = "::" if ends and starts else (":|" if ends else "|:")
    else:
        line = "|" if before is not None else ""
    volta = marks[after].volta if after < len(marks) else 0
    if volta and (after == 0 or marks[after - 1].volta != volta):
        line += f"[{volta}"
    return line


def _body(
    melody: Melody, key: Key, chords: tuple[ChordSpan, ...], marks: tuple[ScoreBar, ...] = ()
) -> list[str]:
    """The tune's lines: bars of notes, four whole bars a line, ``|]`` at the end; with
    ``marks`` (a form's score bars), repeat signs and endings."""
    if marks:
        return _marked_body(melody, key, chords, marks)
    bar_steps, beat_steps = melody.meter.bar_steps, melody.meter.beat_steps
    lines: list[str] = []
    line: list[str] = []
    whole_bars = 0
    for pieces in _bars(melody, chords):
        line.append(_bar_text(pieces, key, beat_steps))
        whole_bars += sum(p.length for p in pieces) == bar_steps
        if whole_bars == BARS_PER_LINE:
            lines.append(" | ".join(line) + " |")
            line, whole_bars = [], 0
    if line:
        lines.append(" | ".join(line) + " |]")
    elif lines:
        lines[-1] = lines[-1][:-1] + "|]"
    return lines


def _bar_text(pieces: list[_Piece], key: Key, beat_steps: int) -> str:
    """One bar's notes and rests, a space at each beat, accidentals to its bar line."""
    accidentals = _BarAccidentals(key.signature_alterations)
    tokens: list[str] = []
    for piece in pieces:
        token = _token(piece, key, accidentals)
        # A space at each beat: notes within a beat are beamed together.
        gap = " " if tokens and piece.position % beat_steps == 0 else ""
        tokens.append(gap + token)
    return "".join(tokens)


class _BarAccidentals:
    """The accidentals one bar writes: where the key signature and the accidentals
    already in the bar do not give the note (ABC 2.1 carries one to the bar line), and
    on every double sharp or flat, which music21 carries as a single one (``^^f f``
    is F## F# there)."""

    def __init__(self, signature: dict[str, int]) -> None:
        self._in_force = dict(signature)

    def written(self, letter: str, alteration: int) -> str:
        needed = alteration != self._in_force[letter] or abs(alteration) == 2
        self._in_force[letter] = alteration
        return _ACCIDENTALS[alteration] if needed else ""


def _token(piece: _Piece, key: Key, accidentals: _BarAccidentals) -> str:
    """One note or rest as ABC: chord symbol, ``(3`` opening a triplet group, pitch, length, tie.

    A triplet group writes its notes as 8ths; ``(3:2:n``: three in the time of two,
    over its ``n`` notes (``(3A2B``, a quarter-triplet and an 8th-triplet, is two).
    """
    token = "z" if piece.pitch is None else _note(piece.pitch, key, accidentals)
    if piece.in_triplet:
        token += _length(int(piece.length * Fraction(3, 2)))
    else:
        token += _length(int(piece.length))
    token += "-" if piece.tied else ""
    if piece.tuplet_notes:
        token = ("(3" if piece.tuplet_notes == 3 else f"(3:2:{piece.tuplet_notes}") + token
    if piece.chord:
        token = f'"{piece.chord}"' + token
    return token


def _marked_body(
    melody: Melody, key: Key, chords: tuple[ChordSpan, ...], marks: tuple[ScoreBar, ...]
) -> list[str]:
    """The lines of a tune with a form: each bar line as `_bar_line` writes it."""
    bar_steps = melody.meter.bar_steps
    # A repeat that opens the tune goes back to its first bar line: its rests are written.
    bars = list(_bars(melody, chords, numbered=True, from_start=marks[0].repeat_start))
    lines, line = [], ""
    whole = 0
    for number, (index, pieces) in enumerate(bars):
        before = bars[number - 1][0] if number else None
        opening = _bar_line(marks, before, index) if number == 0 else ""
        after = bars[number + 1][0] if number + 1 < len(bars) else None
        line += opening + _bar_text(pieces, key, melody.meter.beat_steps) + " "
        line += _bar_line(marks, index, after)
        whole += sum(p.length for p in pieces) == bar_steps
        if whole == BARS_PER_LINE and after is not None:
            # A volta opens on the next line: a line ends on its bar line.
            volta = line[-2:] if line.endswith(("[1", "[2")) else ""
            lines.append(line[: len(line) - len(volta)])
            line, whole = volta + (" " if volta else ""), 0
        else:
            line += " "
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _bars(
    melody: Melody, chords: tuple[ChordSpan, ...], numbered: bool = False, from_start: bool = False
) -> Iterator[Any]:
    """The pieces of each written bar, from the bar of the first note on, cut where a
    chord starts."""
    bar_steps = melody.meter.bar_steps
    chord_starts = {chord.start: chord.symbol for chord in chords}
    events = _merged_rests(melody.notes)
    while events and events[0].pitch is None and not from_start:
        events.pop(0)  # the tune starts at its first note
    pieces: list[_Piece] = []
    bar_start = int(events[0].start - events[0].start % bar_steps) if events else 0
    # Triplet groups are cut out of the notes that cross their edges (tied on).
    groups = triplet_groups(melody.symbols)
    edges = sorted({edge for group in groups for edge in (group, group + TRIPLET_STEPS)})
    for event in events:
        start = event.start
        while start < event.end:
            if start >= bar_start + bar_steps:
                yield (bar_start // bar_steps, _opened(pieces)) if numbered else _opened(pieces)
                pieces, bar_start = [], bar_start + bar_steps
            end = min(
                [event.end, bar_start + bar_steps]
                + [s for s in chord_starts if start < s < event.end]
                + [edge for edge in edges if start < edge < event.end]
            )
            group = next((g for g in groups if g <= start < g + TRIPLET_STEPS), None)
            if group is not None:
                tied = event.pitch is not None and end != event.end
                chord = chord_starts.get(int(start), "") if start == int(start) else ""
                pieces.append(
                    _Piece(event.pitch, start - bar_start, end - start, tied, chord, group)
                )
                start = end
                continue
            start, end = int(start), int(end)
            for offset, length in _note_lengths(start - bar_start, end - start):
                last = start + offset + length == event.end
                tied = event.pitch is not None and not last
                chord = chord_starts.get(start + offset, "")
                pieces.append(_Piece(event.pitch, start - bar_start + offset, length, tied, chord))
            start = end
    if pieces:
        yield (bar_start // bar_steps, _opened(pieces)) if numbered else _opened(pieces)


def _opened(pieces: list[_Piece]) -> list[_Piece]:
    """The bar's pieces, each triplet group's first told how many pieces the group has."""
    opened = list(pieces)
    for number, piece in enumerate(pieces):
        if piece.group is not None and (number == 0 or pieces[number - 1].group != piece.group):
            count = sum(1 for p in pieces[number:] if p.group == piece.group)
            opened[number] = dataclasses.replace(piece, tuplet_notes=count)
    return opened


def _merged_rests(events: tuple[NoteEvent, ...]) -> list[NoteEvent]:
    """Notes as they are, neighbouring rests as one rest."""
    merged: list[NoteEvent] = []
    for event in events:
        if event.pitch is None and merged and merged[-1].pitch is None:
            merged[-1] = NoteEvent(None, merged[-1].start, event.end - merged[-1].start)
        else:
            merged.append(event)
    return merged


def _note_lengths(position: int, steps: int) -> Iterator[tuple[int, int]]:
    """``steps`` from ``position`` in a bar as notes one symbol each: (offset, length)."""
    offset = 0
    while offset < steps:
        length = next(n for n in _NOTE_LENGTHS if n <= steps - offset)
        yield offset, length
        offset += length


def _length(steps: int) -> str:
    """A length in 16th-note steps as ABC writes it in eighths: ``""``, ``"3"``, ``"/"``,
    ``"3/2"``."""
    if steps == STEPS_PER_UNIT:
        return ""
    if steps % STEPS_PER_UNIT == 0:
        return str(steps // STEPS_PER_UNIT)
    return "/" if steps == 1 else f"{steps}/{STEPS_PER_UNIT}"


def _note(pitch: int, key: Key, accidentals: _BarAccidentals) -> str:
    """One pitch as ABC: an accidental if the bar needs one, the letter, its octave marks."""
    letter, alteration = key.spell(pitch)
    octave = (pitch - alteration - LETTER_PITCH_CLASSES[letter]) // 12 - 1  # C4 = 60
    accidental = accidentals.written(letter, alteration)
    if octave >= 5:
        return accidental + letter.lower() + "'" * (octave - 5)
    return accidental + letter + "," * (4 - octave)


def _writable(key: Key) -> Key:
    """``key``, or the same key spelled with at most seven sharps or flats (D# major: Eb)."""
    sharps = key.signature_sharps
    if -7 <= sharps <= 7:
        return key
    return key_with_signature(sharps - 12 if sharps > 0 else sharps + 12, key.mode)


def _fraction(numerator: int, denominator: int) -> str:
    """``6, 16`` -> ``"3/8"``."""
    common = gcd(numerator, denominator)
    return f"{numerator // common}/{denominator // common}"
