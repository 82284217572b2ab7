"""Sheet music: the melody engraved by LilyPond as a PNG (Debian's ``lilypond``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from lstmuse_core.errors import MissingToolError, RenderError
from lstmuse_core.music.form import TuneForm
from lstmuse_core.music.harmony import ChordSpan
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.render.base import RenderJob, last_line
from lstmuse_core.music.render.notation import music21_score

SCORE_RESOLUTION_DPI = 130  # LilyPond's PNG resolution; ~1000 px wide for one system
TOOL_TIMEOUT_SECONDS = 60


def render_job(job: RenderJob, path: Path) -> Path:
    return render_score(
        job.melody, path, title=job.title, bpm=job.options.bpm, chords=job.chords, form=job.form
    )


def render_score(
    melody: Melody,
    path: Path,
    *,
    title: str = "",
    bpm: float = 120.0,
    chords: tuple[ChordSpan, ...] = (),
    form: TuneForm | None = None,
) -> Path:
    """Engrave the melody as sheet music PNG at ``path`` with LilyPond (a ``form``'s
    repeats as repeat signs and volta brackets: musicxml2ly writes them).

    ``bpm`` (checked before, as `RenderOptions` does) is the metronome mark.
    music21 builds the score (`music21_score`) and writes MusicXML;
    ``musicxml2ly`` and ``lilypond`` run in a
    temporary directory on fixed file names, with argument lists (no shell).
    Only letters, digits and simple punctuation of ``title`` are kept.
    Needs Debian's ``lilypond`` (which provides ``musicxml2ly``).
    """
    lilypond, musicxml2ly = shutil.which("lilypond"), shutil.which("musicxml2ly")
    if lilypond is None or musicxml2ly is None:
        raise MissingToolError("LilyPond", "install it with apt-get install lilypond")
    score = music21_score(melody, title=title, bpm=bpm, chords=chords, form=form)
    with tempfile.TemporaryDirectory(prefix="lstmuse-score-") as tmp:
        work = Path(tmp)
        score.write("musicxml", fp=str(work / "melody.musicxml"))
        _run_tool([musicxml2ly, "--output=melody.ly", "melody.musicxml"], work, "musicxml2ly")
        lily = work / "melody.ly"
        lily.write_text(triads_as_named(lily.read_text(encoding="utf-8")), encoding="utf-8")
        _run_tool(
            [
                lilypond,
                "-dcrop",
                "-dno-print-pages",
                "--png",
                f"-dresolution={SCORE_RESOLUTION_DPI}",
                "--output=melody",
                "melody.ly",
            ],
            work,
            "lilypond",
        )
        engraved = work / "melody.cropped.png"
        if not engraved.is_file():
            raise RenderError("lilypond finished but wrote no picture")
        shutil.copyfile(engraved, path)
    return path


# musicxml2ly writes a MusicXML triad (kind major, minor, ...) as ``d4:5``, ``e4:m5``, and
# LilyPond names ``:5`` a power chord: the sheet music said D5 and E5 for D and Em.
_TRIAD_AS_POWER_CHORD = re.compile(r":(m|dim|aug)?5(?![\d.])")
_CHORD_MODE = re.compile(r"\\chordmode\s*\{[^}]*\}")


def triads_as_named(lilypond_source: str) -> str:
    """``lilypond_source`` with its chord names' triads as LilyPond names them: ``d4``,
    ``e4:m``, ``b4:dim``, ``c4:aug`` (sevenths and the melody are left as written)."""
    return _CHORD_MODE.sub(
        lambda block: _TRIAD_AS_POWER_CHORD.sub(
            lambda kind: f":{kind.group(1)}" if kind.group(1) else "", block.group(0)
        ),
        lilypond_source,
    )


def _run_tool(command: list[str], cwd: Path, name: str) -> None:
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError as error:
        raise MissingToolError(name, "install it with apt-get install lilypond") from error
    except subprocess.TimeoutExpired as error:
        raise RenderError(f"{name} took longer than {TOOL_TIMEOUT_SECONDS} s") from error
    if done.returncode != 0:
        raise RenderError(f"{name} failed: {last_line(done.stderr)}")
