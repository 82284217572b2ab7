"""Turn a melody into files people can use: MIDI, audio, a picture.

`render_melody` is the one entry point for front ends. It always writes the
MIDI file; audio (FluidSynth, then MP3 through LAME in-process, OGG Vorbis
through pydub + ffmpeg, or WAV), a picture (a piano roll drawn with Pillow,
or sheet music via LilyPond) and, when asked, a MusicXML score for notation
programs (music21) are made when their tools are installed, and an output
that cannot be made becomes one readable line in `RenderResult.problems`
naming what to install.

Heavy libraries (pyfluidsynth, lameenc, pydub, Pillow, music21) are imported
inside the functions that use them, so importing this module stays cheap.

Units: melodies are `Melody` values (checked when made, not here), one
symbol per 16th-note step; tempo is quarter notes a minute, checked once by
`RenderOptions`; audio is mono float samples in [-1, 1] at `SAMPLE_RATE` Hz.
The formats and their limits live in `lstmuse_core.music.formats`.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import re
import shutil
import subprocess
import tempfile
import threading
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lstmuse_core.errors import InvalidParameter, LstmuseError, MissingToolError, RenderError
from lstmuse_core.music.encoding import STEPS_PER_QUARTER
from lstmuse_core.music.formats import (
    AUDIO_FORMATS,
    DEFAULT_MAX_BYTES,
    EXPORT_FORMATS,
    IMAGE_KINDS,
    MAX_MAX_BYTES,
    MIN_MAX_BYTES,
    SAMPLE_RATE,
    TAIL_SECONDS,
)
from lstmuse_core.music.keys import Key
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.midi import (
    melody_to_midi,
    resolve_instrument,
    signature_sharps,
    step_seconds,
    validate_bpm,
)

if TYPE_CHECKING:
    import pretty_midi

FADE_SECONDS = 0.2  # the very end fades out, so a long release never ends in a click
TARGET_RMS_DBFS = -16.0  # loud enough on a phone speaker ...
PEAK_CEILING_DBFS = -1.0  # ... and never clipping, not even after MP3 encoding
# FluidSynth's default gain 0.2 leaves a single melody near -37 dBFS RMS in
# 16-bit samples; 0.8 keeps more bits before normalising and still leaves
# ~10 dB headroom for one voice.
SYNTH_GAIN = 0.8

SOUNDFONT_ENV = "LSTMUSE_SOUNDFONT"
SYSTEM_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")

# LAME settings, as `lame -V 5 -q 7` (what ffmpeg's `-q:a 5 -compression_level 7` set):
MP3_VBR_MODE = 4  # vbr_mtrh, LAME's default VBR mode
MP3_VBR_QUALITY = 5  # ~55 kb/s for one mono instrument, transparent enough for it
MP3_ALGORITHM_QUALITY = 7  # LAME's faster psychoacoustics: ~40 % less time, no larger file
OGG_PARAMETERS = ["-q:a", "3"]  # Vorbis quality 3: ~110 kb/s

PIANOROLL_SIZE = (1200, 500)  # px: one phone screen wide
# The plot area inside the picture, px (left, top, right, bottom): room for
# the title above, note names on the left, bar numbers below.
PIANOROLL_PLOT = (90, 55, 1182, 445)
PIANOROLL_COLOURS = {
    "background": (255, 255, 255),
    "black_key_row": (238, 240, 244),
    "beat_line": (208, 208, 208),
    "bar_line": (85, 85, 85),
    "note": (59, 111, 182),
    "note_edge": (29, 58, 99),
    "text": (0, 0, 0),
    # The seed melody's bars: a warm paper tone, so what was given stands apart
    # from what was generated, and a line where the seed ends.
    "seed": (255, 244, 222),
    "seed_black_key_row": (240, 228, 204),
    "seed_line": (196, 120, 20),
}
PIANOROLL_FONT_PX = {"title": 22, "label": 17}
# zlib level 1: 2.5 ms less than the default 6 for 28 KB instead of 21 KB; the
# rest of the ~7 ms is Pillow choosing a PNG filter for every row.
PIANOROLL_PNG_COMPRESS_LEVEL = 1
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FLAT_NOTE_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
SCORE_RESOLUTION_DPI = 130  # LilyPond's PNG resolution; ~1000 px wide for one system
TOOL_TIMEOUT_SECONDS = 60

_STEM = re.compile(r"[A-Za-z0-9_-]{1,64}")
# What may reach LilyPond's title: musicxml2ly escapes quotes but not
# backslashes, and LilyPond 2.24 has no safe mode, so keep only plain text.
_TITLE_UNSAFE = re.compile(r"[^\w .,:;=()/+-]")


@dataclass(frozen=True)
class RenderOptions:
    """How to perform a melody, which outputs to make, and how large they may be together.

    ``bpm``: quarter notes a minute (20-300); ``instrument``: a General MIDI
    program 0-127 or a name (``"flute"``), resolved into ``program``;
    ``audio_format``: "mp3", "ogg", "wav" or "none"; ``image``: "pianoroll",
    "score" (sheet music, needs LilyPond) or "none"; ``export``: "musicxml"
    (a score for notation programs) or "none"; ``soundfont``: an .sf2
    file, else ``$LSTMUSE_SOUNDFONT``, else FluidR3_GM, else pretty_midi's
    TimGM6mb; ``max_bytes``: the cap for all files together, in bytes.
    This is the render boundary: everything is checked here, once, and not
    again by the functions that take these options.
    """

    audio_format: str = "mp3"
    image: str = "pianoroll"
    soundfont: Path | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    bpm: float = 120.0
    instrument: int | str = 0
    export: str = "none"
    program: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bpm", validate_bpm(self.bpm))
        object.__setattr__(self, "program", resolve_instrument(self.instrument))
        # Front ends pass what users typed: accept any case, store lower case.
        audio_format = str(self.audio_format).strip().lower()
        if audio_format not in AUDIO_FORMATS:
            raise InvalidParameter(
                "audio_format", self.audio_format, "one of " + ", ".join(AUDIO_FORMATS)
            )
        image = str(self.image).strip().lower()
        if image not in IMAGE_KINDS:
            raise InvalidParameter("image", self.image, "one of " + ", ".join(IMAGE_KINDS))
        export = str(self.export).strip().lower()
        if export not in EXPORT_FORMATS:
            raise InvalidParameter("export", self.export, "one of " + ", ".join(EXPORT_FORMATS))
        if isinstance(self.max_bytes, bool) or not isinstance(self.max_bytes, int):
            raise InvalidParameter("max_bytes", self.max_bytes, "a whole number of bytes")
        if not MIN_MAX_BYTES <= self.max_bytes <= MAX_MAX_BYTES:
            raise InvalidParameter(
                "max_bytes",
                self.max_bytes,
                f"from {MIN_MAX_BYTES} bytes to {MAX_MAX_BYTES} bytes (1 GiB)",
            )
        soundfont = self.soundfont
        if soundfont is not None and not isinstance(soundfont, Path):
            if not isinstance(soundfont, str) or not soundfont.strip():
                raise InvalidParameter("soundfont", soundfont, "the path of an .sf2 file")
            soundfont = Path(soundfont)
        object.__setattr__(self, "audio_format", audio_format)
        object.__setattr__(self, "image", image)
        object.__setattr__(self, "export", export)
        object.__setattr__(self, "soundfont", soundfont)


@dataclass(frozen=True)
class RenderResult:
    """The files `render_melody` made (None where not asked for or not made).

    ``problems``: one human-readable line per output that could not be made;
    ``musicxml``: the score for notation programs, when ``export`` asked for it.
    """

    midi: Path
    audio: Path | None
    image: Path | None
    problems: list[str] = field(default_factory=list)
    musicxml: Path | None = None

    @property
    def by_kind(self) -> dict[str, Path]:
        """Every file made by its kind: ``midi``, ``audio``, ``image``, ``musicxml``."""
        files = {
            "midi": self.midi,
            "audio": self.audio,
            "image": self.image,
            "musicxml": self.musicxml,
        }
        return {kind: path for kind, path in files.items() if path is not None}

    @property
    def paths(self) -> list[Path]:
        """Every file made, MIDI first."""
        return list(self.by_kind.values())

    @property
    def total_bytes(self) -> int:
        """The size of all files made together, in bytes."""
        return sum(p.stat().st_size for p in self.paths)


def validate_stem(stem: str) -> str:
    """Return ``stem`` if it is a safe file name stem: 1-64 of ``A-Z a-z 0-9 _ -``."""
    if not isinstance(stem, str) or not _STEM.fullmatch(stem):
        raise InvalidParameter(
            "stem", stem, "1-64 letters, digits, '_' or '-' (it names the files)"
        )
    return stem


def render_melody(
    melody: Melody,
    out_dir: Path,
    *,
    stem: str,
    title: str = "",
    options: RenderOptions | None = None,
    seed_steps: int = 0,
) -> RenderResult:
    """Write ``<stem>.mid`` and, as ``options`` ask, ``<stem>.<mp3|ogg|wav>``, ``<stem>.png``
    and ``<stem>.musicxml``.

    ``melody``: symbols, meter and key, checked when it was made; ``title``:
    shown on the picture and the score; ``options``: tempo, instrument and
    outputs; ``seed_steps``: how many of the first 16th-note steps were the
    given seed melody (the piano roll marks them). A bad
    stem or a melody without a note raises `InvalidParameter` before any file
    is written. A missing tool only adds a line to ``problems``. If the files
    together exceed ``options.max_bytes`` they are deleted and `RenderError`
    is raised.
    """
    options = options or RenderOptions()
    validate_stem(stem)
    _require_notes(melody)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    midi = melody_to_midi(melody, bpm=options.bpm, program=options.program)
    midi_path = out_dir / f"{stem}.mid"
    midi.write(str(midi_path))

    # Audio runs in a thread while the picture is drawn here. That hides the
    # picture behind ffmpeg's process for OGG; with MP3 encoded in-process the
    # two barely overlap (wall time ~ CPU time), but the thread costs nothing.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lstmuse-audio") as pool:
        audio_job = (
            pool.submit(
                _audio_output,
                midi,
                out_dir / f"{stem}.{options.audio_format}",
                options.soundfont,
                len(melody) * step_seconds(options.bpm),
            )
            if options.audio_format != "none"
            else None
        )
        image_path, image_problem = _image_output(
            melody, out_dir / f"{stem}.png", options.image, title, options.bpm, seed_steps
        )
        score_path, score_problem = _export_output(
            melody, out_dir / f"{stem}.musicxml", options.export, title, options.bpm
        )
        audio_path, audio_problem = audio_job.result() if audio_job else (None, None)
    problems = [p for p in (audio_problem, image_problem, score_problem) if p is not None]

    result = RenderResult(
        midi=midi_path,
        audio=audio_path,
        image=image_path,
        problems=problems,
        musicxml=score_path,
    )
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


def _audio_output(
    midi: pretty_midi.PrettyMIDI, path: Path, soundfont: Path | None, melody_seconds: float
) -> tuple[Path | None, str | None]:
    """Synthesise and encode to ``path``: (path, None), or (None, the problem)."""
    try:
        samples = synthesize(midi, soundfont=soundfont, min_seconds=melody_seconds)
        return write_audio(samples, path), None
    except LstmuseError as error:
        return None, f"No {path.suffix.lstrip('.').upper()} audio: {error}"


def _require_notes(melody: Melody) -> None:
    """Refuse a melody of rests only: there is nothing to hear or draw."""
    if not melody.has_notes:
        raise InvalidParameter(
            "melody", " ".join(melody.symbols[:8]), "a melody with at least one note"
        )


def _image_output(
    melody: Melody, path: Path, kind: str, title: str, bpm: float, seed_steps: int
) -> tuple[Path | None, str | None]:
    """Draw ``kind`` (pianoroll, score, none) at ``path``: (path, None) or (None, the problem)."""
    try:
        if kind == "score":
            return render_score(melody, path, title=title, bpm=bpm), None
        if kind == "pianoroll":
            return render_pianoroll(melody, path, title=title, seed_steps=seed_steps), None
        return None, None
    except LstmuseError as error:
        return None, f"No {'sheet music' if kind == 'score' else 'piano roll'}: {error}"


def _export_output(
    melody: Melody, path: Path, export: str, title: str, bpm: float
) -> tuple[Path | None, str | None]:
    """Write the ``export`` score (musicxml, none) at ``path``: (path, None) or (None, why not)."""
    if export == "none":
        return None, None
    try:
        return write_musicxml(melody, path, title=title, bpm=bpm), None
    except LstmuseError as error:
        return None, f"No MusicXML score: {error}"


# --- Audio -------------------------------------------------------------------


def resolve_soundfont(configured: Path | None = None) -> Path:
    """The SoundFont to use: ``configured`` (``LSTMUSE_SOUNDFONT``, resolved by the
    process's settings), else the system's FluidR3_GM (Debian
    ``fluid-soundfont-gm``), else pretty_midi's TimGM6mb.

    A configured file that does not exist raises `MissingToolError` rather
    than silently falling back: a wrong path in the settings should be seen.
    """
    if configured is not None:
        if configured.is_file():
            return configured
        raise MissingToolError(
            "SoundFont",
            f"{SOUNDFONT_ENV} points to {configured}, which is not a file; set it to an .sf2 "
            "file or unset it to use the default (apt-get install fluid-soundfont-gm)",
        )
    if SYSTEM_SOUNDFONT.is_file():
        return SYSTEM_SOUNDFONT
    try:
        import pretty_midi
    except ImportError as error:  # pragma: no cover - pretty_midi is a core dependency
        raise MissingToolError("pretty_midi", "pip install pretty_midi") from error
    bundled = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if bundled.is_file():
        return bundled
    raise MissingToolError("SoundFont", "apt-get install fluid-soundfont-gm")


@dataclass
class _LoadedSynth:
    synth: Any  # fluidsynth.Synth
    sfid: int
    lock: threading.Lock  # a Synth has one state: one render at a time


# One FluidSynth per (SoundFont, sample rate) for the life of the process:
# loading FluidR3 (148 MB) costs about as much as synthesising 30 s of music,
# several times more when the file is not in the page cache.
_SYNTHS: dict[tuple[str, int], _LoadedSynth] = {}
_SYNTHS_LOCK = threading.Lock()


def _loaded_synth(soundfont: Path, sample_rate: int) -> _LoadedSynth:
    try:
        import fluidsynth
    except (ImportError, OSError) as error:
        raise MissingToolError(
            "FluidSynth", "apt-get install libfluidsynth3 and pip install pyfluidsynth"
        ) from error
    key = (str(soundfont.resolve()), sample_rate)
    with _SYNTHS_LOCK:
        loaded = _SYNTHS.get(key)
        if loaded is None:
            # Chorus off: it costs ~20 % of synthesis and adds little to one voice.
            # Reverb stays on although it is a third of synthesis (50 -> 31 ms for
            # 30 s at 32 kHz without it): it makes the SoundFont sound like a room.
            # The interpolation method made no measurable difference for one voice.
            synth = fluidsynth.Synth(
                gain=SYNTH_GAIN, samplerate=float(sample_rate), **{"synth.chorus.active": 0}
            )
            sfid = synth.sfload(str(soundfont))
            if sfid < 0:
                synth.delete()
                raise RenderError(
                    f"the SoundFont {soundfont.name} could not be loaded (not an .sf2 file?)"
                )
            loaded = _SYNTHS[key] = _LoadedSynth(synth, sfid, threading.Lock())
        return loaded


def synthesize(
    midi: pretty_midi.PrettyMIDI,
    *,
    soundfont: Path | None = None,
    sample_rate: int = SAMPLE_RATE,
    min_seconds: float = 0.0,
) -> np.ndarray:
    """Render ``midi`` with FluidSynth to mono float32 samples at ``sample_rate`` Hz.

    The audio starts at the first note: the silent beats before a pickup
    (most folk tunes begin with one, and so do most generated melodies) are
    not played, while MIDI and the pictures keep them in their bar. The result
    lasts at least ``min_seconds`` + `TAIL_SECONDS` from the MIDI's start
    minus that lead (so trailing rests are kept), is loudness-normalised
    (`normalise_loudness`) and fades out over its last `FADE_SECONDS`. Raises
    `MissingToolError` without FluidSynth or the SoundFont, `RenderError` if
    nothing audible came out.
    """
    loaded = _loaded_synth(resolve_soundfont(soundfont), sample_rate)
    with loaded.lock:
        # Clear notes, controllers and reverb left over from the last render.
        loaded.synth.system_reset()
        # normalize=False: pretty_midi's own normalisation is peak-only; ours
        # below also looks at loudness. Samples come back in [-1, 1].
        raw = midi.fluidsynth(
            fs=sample_rate, synthesizer=loaded.synth, sfid=loaded.sfid, normalize=False
        )
    samples = np.asarray(raw, dtype=np.float64) * max(1, len(midi.instruments))
    onsets = [note.start for instrument in midi.instruments for note in instrument.notes]
    lead = min(onsets, default=0.0)
    samples = samples[int(lead * sample_rate) :]
    wanted = math.ceil((min_seconds - lead + TAIL_SECONDS) * sample_rate)
    if samples.size < wanted:
        samples = np.pad(samples, (0, wanted - samples.size))
    samples = normalise_loudness(samples)
    fade = min(samples.size, int(FADE_SECONDS * sample_rate))
    if fade:
        samples[-fade:] *= np.linspace(1.0, 0.0, fade)
    return samples.astype(np.float32)


def normalise_loudness(samples: np.ndarray) -> np.ndarray:
    """Scale ``samples`` to `TARGET_RMS_DBFS` RMS unless that would push the peak
    above `PEAK_CEILING_DBFS`; then to that peak (whichever gain is smaller).

    Raises `RenderError` for silence (e.g. a SoundFont without the program).
    """
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak < 1e-6:
        raise RenderError(
            "the synthesiser produced silence (does the SoundFont have this instrument?)"
        )
    rms = float(np.sqrt(np.mean(np.square(samples))))
    gain = min(10 ** (TARGET_RMS_DBFS / 20) / rms, 10 ** (PEAK_CEILING_DBFS / 20) / peak)
    return samples * gain


def write_audio(samples: np.ndarray, path: Path, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write mono ``samples`` (floats in [-1, 1]) to ``path``; its suffix picks the
    format: ``.wav`` (16-bit PCM), ``.mp3`` (LAME VBR) or ``.ogg`` (Vorbis).

    MP3 is encoded in-process by LAME (lameenc): 35 ms for 31 s at 32 kHz where
    pydub + ffmpeg took 100 ms, most of it starting ffmpeg and piping the audio.
    OGG goes through pydub + ffmpeg. A missing encoder raises `MissingToolError`.
    """
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    audio_format = path.suffix.lower().lstrip(".")
    if audio_format == "wav":
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(pcm)
        return path
    if audio_format == "mp3":
        path.write_bytes(encode_mp3(pcm, sample_rate))
        return path
    if audio_format != "ogg":
        raise InvalidParameter("audio_format", audio_format, "one of mp3, ogg, wav")
    try:
        from pydub import AudioSegment
        from pydub.exceptions import CouldntEncodeError
    except ImportError as error:
        raise MissingToolError("pydub", "pip install 'lstmuse[render]'") from error
    if shutil.which(AudioSegment.converter) is None:
        raise MissingToolError("ffmpeg", "install it with apt-get install ffmpeg")
    segment = AudioSegment(data=pcm, sample_width=2, frame_rate=sample_rate, channels=1)
    try:
        handle = segment.export(
            str(path), format="ogg", codec="libvorbis", parameters=OGG_PARAMETERS
        )
        handle.close()  # pydub returns the open output file
    except FileNotFoundError as error:
        raise MissingToolError("ffmpeg", "install it with apt-get install ffmpeg") from error
    except CouldntEncodeError as error:
        path.unlink(missing_ok=True)
        raise RenderError(f"ffmpeg could not encode OGG: {_last_line(str(error))}") from error
    return path


def encode_mp3(pcm: bytes, sample_rate: int = SAMPLE_RATE) -> bytes:
    """Encode mono 16-bit little-endian ``pcm`` at ``sample_rate`` Hz as a VBR MP3 file.

    LAME runs with the settings ffmpeg used before (`MP3_VBR_QUALITY`,
    `MP3_ALGORITHM_QUALITY`); lameenc writes bare frames, so a Xing header is
    put in front (`_xing_frame`): without it players guess a VBR file's length
    from its first frame and seek to the wrong places.
    """
    try:
        import lameenc
    except ImportError as error:
        raise MissingToolError("lameenc", "pip install 'lstmuse[render]'") from error
    encoder = lameenc.Encoder()
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(MP3_ALGORITHM_QUALITY)
    encoder.set_vbr(MP3_VBR_MODE)
    encoder.set_vbr_quality(MP3_VBR_QUALITY)
    frames = bytes(encoder.encode(pcm) + encoder.flush())
    return _xing_frame(frames) + frames


# MPEG audio Layer III: kb/s by bitrate index, for MPEG-1 and for MPEG-2/2.5.
_MP3_KBPS = {
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Sample rates by the header's version bits (3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5).
_MP3_RATES = {3: (44_100, 48_000, 32_000), 2: (22_050, 24_000, 16_000), 0: (11_025, 12_000, 8_000)}
_XING_FLAGS = 0x1 | 0x2 | 0x4  # frame count, byte count and seek table present


def _mp3_frame_length(header: bytes) -> int:
    """Bytes in the Layer III frame that starts with the 4-byte ``header`` (0: not a frame)."""
    version, layer = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate_index, rate_index = header[2] >> 4, (header[2] >> 2) & 3
    if header[0] != 0xFF or header[1] & 0xE0 != 0xE0 or layer != 1 or version == 1:
        return 0
    if bitrate_index in (0, 15) or rate_index == 3:
        return 0
    mpeg1 = version == 3
    bits_per_second = _MP3_KBPS[mpeg1][bitrate_index] * 1000
    slots = 144 if mpeg1 else 72  # bytes per (bit/s / Hz): 1152 or 576 samples a frame
    return slots * bits_per_second // _MP3_RATES[version][rate_index] + ((header[2] >> 1) & 1)


def _xing_frame(frames: bytes) -> bytes:
    """A silent frame holding the Xing VBR header (frame count, bytes, seek table) for ``frames``.

    The layout is LAME's: after the frame header and the (zeroed) side
    information come "Xing", the flags, the frame count, the file's length in
    bytes and 100 seek points, each the byte position of 1 % of the duration
    scaled to 0-255. Decoders read it as metadata and play no sound for it.
    """
    offsets = []
    position = 0
    while position + 4 <= len(frames):
        length = _mp3_frame_length(frames[position : position + 4])
        if length == 0:
            raise RenderError(f"LAME wrote no MP3 frame at byte {position}")
        offsets.append(position)
        position += length
    if not offsets:
        raise RenderError("LAME wrote no MP3 frames")
    first = frames[:4]
    version, mono = (first[1] >> 3) & 3, first[3] >> 6 == 3
    side_info = (17 if mono else 32) if version == 3 else (9 if mono else 17)
    needed = 4 + side_info + 4 * 4 + 100
    # The same header as the audio, no CRC, no padding, the lowest bitrate that fits.
    for bitrate_index in range(1, 15):
        header = bytes((first[0], first[1] | 1, (first[2] & 0x0C) | (bitrate_index << 4), first[3]))
        length = _mp3_frame_length(header)
        if length >= needed:
            break
    total = length + len(frames)
    seek_points = bytes(
        min(255, 256 * (length + offsets[len(offsets) * percent // 100]) // total)
        for percent in range(100)
    )
    tag = (
        b"Xing"
        + _XING_FLAGS.to_bytes(4, "big")
        + len(offsets).to_bytes(4, "big")
        + total.to_bytes(4, "big")
        + seek_points
    )
    return (header + bytes(side_info) + tag).ljust(length, b"\0")


# --- Pictures ----------------------------------------------------------------


def render_pianoroll(melody: Melody, path: Path, *, title: str = "", seed_steps: int = 0) -> Path:
    """Draw the melody as a piano roll PNG (`PIANOROLL_SIZE`, 1200 x 500 px) at ``path``.

    x: 16th-note steps, with bar lines, beat lines and bar numbers from the
    melody's meter; y: pitches named as the melody's key spells them (C4,
    F#4 in sharp keys, Bb4 in flat ones), black-key rows shaded; ``title``
    on top. The first ``seed_steps`` steps, the seed melody, are shaded and
    labelled "seed" up to a line where the generated music begins. Drawn
    with Pillow straight onto pixels (~5 ms; the matplotlib figure it
    replaces took ~60 ms for the same picture).
    """
    try:
        from PIL import Image, ImageDraw
    except ImportError as error:
        raise MissingToolError("Pillow", "pip install 'lstmuse[render]'") from error

    _require_notes(melody)
    notes = [(e.pitch, e.start, e.duration) for e in melody.notes if e.pitch is not None]
    total_steps = len(melody)
    low = min(p for p, _, _ in notes) - 1  # a free row below ...
    high = max(p for p, _, _ in notes) + 1  # ... and above
    left, top, right, bottom = PIANOROLL_PLOT
    step_px = (right - left) / total_steps
    row_px = (bottom - top) / (high - low + 1)
    colours, text = PIANOROLL_COLOURS, PIANOROLL_COLOURS["text"]

    def x_at(step: float) -> int:
        return left + round(step * step_px)

    def y_at(pitch: float) -> int:  # pitch rows run upwards; row `low` ends at `bottom`
        return bottom - round((pitch - low + 0.5) * row_px)

    image = Image.new("RGB", PIANOROLL_SIZE, colours["background"])
    draw = ImageDraw.Draw(image)
    seed_end = x_at(min(seed_steps, total_steps))
    if seed_steps > 0:
        draw.rectangle((left, top, seed_end, bottom), colours["seed"])
    # Black-key rows shaded, like a keyboard on its side: pitches read at a glance.
    for pitch in range(low, high + 1):
        if pitch % 12 in (1, 3, 6, 8, 10):
            row_top, row_bottom = y_at(pitch + 0.5), y_at(pitch - 0.5) - 1
            draw.rectangle((left, row_top, right, row_bottom), colours["black_key_row"])
            if seed_steps > 0:
                draw.rectangle((left, row_top, seed_end, row_bottom), colours["seed_black_key_row"])
    beat_steps = _beat_steps(*melody.time_signature)
    if beat_steps >= 2 and beat_steps * step_px >= 4:  # beat lines only where not crammed
        for step in np.arange(0.0, total_steps, beat_steps):
            draw.line((x_at(step), top, x_at(step), bottom), colours["beat_line"])
    bar_starts = range(0, total_steps, melody.steps_per_bar)
    for step in bar_starts:  # 2 px wide, ending at the bar's first pixel
        draw.rectangle((x_at(step) - 1, top, x_at(step), bottom), colours["bar_line"])
    for pitch, start, duration in notes:
        draw.rectangle(
            (
                x_at(start),
                y_at(pitch + 0.4),
                # at least one pixel wide: a 16th is under a pixel in a long melody
                max(x_at(start), x_at(start + duration) - 1),
                y_at(pitch - 0.4),
            ),
            fill=colours["note"],
            outline=colours["note_edge"],
        )
    draw.rectangle((left, top, right, bottom), outline=text)  # the frame, over the rows' ends

    label_font = _font(PIANOROLL_FONT_PX["label"])
    if seed_steps > 0:  # over the bar line a seed of whole bars ends on
        draw.rectangle((seed_end - 1, top, seed_end, bottom), colours["seed_line"])
        draw.text((seed_end - 5, top + 3), "seed", colours["seed_line"], label_font, anchor="ra")
    for pitch in _pitch_ticks(low, high):
        y = y_at(pitch)
        draw.line((left - 5, y, left - 1, y), text)
        draw.text((left - 8, y), note_name(pitch, melody.key), text, label_font, anchor="rm")
    label_every = max(1, math.ceil(len(bar_starts) / 16))  # at most 16 bar numbers
    for bar in range(0, len(bar_starts), label_every):
        x = x_at(bar_starts[bar])
        draw.line((x, bottom + 1, x, bottom + 5), text)
        draw.text((x, bottom + 8), str(bar + 1), text, label_font, anchor="mt")
    draw.text(((left + right) // 2, PIANOROLL_SIZE[1] - 10), "bar", text, label_font, anchor="mb")
    if title:
        title_font = _font(PIANOROLL_FONT_PX["title"])
        draw.text((left, top - 8), title, text, title_font, anchor="ld")
    image.save(path, format="PNG", compress_level=PIANOROLL_PNG_COMPRESS_LEVEL)
    return path


def note_name(pitch: int, key: Key | None = None) -> str:
    """MIDI pitch as a name with octave, spelled as ``key``'s signature: 60 -> C4, 70 -> Bb4.

    Keys whose signature has flats (F, Bb, Eb, ... major; D, G, C ... minor;
    G dorian) name black keys with flats; others (and no key) with sharps.
    """
    names = FLAT_NOTE_NAMES if key is not None and signature_sharps(key) < 0 else NOTE_NAMES
    return f"{names[pitch % 12]}{pitch // 12 - 1}"


@functools.cache
def _font(size_px: int) -> Any:
    """DejaVu Sans at ``size_px`` (matplotlib's old font, if installed), else Pillow's own."""
    from PIL import ImageFont

    for candidate in _dejavu_sans_paths():
        try:
            return ImageFont.truetype(str(candidate), size_px)
        except OSError:
            continue
    return ImageFont.load_default(size_px)


def _dejavu_sans_paths() -> list[Path]:
    paths = [Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")]
    # find_spec locates matplotlib's bundled copy without importing matplotlib.
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.origin is not None:
        paths.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf")
    return [p for p in paths if p.is_file()]


def _beat_steps(numerator: int, denominator: int) -> float:
    """One beat in 16th-note steps; compound meters (6/8, 9/8, 12/8) beat in dotted units."""
    unit = STEPS_PER_QUARTER * 4 / denominator
    compound = denominator >= 8 and numerator > 3 and numerator % 3 == 0
    return unit * 3 if compound else unit


def _pitch_ticks(low: int, high: int) -> list[int]:
    """Pitches to name on the y axis: every one if they fit, else C, E, G; else C."""
    rows = high - low + 1
    pixels_per_row = (PIANOROLL_PLOT[3] - PIANOROLL_PLOT[1]) / rows
    if pixels_per_row >= 15:
        return list(range(low, high + 1))
    classes = (0, 4, 7) if 3 * pixels_per_row >= 15 else (0,)
    return [p for p in range(low, high + 1) if p % 12 in classes]


def write_musicxml(melody: Melody, path: Path, *, title: str = "", bpm: float = 120.0) -> Path:
    """Write the melody as a MusicXML score at ``path``, for MuseScore and other notation programs.

    The score carries the melody's meter, key signature (`_music21_score`),
    ``bpm`` as its metronome mark and ``title`` (plain text only) as its name.
    """
    _music21_score(melody, title=title, bpm=bpm).write("musicxml", fp=str(path))
    return path


def render_score(melody: Melody, path: Path, *, title: str = "", bpm: float = 120.0) -> Path:
    """Engrave the melody as sheet music PNG at ``path`` with LilyPond.

    ``bpm`` (checked before, as `RenderOptions` does) is the metronome mark.
    music21 builds the score (`_music21_score`) and writes MusicXML;
    ``musicxml2ly`` and ``lilypond`` run in a
    temporary directory on fixed file names, with argument lists (no shell).
    Only letters, digits and simple punctuation of ``title`` are kept.
    Needs Debian's ``lilypond`` (which provides ``musicxml2ly``).
    """
    lilypond, musicxml2ly = shutil.which("lilypond"), shutil.which("musicxml2ly")
    if lilypond is None or musicxml2ly is None:
        raise MissingToolError("LilyPond", "install it with apt-get install lilypond")
    score = _music21_score(melody, title=title, bpm=bpm)
    with tempfile.TemporaryDirectory(prefix="lstmuse-score-") as tmp:
        work = Path(tmp)
        score.write("musicxml", fp=str(work / "melody.musicxml"))
        _run_tool([musicxml2ly, "--output=melody.ly", "melody.musicxml"], work, "musicxml2ly")
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


def _music21_score(melody: Melody, *, title: str, bpm: float) -> Any:
    """One part in the melody's meter and key, bar lines and ties made, titled ``title``.

    The key signature is the melody's own key (D dorian: none; G dorian: one
    flat), which key analysis, knowing only major and minor, would get wrong
    for modes; a melody in the model's key space (no key) gets no signature,
    as its MIDI file does, and whichever of C major or A minor analysis hears.
    """
    try:
        from music21 import clef, key, metadata, meter, note, stream, tempo
    except ImportError as error:  # pragma: no cover - music21 is a core dependency
        raise MissingToolError("music21", "pip install music21") from error

    part = stream.Part()
    part.append(meter.TimeSignature(melody.meter))
    part.append(tempo.MetronomeMark(number=round(bpm)))
    for event in melody.notes:
        item = note.Rest() if event.pitch is None else note.Note(event.pitch)
        item.quarterLength = event.duration / STEPS_PER_QUARTER
        part.append(item)
    if melody.key is not None:
        # music21 writes a flat as '-': Bb is "B-".
        score_key = key.Key(
            melody.key.tonic[0] + melody.key.tonic[1:].replace("b", "-"), melody.key.mode
        )
    else:
        score_key = key.Key("a" if part.analyze("key").mode == "minor" else "C")
    for item in part.recurse().notes:
        for p in item.pitches:
            _spell_in_key(p, score_key)
    part.insert(0, score_key)
    part.insert(0, clef.bestClef(part, recurse=True))
    score = stream.Score([part])
    # movementName alone becomes LilyPond's title; an empty composer stops
    # music21 from signing the score "Music21".
    safe_title = _TITLE_UNSAFE.sub("", title).strip()[:80]
    score.insert(0, metadata.Metadata(movementName=safe_title, composer=""))
    return score.makeNotation()


def _spell_in_key(p: Any, key: Any) -> None:
    """Spell a music21 pitch as ``key`` does (Bb in F major, not A#), keeping its MIDI number.

    Minor keys also spell their raised leading tone (C# in D minor). Other
    notes take sharps in sharp keys and flats in flat keys; in C major and
    A minor music21's own choice (C#, Eb, F#, G#, Bb) stays.
    """
    midi_number = p.midi
    in_key = {s.pitchClass: s.name for s in key.getPitches()}
    if key.mode == "minor":
        leading_tone = key.tonic.transpose("M7")
        in_key[leading_tone.pitchClass] = leading_tone.name
    alter = p.accidental.alter if p.accidental is not None else 0
    if p.pitchClass in in_key:
        p.name = in_key[p.pitchClass]
    elif alter and key.sharps and (alter > 0) == (key.sharps < 0):
        p.getEnharmonic(inPlace=True)
    p.octave += round((midi_number - p.midi) / 12)  # B#/Cb cross an octave boundary


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
        raise RenderError(f"{name} failed: {_last_line(done.stderr)}")


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no message"


def _size(n_bytes: int) -> str:
    return (
        f"{n_bytes / 1024 / 1024:.1f} MiB"
        if n_bytes >= 1024 * 1024
        else f"{n_bytes / 1024:.0f} KiB"
    )
