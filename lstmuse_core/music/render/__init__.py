"""Turn a melody into files people can use: MIDI, audio, a picture, a score.

`render_melody` is the one entry point for front ends. It always writes the
MIDI file; every other output is a renderer listed in `RENDERERS`, made when
the option that names it is asked for and its tool is installed:

* `audio`: FluidSynth, then MP3 through LAME in-process (`mp3`), OGG Vorbis
  through pydub + ffmpeg, or WAV;
* `pianoroll`: a piano roll drawn with Pillow;
* `score`: sheet music engraved by LilyPond (from `notation`'s music21 score);
* `musicxml`: a MusicXML score for notation programs;
* `abc`: the tune in ABC, as folk players share tunes.

An output that cannot be made becomes one readable line in
`RenderResult.problems` naming what to install. A new output is one module
with a ``make(job, path)`` function and one `Renderer` row here (and its
value in `lstmuse_core.music.formats`).

Heavy libraries (pyfluidsynth, lameenc, pydub, Pillow, music21) are imported
inside the functions that use them, so importing this package stays cheap.
Units: melodies are `Melody` values (checked when made, not here), one
symbol per 16th-note step; tempo is quarter notes a minute, checked once by
`RenderOptions`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lstmuse_core.errors import LstmuseError, RenderError
from lstmuse_core.file_names import validate_stem
from lstmuse_core.music.form import TuneForm
from lstmuse_core.music.harmony import ChordSpan
from lstmuse_core.music.harmony.accompaniment import accompany
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.midi import melody_to_midi
from lstmuse_core.music.render import abc, audio, musicxml, pianoroll, score
from lstmuse_core.music.render.base import Renderer, RenderJob, require_notes
from lstmuse_core.music.render.options import RenderOptions, RenderResult

__all__ = ["RENDERERS", "RenderOptions", "RenderResult", "render_melody"]

# Every output besides MIDI, in the order of `RenderResult.made`.
RENDERERS = (
    Renderer("audio", "audio_format", "mp3", "mp3", "MP3 audio", audio.render_audio, True),
    Renderer("audio", "audio_format", "ogg", "ogg", "OGG audio", audio.render_audio, True),
    Renderer("audio", "audio_format", "wav", "wav", "WAV audio", audio.render_audio, True),
    Renderer("image", "image", "pianoroll", "png", "piano roll", pianoroll.render_job),
    Renderer("image", "image", "score", "png", "sheet music", score.render_job),
    Renderer("musicxml", "export", "musicxml", "musicxml", "MusicXML score", musicxml.render_job),
    Renderer("abc", "export", "abc", "abc", "ABC tune", abc.render_job),
)


def render_melody(
    melody: Melody,
    out_dir: Path,
    *,
    stem: str,
    title: str = "",
    options: RenderOptions | None = None,
    seed_steps: int = 0,
    chords: tuple[ChordSpan, ...] = (),
    form: TuneForm | None = None,
) -> RenderResult:
    """Write ``<stem>.mid`` and, as ``options`` ask, ``<stem>.<mp3|ogg|wav>``, ``<stem>.png``
    and ``<stem>.<musicxml|abc>``.

    ``melody``: symbols, meter and key, checked when it was made; ``title``:
    shown on the picture and the score; ``options``: tempo, instrument and
    outputs; ``seed_steps``: how many of the first 16th-note steps were the
    given seed melody (the piano roll marks them); ``chords``: played by the
    accompaniment ``options.backing`` names (a second MIDI track, mixed
    under the melody in the audio) and, with ``options.chord_symbols``,
    written as chord symbols above the piano roll's bars and in the
    MusicXML, ABC and sheet music; ``form``: the melody's parts (it is given played
    out): the scores and the ABC write each repeat once, with repeat signs, volta
    brackets and a rehearsal mark per part, the piano roll labels the parts. A bad
    stem or a melody without a note raises `InvalidParameter` before any file
    is written. A missing tool only adds a line to ``problems``. If the files
    together exceed ``options.max_bytes`` they are deleted and `RenderError`
    is raised.
    """
    options = options or RenderOptions()
    validate_stem(stem)
    require_notes(melody)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    backing = accompany(chords, melody.meter) if options.backing_program is not None else ()
    midi = melody_to_midi(
        melody,
        bpm=options.bpm,
        program=options.program,
        backing=backing,
        backing_program=options.backing_program or 0,
        backing_volume=options.backing_volume,
    )
    midi_path = out_dir / f"{stem}.mid"
    midi.write(str(midi_path))
    shown = chords if options.chord_symbols else ()
    job = RenderJob(melody, midi, options, title, seed_steps, shown, form)
    asked = [renderer for renderer in RENDERERS if renderer.asked(options)]

    # Audio runs in a thread while the picture is drawn here. That hides the
    # picture behind ffmpeg's process for OGG; with MP3 encoded in-process the
    # two barely overlap (wall time ~ CPU time), but the thread costs nothing.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lstmuse-audio") as pool:
        background = {
            renderer: pool.submit(_output, renderer, job, out_dir, stem)
            for renderer in asked
            if renderer.in_background
        }
        here = {
            renderer: _output(renderer, job, out_dir, stem)
            for renderer in asked
            if not renderer.in_background
        }
        results = [
            (renderer, background[renderer].result() if renderer in background else here[renderer])
            for renderer in asked
        ]
    made = {renderer.kind: path for renderer, (path, _) in results if path is not None}
    problems = [problem for _, (_, problem) in results if problem is not None]

    result = RenderResult(midi=midi_path, made=made, problems=problems)
    total = result.total_bytes
    if total > options.max_bytes:
        for path in result.paths:
            path.unlink(missing_ok=True)
        raise RenderError(
            f"the rendered files take {_size(total)} ({total} bytes), more than the cap of "
            f"{_size(options.max_bytes)} ({options.max_bytes} bytes): "
            "ask for a shorter melody, MP3/OGG instead of WAV, or no picture"
        )
    return result


def _output(
    renderer: Renderer, job: RenderJob, out_dir: Path, stem: str
) -> tuple[Path | None, str | None]:
    """Make one output: (its path, None), or (None, the problem in words)."""
    try:
        return renderer.make(job, out_dir / f"{stem}.{renderer.suffix}"), None
    except LstmuseError as error:
        return None, f"No {renderer.label}: {error}"


def _size(n_bytes: int) -> str:
    return (
        f"{n_bytes / 1024 / 1024:.1f} MiB"
        if n_bytes >= 1024 * 1024
        else f"{n_bytes / 1024:.0f} KiB"
    )
