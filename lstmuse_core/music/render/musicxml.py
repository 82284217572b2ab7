"""The MusicXML export: a score for MuseScore and other notation programs."""

from __future__ import annotations

from pathlib import Path

from lstmuse_core.music.form import TuneForm
from lstmuse_core.music.harmony import ChordSpan
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.render.base import RenderJob
from lstmuse_core.music.render.notation import music21_score


def render_job(job: RenderJob, path: Path) -> Path:
    return write_musicxml(
        job.melody, path, title=job.title, bpm=job.options.bpm, chords=job.chords, form=job.form
    )


def write_musicxml(
    melody: Melody,
    path: Path,
    *,
    title: str = "",
    bpm: float = 120.0,
    chords: tuple[ChordSpan, ...] = (),
    form: TuneForm | None = None,
) -> Path:
    """Write the melody as a MusicXML score at ``path``, for MuseScore and other notation programs.

    The score carries the melody's meter, key signature (`music21_score`),
    ``bpm`` as its metronome mark, ``title`` (plain text only) as its name and
    ``chords`` as harmony symbols, a ``form``'s repeats, endings and parts as repeat
    barlines, volta brackets and rehearsal marks.
    """
    score = music21_score(melody, title=title, bpm=bpm, chords=chords, form=form)
    score.write("musicxml", fp=str(path))
    return path
