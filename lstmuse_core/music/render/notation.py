"""The melody as a music21 score: meter, key signature, spelling, tempo and title.

Shared by the MusicXML export (`lstmuse_core.music.render.musicxml`) and the
engraved sheet music (`lstmuse_core.music.render.score`). music21 is imported
only when a score is built.
"""

from __future__ import annotations

import re
from typing import Any

from lstmuse_core.errors import MissingToolError
from lstmuse_core.music.encoding import STEPS_PER_QUARTER
from lstmuse_core.music.form import ScoreBar, TuneForm
from lstmuse_core.music.harmony import ChordSpan
from lstmuse_core.music.keys import Key, heptatonic_mode
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.pitch import LETTER_PITCH_CLASSES

# What may reach LilyPond's title: musicxml2ly escapes quotes but not
# backslashes, and LilyPond 2.24 has no safe mode, so keep only plain text.
_TITLE_UNSAFE = re.compile(r"[^\w .,:;=()/+-]")


def music21_score(
    melody: Melody,
    *,
    title: str,
    bpm: float,
    chords: tuple[ChordSpan, ...] = (),
    form: TuneForm | None = None,
) -> Any:
    """One part in the melody's meter and key, bar lines and ties made, titled ``title``,
    with a chord symbol (``harmony.ChordSymbol``) where each of ``chords`` starts.

    The key signature is the melody's own key (D dorian: none; G dorian: one
    flat), which key analysis, knowing only major and minor, would get wrong
    for modes; a melody in the model's key space (no key) gets no signature,
    as its MIDI file does, and whichever of C major or A minor analysis hears.
    A pickup is written as a short first bar, numbered 0, as the ABC tune writes
    it (`_pickup_bar`); whole bars of rest before it are not written. With a
    ``form`` (the melody given as played), each repeat is written once between
    repeat barlines, endings under volta brackets, each part with a rehearsal
    mark, and parts that come back at the end as ``D.C. al Fine``
    (`TuneForm.da_capo_score`, `_form_marks`).
    """
    marks = form.da_capo_score if form is not None else ()
    if form is not None:
        chords = tuple(form.score_chords(chords, marks))
        melody = Melody(form.score_symbols(melody.symbols, marks), melody.meter, melody.key)
    try:
        from music21 import clef, key, metadata, meter, note, stream, tempo
    except ImportError as error:  # pragma: no cover - music21 is a core dependency
        raise MissingToolError("music21", "pip install music21") from error

    part = stream.Part()
    part.append(meter.TimeSignature(melody.meter.text))
    # The mark in the meter's beat, as a player reads it: a jig's dotted quarter = 110.
    beat = melody.meter.beat_steps / STEPS_PER_QUARTER
    part.append(tempo.MetronomeMark(number=round(bpm / beat), referent=beat))
    bar = melody.meter.bar_steps
    first_note = next((e.start for e in melody.notes if e.pitch is not None), 0)
    if marks and (marks[0].repeat_start or marks[-1].da_capo):
        first_note = 0  # a repeat or D.C. back to the first bar line: its rests are written
    skipped = first_note - first_note % bar  # whole bars of rest before the first note's
    for event in melody.notes:
        if event.end <= skipped:
            continue
        item = note.Rest() if event.pitch is None else note.Note(event.pitch)
        item.quarterLength = (event.end - max(event.start, skipped)) / STEPS_PER_QUARTER
        part.append(item)
    # Without a key of its own, the melody is spelled in whichever of C major
    # and A minor (no signature either way) analysis hears.
    if melody.key is not None:
        spelling = melody.key
    elif part.analyze("key").mode == "minor":
        spelling = Key("A", "minor")
    else:
        spelling = Key("C", "major")
    for item in part.recurse().notes:
        for p in item.pitches:
            _spell(p, spelling)
    # music21 has no pentatonic modes: yu is notated as its parent, minor.
    score_key = key.Key(
        spelling.tonic[0] + spelling.tonic[1:].replace("b", "-"), heptatonic_mode(spelling.mode)
    )
    part.insert(0, score_key)
    part.insert(0, clef.bestClef(part, recurse=True))
    score = stream.Score([part])
    # movementName alone becomes LilyPond's title; an empty composer stops
    # music21 from signing the score "Music21".
    safe_title = _TITLE_UNSAFE.sub("", title).strip()[:80]
    score.insert(0, metadata.Metadata(movementName=safe_title, composer=""))
    notated = score.makeNotation()
    _chord_symbols(notated.parts[0], chords, int(skipped))
    if first_note % bar:
        _pickup_bar(notated.parts[0], float(first_note % bar) / STEPS_PER_QUARTER)
    if marks:
        _form_marks(notated.parts[0], marks[skipped // bar :])
    return notated


def _form_marks(part: Any, marks: tuple[ScoreBar, ...]) -> None:
    """Repeat barlines, volta brackets (``spanner.RepeatBracket``), rehearsal marks and
    ``Fine`` / ``D.C. al Fine`` on the part's measures, one `ScoreBar` each, in order.
    music21 plays the D.C. back (``expandRepeats``) from its own repeat expressions."""
    from music21 import bar, expressions, repeat, spanner

    measures = list(part.getElementsByClass("Measure"))
    brackets: dict[tuple[int, int], list[Any]] = {}
    run = 0
    for number, (measure, mark) in enumerate(zip(measures, marks, strict=False)):
        if mark.repeat_start:
            measure.leftBarline = bar.Repeat(direction="start")
            run += 1
        if mark.repeat_end:
            measure.rightBarline = bar.Repeat(direction="end")
        if mark.label:
            measure.insert(0, expressions.RehearsalMark(mark.label))
        if mark.volta:
            brackets.setdefault((run, mark.volta), []).append(measure)
        signs = (
            (mark.fine, repeat.Fine, "Fine"),
            (mark.da_capo, repeat.DaCapoAlFine, "D.C. al Fine"),
        )
        for marked, sign, text in signs:
            if marked:
                # On the bar's last note: one after every note is dropped by musicxml2ly.
                words = sign()
                words.setText(text)  # as players write it (music21's: "Da Capo al fine")
                last = max((n.offset for n in measure.notesAndRests), default=0.0)
                measure.insert(last, words)
        if mark.fine:
            measure.rightBarline = bar.Barline("final")
        if number == len(measures) - 1 and not mark.repeat_end:
            measure.rightBarline = bar.Barline("final")
    for (_, volta), bracketed in brackets.items():
        part.insert(0, spanner.RepeatBracket(bracketed, number=volta))


def _chord_symbols(part: Any, chords: tuple[ChordSpan, ...], skipped: int) -> None:
    """A chord symbol where each chord starts, in the bar it falls in (``skipped``: the
    steps of whole bars of rest left out of the score).

    Put in after the bar lines are made: given to ``makeNotation`` with the notes, a
    symbol on a bar line that a tied note crosses is split off into a second voice, and
    every bar of the score then has two voices, the pickup bar a full bar of rests.
    """
    from music21 import harmony

    measures = list(part.getElementsByClass("Measure"))
    for chord in chords:
        if chord.start < skipped:
            continue
        offset = (chord.start - skipped) / STEPS_PER_QUARTER
        measure = next(m for m in reversed(measures) if m.offset <= offset)
        measure.insert(offset - measure.offset, harmony.ChordSymbol(music21_figure(chord.symbol)))


def music21_figure(symbol: str) -> str:
    """A chord symbol as music21 reads it: flats as ``-`` (``Bb`` -> ``B-``, ``Ebm`` ->
    ``E-m``). music21 refuses ``Bb`` and reads ``Eb7`` as E7, the ``b`` left out."""
    return re.sub(r"^([A-G])b", r"\1-", symbol)


def _pickup_bar(part: Any, rest_quarters: float) -> None:
    """Make the first measure a pickup: its leading rests (``rest_quarters``) go, what
    follows moves to the bar's start, and ``paddingLeft`` says how much of the bar is
    missing, so MusicXML and LilyPond write a short bar (an anacrusis), not a bar
    that starts with rests. Bars are numbered from 0, so bar 1 follows the pickup."""
    from music21 import note

    measures = list(part.getElementsByClass("Measure"))
    first = measures[0]
    for item in list(first.elements):
        if isinstance(item, note.Rest) and item.offset < rest_quarters:
            first.remove(item)
        elif item.offset >= rest_quarters:
            first.setElementOffset(item, item.offset - rest_quarters)
    first.paddingLeft = rest_quarters
    for number, measure in enumerate(measures):
        measure.number = number


def _spell(p: Any, key: Key) -> None:
    """Spell a music21 pitch as ``key`` does (`Key.spell`: Bb in F major, not A#), keeping
    its MIDI number."""
    midi_number = p.midi
    letter, alteration = key.spell(midi_number)
    p.name = _music21_name(letter, alteration)
    p.octave = (midi_number - alteration - LETTER_PITCH_CLASSES[letter]) // 12 - 1  # C4 = 60


def _music21_name(letter: str, alteration: int) -> str:
    """music21 writes a flat as '-': Bb is "B-", Ebb "E--"."""
    return letter + ("#" * alteration if alteration > 0 else "-" * -alteration)
