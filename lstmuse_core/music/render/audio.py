"""Audio: the melody's MIDI file played by FluidSynth, mixed, loudness-normalised, encoded.

Samples are mono floats in [-1, 1] at `SAMPLE_RATE` Hz. WAV is written by
the standard library, MP3 by LAME in-process (`lstmuse_core.music.render.mp3`),
OGG Vorbis through pydub + ffmpeg. pyfluidsynth, lameenc and pydub are
imported inside the functions that use them.
"""

from __future__ import annotations

import math
import shutil
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lstmuse_core.errors import InvalidParameter, MissingToolError, RenderError
from lstmuse_core.music.formats import SAMPLE_RATE, TAIL_SECONDS
from lstmuse_core.music.midi import step_seconds
from lstmuse_core.music.render.base import RenderJob, last_line
from lstmuse_core.music.render.mp3 import encode_mp3

if TYPE_CHECKING:
    import pretty_midi

FADE_SECONDS = 0.2  # the very end fades out, so a long release never ends in a click
TARGET_RMS_DBFS = -16.0  # loud enough on a phone speaker ...
PEAK_CEILING_DBFS = -1.0  # ... and never clipping, not even after MP3 encoding
# A peak limiter may take up to this much off the loudest attacks, so that a
# tune whose few peaks stand out (a melody's attacks landing on the backing's
# bass) still reaches `TARGET_RMS_DBFS` instead of being turned down whole.
LIMITER_MAX_DB = 4.0
# Its gain moves in ramps between 10 ms blocks: slow enough not to distort a
# waveform (a 100 Hz cycle), quick enough to leave the notes around a peak alone.
LIMITER_BLOCK_SECONDS = 0.01
# FluidSynth's default gain 0.2 leaves a single melody near -37 dBFS RMS in
# 16-bit samples; 0.8 keeps more bits before normalising and still leaves
# ~10 dB headroom for one voice.
SYNTH_GAIN = 0.8

SOUNDFONT_ENV = "LSTMUSE_SOUNDFONT"
SYSTEM_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")

OGG_PARAMETERS = ["-q:a", "3"]  # Vorbis quality 3: ~110 kb/s


def render_audio(job: RenderJob, path: Path) -> Path:
    """The melody as audio at ``path`` (its suffix picks the format), lasting at least
    the melody's length at the asked tempo, trailing rests included."""
    melody_seconds = len(job.melody) * step_seconds(job.options.bpm)
    samples = synthesize(job.midi, soundfont=job.options.soundfont, min_seconds=melody_seconds)
    return write_audio(samples, path)


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
            # Dynamic sample loading reads the samples of the programs played, not the
            # whole 148 MB: 140 MB less per process and 0.1 s less to load, the same
            # samples out (a program's first render reads its samples, ~20 ms).
            settings = {"synth.chorus.active": 0, "synth.dynamic-sample-loading": 1}
            synth = fluidsynth.Synth(gain=SYNTH_GAIN, samplerate=float(sample_rate), **settings)
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

    Every instrument plays at once, each on its own channel with its program
    and controllers (`perform`): the accompaniment sits under the melody at
    the channel volume the MIDI file gives it (`lstmuse_core.music.midi.BACKING_VOLUMES`).
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
        samples = perform(midi, loaded.synth, loaded.sfid, sample_rate)
    onsets = [note.start for instrument in midi.instruments for note in instrument.notes]
    lead = min(onsets, default=0.0)
    samples = samples[int(lead * sample_rate) :]
    wanted = math.ceil((min_seconds - lead + TAIL_SECONDS) * sample_rate)
    if samples.size < wanted:
        samples = np.pad(samples, (0, wanted - samples.size))
    samples = normalise_loudness(samples, sample_rate)
    fade = min(samples.size, int(FADE_SECONDS * sample_rate))
    if fade:
        samples[-fade:] *= np.linspace(1.0, 0.0, fade)
    return samples.astype(np.float32)


def perform(midi: pretty_midi.PrettyMIDI, synth: Any, sfid: int, sample_rate: int) -> np.ndarray:
    """``midi``'s instruments played together by ``synth`` (a fluidsynth.Synth with the
    SoundFont ``sfid``): mono samples in [-1, 1] from time 0 to a second past the last
    event, as pretty_midi's own ``fluidsynth`` would give them one instrument at a time.

    One pass instead of pretty_midi's pass per instrument: FluidSynth's reverb runs
    once, and a render with an accompaniment costs 1.3x the melody alone's synthesis
    instead of 1.7x (the bench). Instrument ``i`` plays on channel ``i``: at most
    15 instruments, never the drums' channel 9 (the renderer writes two).
    """
    events: list[tuple[float, int, int, int, int]] = []  # (seconds, order, channel, a, b)
    for channel, instrument in enumerate(midi.instruments):
        synth.program_select(channel, sfid, 0, instrument.program)
        events += [(c.time, 0, channel, c.number, c.value) for c in instrument.control_changes]
        for note in instrument.notes:
            events.append((note.start, 2, channel, note.pitch, note.velocity))
            events.append((note.end, 1, channel, note.pitch, 0))  # offs before ons at a time
    events.sort()
    samples = np.zeros(math.ceil(((events[-1][0] if events else 0.0) + 1.0) * sample_rate))
    done = 0
    for seconds, order, channel, a, b in events:
        at = int(seconds * sample_rate)
        if at > done:
            # Interleaved stereo, 16-bit scale: the left channel, as pretty_midi takes it.
            samples[done:at] = synth.get_samples(at - done)[::2]
            done = at
        if order == 0:
            synth.cc(channel, a, b)
        elif order == 1:
            synth.noteoff(channel, a)
        else:
            synth.noteon(channel, a, b)
    if done < samples.size:
        samples[done:] = synth.get_samples(samples.size - done)[::2]
    return samples / 2**15


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples)))) if samples.size else 0.0


def normalise_loudness(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Scale ``samples`` to `TARGET_RMS_DBFS` RMS, or less where that would need
    more than `LIMITER_MAX_DB` of limiting; then limit the peaks to
    `PEAK_CEILING_DBFS` (`limit_peaks`).

    Raises `RenderError` for silence (e.g. a SoundFont without the program).
    """
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak < 1e-6:
        raise RenderError(
            "the synthesiser produced silence (does the SoundFont have this instrument?)"
        )
    rms = _rms(samples)
    ceiling = 10 ** (PEAK_CEILING_DBFS / 20)
    gain = min(10 ** (TARGET_RMS_DBFS / 20) / rms, ceiling * 10 ** (LIMITER_MAX_DB / 20) / peak)
    samples = samples * gain
    if peak * gain <= ceiling:
        return samples
    return limit_peaks(samples, ceiling, round(LIMITER_BLOCK_SECONDS * sample_rate))


def limit_peaks(samples: np.ndarray, ceiling: float, block: int) -> np.ndarray:
    """``samples`` with no sample above ``ceiling``: each ``block`` of samples gets the
    gain that brings the loudest of it and its two neighbours under the ceiling, and
    the gain moves linearly from block centre to block centre. A sample's gain then
    lies between two gains that each allow its own block's peak: never above it."""
    count = -(-samples.size // block)
    padded = np.pad(np.abs(samples), (0, count * block - samples.size))
    peaks = padded.reshape(count, block).max(axis=1)
    around = peaks.copy()
    around[1:] = np.maximum(around[1:], peaks[:-1])
    around[:-1] = np.maximum(around[:-1], peaks[1:])
    gains = np.minimum(1.0, ceiling / np.maximum(around, 1e-12))
    centres = np.arange(count) * block + (block - 1) / 2
    # Only blocks beside a block turned down have a gain below 1: ramp those alone
    # (a few percent of the blocks; a gain for every sample took 12 ms for 30 s).
    down = gains < 1.0
    ramped = np.flatnonzero(down | np.roll(down, 1) | np.roll(down, -1))
    at = (ramped[:, None] * block + np.arange(block)).ravel()
    at = at[at < samples.size]
    limited = samples.copy()
    limited[at] *= np.interp(at, centres, gains)
    return limited


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
        raise RenderError(f"ffmpeg could not encode OGG: {last_line(str(error))}") from error
    return path
