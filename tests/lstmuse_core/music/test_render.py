"""Rendering melodies to MIDI, audio and pictures with the real tools (music.render)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
from PIL import Image
from pydub import AudioSegment
from pydub.utils import mediainfo

from lstmuse_core.errors import InvalidParameter, RenderError
from lstmuse_core.music.encoding import is_pitch
from lstmuse_core.music.formats import SAMPLE_RATE, TAIL_SECONDS
from lstmuse_core.music.keys import Key
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.midi import melody_to_midi
from lstmuse_core.music.render import RenderOptions, RenderResult, render_melody
from lstmuse_core.music.render.audio import _SYNTHS, synthesize
from lstmuse_core.music.render.pianoroll import (
    PIANOROLL_COLOURS,
    PIANOROLL_PLOT,
    beat_line_steps,
    render_pianoroll,
)


def _symbols(text: str) -> list[str]:
    """Model symbols written as one space-separated string."""
    return text.split()


# Two 4/4 bars at 120 bpm (0.125 s a step), ending in a two-step rest: 32 steps = 4.0 s.
MELODY = _symbols("67 _ _ _ 69 _ 71 _ 72 _ _ _ 74 _ 76 _ 77 _ 76 _ 74 _ _ _ 72 _ _ _ _ _ r _")
TUNE = Melody(MELODY)
MELODY_SECONDS = len(MELODY) * 60 / 120 / 4
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _render(out_dir: Path, **options: object) -> RenderResult:
    return render_melody(
        TUNE,
        out_dir,
        stem="tune_1",
        title="Test tune in G major, 120 bpm",
        options=RenderOptions(bpm=120, instrument="flute", **options),  # type: ignore[arg-type]
    )


def _wav_samples(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        frames = wav.readframes(wav.getnframes())
        return np.frombuffer(frames, dtype="<i2") / 32768.0, wav.getframerate()


def _dbfs(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(samples)))))


def test_default_render_writes_midi_mp3_and_piano_roll(tmp_path: Path) -> None:
    """MIDI + MP3 + piano roll by default, named after the stem, with no problems."""
    result = _render(tmp_path)
    assert result.problems == []
    assert (result.midi.name, result.audio, result.image) == (
        "tune_1.mid",
        tmp_path / "tune_1.mp3",
        tmp_path / "tune_1.png",
    )
    midi = pretty_midi.PrettyMIDI(str(result.midi))
    assert midi.instruments[0].program == 73
    assert result.total_bytes == sum(p.stat().st_size for p in result.paths)


def test_wav_is_loud_not_clipped_and_lasts_the_melody_plus_a_tail(tmp_path: Path) -> None:
    """WAV: mono at SAMPLE_RATE, RMS above -30 dBFS, peak at most -1 dBFS, melody length + ~1 s."""
    result = _render(tmp_path, audio_format="wav", image="none")
    assert result.audio is not None and result.image is None
    samples, rate = _wav_samples(result.audio)
    assert rate == SAMPLE_RATE
    assert _dbfs(samples) > -30
    assert np.max(np.abs(samples)) <= 10 ** (-1 / 20) + 1e-3
    # The trailing rest is kept: the melody's full 4 s plus the 1 s release tail.
    assert len(samples) / rate == pytest.approx(MELODY_SECONDS + TAIL_SECONDS, abs=0.05)


def test_audio_starts_at_a_pickup_note_not_at_its_bar_line(tmp_path: Path) -> None:
    """A melody opening with 3 beats of rest (a pickup) sounds at once; the MIDI keeps the rest."""
    pickup = Melody(["r"] + ["_"] * 11 + ["67", "_", "_", "_"] + ["72"] + ["_"] * 15)
    options = RenderOptions(bpm=120, audio_format="wav", image="none")
    result = render_melody(pickup, tmp_path, stem="pickup", options=options)
    assert result.audio is not None
    samples, rate = _wav_samples(result.audio)
    beat = 60 / 120
    assert len(samples) / rate == pytest.approx(5 * beat + TAIL_SECONDS, abs=0.05)
    assert _dbfs(samples[: int(0.1 * rate)]) > -40  # the pickup note is heard at once
    midi = pretty_midi.PrettyMIDI(str(result.midi))
    assert midi.instruments[0].notes[0].start == pytest.approx(3 * beat)


@pytest.mark.parametrize("audio_format", ["mp3", "ogg"])
def test_compressed_audio_decodes_back_with_the_right_duration(
    audio_format: str, tmp_path: Path
) -> None:
    """MP3 and OGG decode with pydub to mono audio of the melody's length plus the tail."""
    result = _render(tmp_path, audio_format=audio_format, image="none")
    assert result.audio is not None and result.audio.suffix == f".{audio_format}"
    decoded = AudioSegment.from_file(result.audio, format=audio_format)
    assert decoded.channels == 1
    assert decoded.frame_rate == SAMPLE_RATE
    expected = MELODY_SECONDS + TAIL_SECONDS
    assert decoded.duration_seconds == pytest.approx(expected, abs=0.1)
    assert decoded.dBFS > -30  # not near-silent after encoding


def test_mp3_decodes_to_the_melody_length_at_the_target_loudness_unclipped(
    tmp_path: Path,
) -> None:
    """The MP3 decodes (pydub) to melody + tail seconds, -16 to -19 dBFS RMS, peak under 0 dBFS."""
    result = _render(tmp_path, image="none")
    assert result.audio is not None
    decoded = AudioSegment.from_file(result.audio, format="mp3")
    samples = np.array(decoded.get_array_of_samples()) / 32768.0
    assert decoded.duration_seconds == pytest.approx(MELODY_SECONDS + TAIL_SECONDS, abs=0.1)
    assert -19.0 <= _dbfs(samples) <= -16.0 + 0.5  # MP3 moves the RMS by a few tenths at most
    assert np.max(np.abs(samples)) < 10 ** (-0.5 / 20)  # the -1 dBFS ceiling survives encoding


def test_mp3_header_tells_players_its_length(tmp_path: Path) -> None:
    """ffprobe reads the MP3's length from its Xing header: the decoded length, not a guess."""
    result = _render(tmp_path, image="none")
    assert result.audio is not None
    data = result.audio.read_bytes()
    assert b"Xing" in data[:64]
    decoded = AudioSegment.from_file(result.audio, format="mp3")
    # Without the header ffprobe estimated 4.57 s for this 5.04 s file.
    assert float(mediainfo(str(result.audio))["duration"]) == pytest.approx(
        decoded.duration_seconds, abs=0.01
    )


def test_mp3_needs_no_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MP3 is encoded in-process by LAME: with ffmpeg gone the MP3 is still made."""
    monkeypatch.setattr(AudioSegment, "converter", str(tmp_path / "no-such-ffmpeg"))
    result = _render(tmp_path, image="none")
    assert result.problems == []
    assert result.audio is not None
    data = result.audio.read_bytes()
    assert data[0] == 0xFF and data[1] & 0xE0 == 0xE0  # an MPEG audio frame's sync word


def test_missing_lameenc_is_reported_and_the_rest_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without lameenc: MIDI and picture are made, problems say to pip install lstmuse[render]."""
    monkeypatch.setitem(sys.modules, "lameenc", None)  # makes `import lameenc` fail
    result = _render(tmp_path)
    assert result.midi.is_file() and result.image is not None and result.audio is None
    (problem,) = result.problems
    assert "MP3" in problem and "lameenc" in problem and "lstmuse[render]" in problem


def test_the_instrument_changes_the_sound() -> None:
    """A flute's spectrum differs from a piano's; the same instrument twice is the same."""

    def spectrum(program: int) -> np.ndarray:
        samples = synthesize(
            melody_to_midi(Melody(["69"] + ["_"] * 15), program=program), min_seconds=2
        )
        rate = SAMPLE_RATE
        steady = samples[int(0.2 * rate) : int(1.8 * rate)]
        return np.abs(np.fft.rfft(steady * np.hanning(steady.size)))

    def similarity(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))

    piano, flute = spectrum(0), spectrum(73)
    assert similarity(piano, flute) < 0.9
    assert similarity(piano, spectrum(0)) > 0.99


def test_one_synthesiser_per_soundfont_is_reused() -> None:
    """Rendering twice loads the SoundFont once: the cache holds one Synth for it."""
    midi = melody_to_midi(Melody(["60", "_"]))
    synthesize(midi)
    loaded = dict(_SYNTHS)
    synthesize(midi)
    assert loaded == _SYNTHS
    assert len(loaded) >= 1


def test_piano_roll_is_a_phone_sized_png(tmp_path: Path) -> None:
    """The piano roll is a PNG of 1200 x 500 px with ink on it."""
    result = _render(tmp_path, audio_format="none")
    assert result.image is not None
    assert result.image.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(result.image) as image:
        assert image.size == (1200, 500)
        pixels = np.asarray(image.convert("L"))
    assert (pixels < 128).mean() > 0.01  # notes, lines and labels, not a blank canvas


def _pianoroll_pixels(
    tmp_path: Path,
    symbols: list[str],
    meter_text: str = "4/4",
    *,
    key: Key | None = None,
    seed_steps: int = 0,
) -> np.ndarray:
    path = render_pianoroll(
        Melody(symbols, meter_text, key),
        tmp_path / f"roll-{meter_text.replace('/', '-')}-{key}-{seed_steps}.png",
        title="t",
        seed_steps=seed_steps,
    )
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _pixel_at(symbols: list[str], step: float, pitch: float) -> tuple[int, int]:
    """(row, column) of the pixel at 16th-note ``step`` and MIDI ``pitch`` in a piano roll."""
    pitches = [int(s) for s in symbols if is_pitch(s)]
    low, high = min(pitches) - 1, max(pitches) + 1
    left, top, right, bottom = PIANOROLL_PLOT
    x = left + step * (right - left) / len(symbols)
    y = bottom - (pitch - low + 0.5) * (bottom - top) / (high - low + 1)
    return round(y), round(x)


def test_piano_roll_shows_notes_where_the_melody_has_them(tmp_path: Path) -> None:
    """Note colour inside G4 (steps 0-3) and F5 (16-17); none in G4's row at step 10."""
    pixels = _pianoroll_pixels(tmp_path, MELODY)
    note = PIANOROLL_COLOURS["note"]
    assert tuple(pixels[_pixel_at(MELODY, 1.5, 67)]) == note
    assert tuple(pixels[_pixel_at(MELODY, 17.0, 77)]) == note
    assert tuple(pixels[_pixel_at(MELODY, 10.5, 67)]) == PIANOROLL_COLOURS["background"]
    assert tuple(pixels[_pixel_at(MELODY, 10.5, 72)]) == note  # C5 plays there instead


@pytest.mark.parametrize(
    ("meter_text", "bars", "beats"),
    [("3/4", (12, 24, 36), (16, 32)), ("4/4", (16, 32), (12, 36))],
)
def test_piano_roll_bar_lines_follow_the_meter(
    meter_text: str, bars: tuple[int, ...], beats: tuple[int, ...], tmp_path: Path
) -> None:
    """The Melody's meter sets the bars: every 12 steps in 3/4, 16 in 4/4; the rest are beats."""
    symbols = ["60", "_", "_", "_"] * 12  # 48 steps; the top row (C#4) stays empty
    pixels = _pianoroll_pixels(tmp_path, symbols, meter_text)
    bar_line, beat_line = (
        PIANOROLL_COLOURS["bar_line"],
        PIANOROLL_COLOURS["beat_line"],
    )
    for step in bars:
        assert tuple(pixels[_pixel_at(symbols, step, 61)]) == bar_line, step
    for step in beats:
        assert tuple(pixels[_pixel_at(symbols, step, 61)]) == beat_line, step


@pytest.mark.parametrize(
    ("meter_text", "beat_steps", "not_beats"),
    [
        ("6/4", 12, (4, 8, 28)),  # two dotted halves a bar, not six quarters
        ("9/8", 6, (2, 4, 20)),  # three dotted quarters
        ("15/8", 6, (2, 4, 32)),  # five dotted quarters, not fifteen eighths
    ],
)
def test_piano_roll_beat_lines_fall_on_the_meters_beats(
    meter_text: str, beat_steps: int, not_beats: tuple[int, ...], tmp_path: Path
) -> None:
    """Compound meters get a line per dotted beat and none between; bars keep their lines."""
    symbols = ["60", "_", "_", "_"] * 15  # 60 steps; the top row (C#4) stays empty
    meter = Meter.parse(meter_text)
    left, _, right, _ = PIANOROLL_PLOT
    lines = beat_line_steps(meter, len(symbols), (right - left) / len(symbols))
    assert list(lines) == list(range(0, len(symbols), beat_steps))
    pixels = _pianoroll_pixels(tmp_path, symbols, meter_text)
    # Step 0 is under the plot's frame: the lines from the first beat on.
    colour = {step: tuple(pixels[_pixel_at(symbols, step, 61)]) for step in range(1, 60)}
    for step in lines[1:]:
        on_bar = step % meter.bar_steps == 0
        expected = PIANOROLL_COLOURS["bar_line" if on_bar else "beat_line"]
        assert colour[step] == expected, step
    for step in not_beats:
        assert colour[step] == PIANOROLL_COLOURS["black_key_row"], step
    drawn = [step for step, c in colour.items() if c == PIANOROLL_COLOURS["beat_line"]]
    assert drawn == [step for step in lines if step % meter.bar_steps]


def test_beat_lines_are_left_out_where_they_would_be_crammed() -> None:
    """No beat lines in x/16 (a beat is one step) or when beats are under 4 px apart."""
    assert list(beat_line_steps(Meter.parse("7/16"), 70, 20.0)) == []
    assert list(beat_line_steps(Meter.parse("4/4"), 1200, 0.9)) == []
    assert list(beat_line_steps(Meter.parse("4/4"), 64, 1.0)) == list(range(0, 64, 4))


@pytest.mark.skipif(shutil.which("lilypond") is None, reason="LilyPond is not installed")
def test_score_is_a_png_and_a_hostile_title_runs_no_code(tmp_path: Path) -> None:
    """Sheet music comes out as a PNG; LilyPond code in the title is neither run nor fatal."""
    marker = tmp_path / "pwned"
    # musicxml2ly turns " into \" but leaves \ alone, so a title holding \" ends
    # LilyPond's string early and the Scheme after it runs (unsanitised, it made the marker).
    title = f'x\\" #(mkdir (symbol->string (quote {marker}))) \\"'
    result = render_melody(
        Melody(MELODY, "3/4"),
        tmp_path,
        stem="score",
        title=title,
        options=RenderOptions(audio_format="none", image="score"),
    )
    assert result.problems == []
    assert result.image is not None
    assert result.image.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(result.image) as image:
        width, height = image.size
    assert 300 < width < 2000 and 80 < height < 2000
    assert not marker.exists()


def test_byte_cap_raises_render_error_and_removes_the_files(tmp_path: Path) -> None:
    """Outputs larger than max_bytes raise RenderError naming size and cap; no files stay."""
    with pytest.raises(RenderError) as raised:
        _render(tmp_path, audio_format="wav", image="none", max_bytes=100_000)
    message = str(raised.value)
    assert "100000 bytes" in message and "cap" in message
    assert list(tmp_path.iterdir()) == []


def test_missing_ffmpeg_is_reported_and_the_rest_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ffmpeg, OGG: MIDI and picture are made, problems say to apt-get install ffmpeg."""
    monkeypatch.setattr(AudioSegment, "converter", str(tmp_path / "no-such-ffmpeg"))
    result = _render(tmp_path, audio_format="ogg")
    assert result.midi.is_file() and result.image is not None and result.image.is_file()
    assert result.audio is None
    (problem,) = result.problems
    assert "ffmpeg" in problem and "apt-get install ffmpeg" in problem


def test_missing_soundfont_is_reported_and_the_rest_is_made(tmp_path: Path) -> None:
    """A configured SoundFont that is not there: MIDI and picture are made, problems name it."""
    result = _render(tmp_path, soundfont=tmp_path / "missing.sf2")
    assert result.midi.is_file() and result.image is not None
    assert result.audio is None
    (problem,) = result.problems
    assert "SoundFont" in problem and "LSTMUSE_SOUNDFONT" in problem and "missing.sf2" in problem


def test_corrupt_soundfont_is_reported(tmp_path: Path) -> None:
    """A file that is no SoundFont gives a problem line, not a crash."""
    fake = tmp_path / "fake.sf2"
    fake.write_bytes(b"RIFF but not really a SoundFont")
    result = _render(tmp_path, soundfont=fake, image="none")
    assert result.audio is None and result.midi.is_file()
    (problem,) = result.problems
    assert "fake.sf2" in problem and "could not be loaded" in problem


def test_missing_lilypond_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With LilyPond off the PATH, a score request says to apt-get install lilypond."""
    monkeypatch.setenv("PATH", str(tmp_path))
    result = _render(tmp_path, audio_format="none", image="score")
    assert result.midi.is_file() and result.image is None
    (problem,) = result.problems
    assert "LilyPond" in problem and "apt-get install lilypond" in problem


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"audio_format": "flac"}, "audio_format"),
        ({"image": "gif"}, "image"),
        ({"export": "pdf"}, "export"),
        ({"max_bytes": 0}, "max_bytes"),
        ({"max_bytes": "8 MiB"}, "max_bytes"),
        ({"soundfont": ""}, "soundfont"),
        ({"bpm": 500}, "bpm"),
        ({"bpm": "fast"}, "bpm"),
        ({"instrument": "kazoo 9000"}, "instrument"),
    ],
)
def test_invalid_options_name_the_field(options: dict[str, object], parameter: str) -> None:
    """Each invalid RenderOptions field raises InvalidParameter naming that field."""
    with pytest.raises(InvalidParameter) as raised:
        RenderOptions(**options)  # type: ignore[arg-type]
    assert raised.value.parameter == parameter


def test_options_accept_any_case() -> None:
    """Typed option values are normalised to lower case; an instrument name becomes its program."""
    options = RenderOptions(audio_format=" OGG", image="Score", instrument="Flute", bpm=90)
    assert (options.audio_format, options.image) == ("ogg", "score")
    assert (options.program, options.bpm) == (73, 90.0)


@pytest.mark.parametrize(
    ("stem", "symbols", "parameter"),
    [
        ("../evil", MELODY, "stem"),
        ("tune 1", MELODY, "stem"),
        ("", MELODY, "stem"),
        ("ok", ["r", "_", "_"], "melody"),
    ],
)
def test_invalid_render_arguments_are_refused_before_any_file(
    stem: str, symbols: list[str], parameter: str, tmp_path: Path
) -> None:
    """A bad stem or a melody of rests only names itself; nothing is written."""
    out_dir = tmp_path / "out"
    with pytest.raises(InvalidParameter) as raised:
        render_melody(Melody(symbols), out_dir, stem=stem)
    assert raised.value.parameter == parameter
    assert not out_dir.exists()


def test_render_takes_the_melody_and_does_not_check_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """render_melody writes a Melody's meter into the MIDI and never re-validates its symbols."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the melody was validated again")

    tune = Melody(MELODY, "3/4")
    monkeypatch.setattr("lstmuse_core.music.encoding.validate_melody", refuse)
    monkeypatch.setattr("lstmuse_core.music.melody.validate_melody", refuse)
    result = render_melody(
        tune, tmp_path, stem="checked", options=RenderOptions(audio_format="none")
    )
    signature = pretty_midi.PrettyMIDI(str(result.midi)).time_signature_changes[0]
    assert (signature.numerator, signature.denominator) == (3, 4)
    assert result.image is not None and result.image.is_file()


def test_importing_render_is_cheap() -> None:
    """`import lstmuse_core.music.render` loads none of PIL, lameenc, fluidsynth, pydub, music21."""
    heavy = ["matplotlib", "PIL", "lameenc", "fluidsynth", "pydub", "music21", "pretty_midi"]
    code = (
        f"import sys, lstmuse_core.music.render; print([m for m in {heavy!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_piano_roll_of_a_long_melody_draws_its_shortest_notes(tmp_path: Path) -> None:
    """1,200 16th notes: each one-step note is under a pixel wide and still drawn."""
    symbols = ["60", "62"] * 600
    left, _, right, _ = PIANOROLL_PLOT
    assert (right - left) / len(symbols) < 1  # a step is narrower than a pixel
    pixels = _pianoroll_pixels(tmp_path, symbols)
    ink = {PIANOROLL_COLOURS["note"], PIANOROLL_COLOURS["note_edge"]}
    # Step 0 lies under the plot's frame; every later note shows in its own row.
    missing = [
        step
        for step in range(1, len(symbols))
        if tuple(pixels[_pixel_at(symbols, step, int(symbols[step]))]) not in ink
    ]
    assert missing == []
    # ... and only there: the row between the two pitches (C#4) holds no note.
    row, _ = _pixel_at(symbols, 0, 61)
    assert not any(tuple(pixel) in ink for pixel in pixels[row, left + 1 : right])


def test_piano_roll_shades_the_seed_and_marks_where_it_ends(tmp_path: Path) -> None:
    """A one-bar seed: its rows are shaded up to a line at step 16, labelled "seed"; then plain."""
    colours = PIANOROLL_COLOURS
    pixels = _pianoroll_pixels(tmp_path, MELODY, seed_steps=16)
    # A white-key row (A4) and a black-key row (A#4), both empty at steps 10 and 26.
    assert tuple(pixels[_pixel_at(MELODY, 10.5, 69)]) == colours["seed"]
    assert tuple(pixels[_pixel_at(MELODY, 10.5, 70)]) == colours["seed_black_key_row"]
    assert tuple(pixels[_pixel_at(MELODY, 26.5, 69)]) == colours["background"]
    assert tuple(pixels[_pixel_at(MELODY, 26.5, 70)]) == colours["black_key_row"]
    assert tuple(pixels[_pixel_at(MELODY, 16, 69)]) == colours["seed_line"]  # over the bar line
    assert tuple(pixels[_pixel_at(MELODY, 1.5, 67)]) == colours["note"]  # the seed's notes show

    def label_ink(pixels: np.ndarray) -> int:
        """Pixels of the seed colour in the box left of the seed line at the plot's top."""
        _, column = _pixel_at(MELODY, 16, 69)
        top = PIANOROLL_PLOT[1]
        box = pixels[top + 2 : top + 24, column - 60 : column - 2]
        return int(np.all(box == colours["seed_line"], axis=-1).sum())

    assert label_ink(pixels) > 20
    assert label_ink(_pianoroll_pixels(tmp_path, MELODY)) == 0  # no seed, no label


def test_piano_roll_labels_follow_the_key(tmp_path: Path) -> None:
    """The same notes in F and in G major: the rolls differ only in the pitch labels."""
    symbols = _symbols("65 _ 67 _ 69 _ 70 _ 72 _ _ _ r _ _ _")  # every row is labelled
    in_f = _pianoroll_pixels(tmp_path, symbols, key=Key("F"))
    in_g = _pianoroll_pixels(tmp_path, symbols, key=Key("G"))
    left = PIANOROLL_PLOT[0]
    assert (in_f[:, left:] == in_g[:, left:]).all()
    assert (in_f[:, :left] != in_g[:, :left]).any()


# Two 16ths of rest first: in 3/4 the C5 at steps 10-13 is tied over the bar line.
TIED = ["r", "_", *MELODY]


@pytest.mark.parametrize(
    ("meter", "key", "sharps"),
    [
        ("3/4", Key("Bb"), -2),
        ("6/8", Key("G", "dorian"), -1),
        ("4/4", Key("E", "minor"), 1),
        ("4/4", Key("D", "dorian"), 0),  # key analysis would hear D minor, one flat
        ("4/4", None, 0),  # the model's key space: no signature, as in its MIDI file
    ],
)
def test_musicxml_export_opens_with_the_same_notes_meter_and_key(
    meter: str, key: Key | None, sharps: int, tmp_path: Path
) -> None:
    """music21 reads the exported score back: the melody's notes, its meter and key signature."""
    from music21 import converter

    tune = Melody(TIED, meter, key)
    result = render_melody(
        tune,
        tmp_path,
        stem="tune",
        title="A tune in " + (key.name if key else "C"),
        options=RenderOptions(audio_format="none", image="none", export="musicxml", bpm=96),
    )
    assert result.problems == []
    assert result.musicxml == tmp_path / "tune.musicxml"
    assert result.by_kind == {"midi": result.midi, "musicxml": result.musicxml}
    score = converter.parse(str(result.musicxml)).flatten()
    read_back = [
        (float(n.offset), n.pitch.midi, float(n.quarterLength)) for n in score.stripTies().notes
    ]
    # The tune opens with a rest: the score starts at its first note (a pickup bar).
    first = next(e.start for e in tune.notes if e.pitch is not None)
    assert read_back == [
        ((e.start - first) / 4, e.pitch, e.duration / 4) for e in tune.notes if e.pitch is not None
    ]
    (time_signature,) = score.getElementsByClass("TimeSignature")
    assert time_signature.ratioString == meter
    (signature,) = score.getElementsByClass("KeySignature")
    assert signature.sharps == sharps
    (mark,) = score.getElementsByClass("MetronomeMark")
    # In the meter's beat: 96 quarters a minute in 6/8 is a dotted quarter of 64.
    assert mark.referent.quarterLength == Meter.parse(meter).beat_steps / 4
    assert mark.getQuarterBPM() == 96


def test_no_musicxml_unless_asked(tmp_path: Path) -> None:
    """By default no score file is written and none is listed."""
    result = _render(tmp_path, audio_format="none", image="none")
    assert result.musicxml is None and "musicxml" not in result.by_kind
    assert list(tmp_path.glob("*.musicxml")) == []


def test_a_pickup_is_a_short_first_bar_in_the_musicxml(tmp_path: Path) -> None:
    """A 6/8 tune opening on its last eighth (after a whole bar of rest) is written as a
    first bar of one eighth, bar 0, then whole bars: music21 reads the same notes back."""
    from music21 import converter

    pickup = ["r"] + ["_"] * 21 + ["62", "_"]  # a bar of rest, then 5 eighths of rest, D4
    body = ["64", "_", "_", "_", "66", "_", "67", "_", "_", "_", "_", "_"] * 2
    tune = Melody((*pickup, *body), "6/8", Key("D"))
    result = render_melody(
        tune,
        tmp_path,
        stem="pickup",
        title="A jig with a pickup",
        options=RenderOptions(audio_format="none", image="none", export="musicxml"),
    )
    assert result.musicxml is not None
    part = converter.parse(str(result.musicxml)).parts[0]
    measures = list(part.getElementsByClass("Measure"))
    assert [m.number for m in measures] == [0, 1, 2]
    assert measures[0].duration.quarterLength == 0.5  # the pickup: one eighth
    assert measures[0].paddingLeft == 2.5
    assert not measures[0].getElementsByClass("Rest")
    assert [m.duration.quarterLength for m in measures[1:]] == [3.0, 3.0]
    read_back = [(n.pitch.midi, float(n.quarterLength)) for n in part.flatten().notes]
    assert read_back == [(e.pitch, e.duration / 4) for e in tune.notes if e.pitch is not None]
