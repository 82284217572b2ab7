"""The accompaniment: its pattern in each meter, its MIDI track and its place in the audio,
with the real harmonizer, pretty_midi, mido and FluidSynth."""

from __future__ import annotations

import itertools
import wave
from pathlib import Path
from typing import Any

import mido
import numpy as np
import pytest
from PIL import Image

from lstmuse_core.compose import compose
from lstmuse_core.errors import InvalidParameter
from lstmuse_core.model.generate import load_generator_from_path
from lstmuse_core.model.train import StyleTrainingResult
from lstmuse_core.music.formats import BACKING_PROGRAMS, BACKING_VOLUMES
from lstmuse_core.music.harmony import ChordSpan, harmonize
from lstmuse_core.music.harmony.accompaniment import (
    BASS_RANGE,
    CHORD_RANGE,
    BackingNote,
    accompany,
)
from lstmuse_core.music.harmony.chords import chord_in_key
from lstmuse_core.music.keys import Key
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.midi import BACKING_TRACK_NAME, CHANNEL_VOLUME, read_midi_seed
from lstmuse_core.music.render import RenderOptions, render_melody
from lstmuse_core.music.render.pianoroll import PIANOROLL_PLOT, render_pianoroll
from lstmuse_core.request import MelodyRequest

C_MAJOR = Key("C", "major")
DRUM_CHANNEL = 9


def _symbols(text: str) -> list[str]:
    """Model symbols written as one space-separated string."""
    return text.split()


# A jig in D with a one-eighth pickup (A4), four bars of 6/8: 60 steps.
JIG = Melody(
    ["r"] * 10
    + _symbols("69 _ 74 _ _ _ 74 _ 78 _ _ _ 74 _ 76 _ _ _ 73 _ 69 _ _ _ 73 _")
    + _symbols("74 _ _ _ 78 _ 81 _ _ _ 78 _ 76 _ 73 _ 69 _ 74 _ _ _ _ _"),
    "6/8",
    "D",
)


def _span(function: str, start: int, steps: int) -> ChordSpan:
    chord = chord_in_key(function, C_MAJOR)
    return ChordSpan(start, steps, chord.symbol, chord.root, chord.pitch_classes)


def _onsets(notes: tuple[BackingNote, ...], part: str, bar: int, bar_steps: int) -> list[int]:
    """The steps from the bar line at which ``part`` starts a note in bar ``bar``."""
    inside = range(bar * bar_steps, (bar + 1) * bar_steps)
    return sorted({n.start - inside.start for n in notes if n.part == part and n.start in inside})


# meter: (bass steps, chord steps) in a bar, as the dance is backed (accompaniment.PATTERNS).
PATTERN_STEPS = {
    "2/4": ((0,), (4,)),  # march or polka: oom-pah
    "3/4": ((0,), (4, 8)),  # waltz: oom-pah-pah
    "6/8": ((0, 6), (2, 4, 8, 10)),  # jig: bass on 1 and 4, the eighths between
    "9/8": ((0, 6, 12), (2, 4, 8, 10, 14, 16)),  # slip jig
    "4/4": ((0, 8), (4, 12)),  # reel: bass 1 and 3, chord 2 and 4
    "2/2": ((0, 8), (4, 12)),  # reel in cut time, in quarters
    "5/4": ((0,), (4, 8, 12, 16)),  # no row: bass on the first beat, chords on the others
}


@pytest.mark.parametrize("meter_text", PATTERN_STEPS)
def test_each_meter_has_its_dance_pattern(meter_text: str) -> None:
    """Three bars of C then G: the middle bar's bass and chord onsets are the meter's pattern;
    the bass alternates root and fifth; the last chord rings from its bar line to the end."""
    meter = Meter.parse(meter_text)
    bar = meter.bar_steps
    chords = (*(_span("1", b * bar, bar) for b in range(3)), _span("5", 3 * bar, bar))
    notes = accompany(chords, meter)
    bass_steps, chord_steps = PATTERN_STEPS[meter_text]
    assert _onsets(notes, "bass", 1, bar) == list(bass_steps)
    assert _onsets(notes, "chord", 1, bar) == list(chord_steps)
    basses = [n.pitch % 12 for n in notes if n.part == "bass" and n.start < 3 * bar]
    assert basses == [(0, 7)[i % 2] for i in range(len(basses))]  # C G C G ...
    last = [n for n in notes if n.start >= 3 * bar]
    assert {(n.start, n.steps) for n in last} == {(3 * bar, bar)}
    assert sorted(n.pitch % 12 for n in last) == sorted([7, 7, 11, 2])  # G bass under G B D


def test_bass_is_low_and_chords_are_close_and_voice_led() -> None:
    """Bass in E2-D#3; each chord in close position from C3-B3 with the chord's pitch classes;
    from C to F to G to C each voice moves at most a fourth."""
    meter = Meter(4, 4)
    chords = tuple(_span(f, 16 * i, 16) for i, f in enumerate(("1", "4", "5", "V7", "1", "1")))
    notes = accompany(chords, meter)
    assert all(n.pitch in BASS_RANGE for n in notes if n.part == "bass")
    voicings = []
    for chord in chords:
        at = min(n.start for n in notes if n.part == "chord" and n.start >= chord.start)
        voicing = sorted(n.pitch for n in notes if n.part == "chord" and n.start == at)
        assert voicing[0] in CHORD_RANGE and voicing[-1] - voicing[0] < 12
        assert sorted({p % 12 for p in voicing}) == sorted(chord.pitch_classes)
        voicings.append(voicing)
    for before, after in itertools.pairwise(voicings):
        assert all(min(abs(a - b) for b in before) <= 5 for a in after)


def test_a_pickup_bar_is_not_accompanied() -> None:
    """The jig's pickup eighth has no chord, so nothing of the backing sounds before bar 1."""
    chords = harmonize(JIG)
    notes = accompany(chords, JIG.meter)
    assert chords[0].start == 12 and notes
    assert min(n.start for n in notes) == 12
    assert max(n.end for n in notes) == chords[-1].end == len(JIG.symbols)


def _midi_tracks(path: Path) -> list[dict[str, Any]]:
    """Each track with notes: its channels, programs, volumes, velocities and first note tick."""
    tracks = []
    for track in mido.MidiFile(str(path)).tracks:
        ticks, tick, notes = [], 0, []
        for message in track:
            tick += message.time
            if message.type == "note_on" and message.velocity > 0:
                notes.append(message)
                ticks.append(tick)
        if notes:
            tracks.append({
                "name": track.name,
                "channels": {m.channel for m in track if hasattr(m, "channel")},
                "programs": [m.program for m in track if m.type == "program_change"],
                "volumes": [m.value for m in track if m.is_cc(CHANNEL_VOLUME)],
                "velocities": {m.velocity for m in notes},
                "first_tick": min(ticks),
            })  # fmt: skip
    return tracks


def test_the_midi_has_the_melody_then_the_accompaniment_each_on_its_own_channel(
    tmp_path: Path,
) -> None:
    """backing=accordion: two tracks, flute then accordion, on two channels (never the drums'),
    the accompaniment softer and at its channel volume, silent in the pickup bar."""
    options = RenderOptions(
        instrument="flute", backing="accordion", bpm=110, audio_format="none", image="none"
    )
    result = render_melody(JIG, tmp_path, stem="jig", options=options, chords=harmonize(JIG))
    melody, backing = _midi_tracks(result.midi)
    assert (melody["programs"], backing["programs"]) == ([73], [BACKING_PROGRAMS["accordion"]])
    assert backing["name"] == BACKING_TRACK_NAME
    assert len(melody["channels"]) == len(backing["channels"]) == 1
    assert melody["channels"] != backing["channels"]
    assert DRUM_CHANNEL not in melody["channels"] | backing["channels"]
    assert backing["volumes"] == [BACKING_VOLUMES["accordion"]]
    assert max(backing["velocities"]) < min(melody["velocities"])
    ticks_per_bar = mido.MidiFile(str(result.midi)).ticks_per_beat * 3  # 6/8: 3 quarters
    assert melody["first_tick"] < ticks_per_bar <= backing["first_tick"]

    alone = render_melody(
        JIG,
        tmp_path,
        stem="alone",
        options=RenderOptions(instrument="flute", audio_format="none", image="none"),
        chords=harmonize(JIG),
    )
    assert len(_midi_tracks(alone.midi)) == 1  # chords without a backing: the melody alone


def test_a_file_with_a_backing_given_back_as_a_seed_is_its_melody(tmp_path: Path) -> None:
    """read_midi_seed leaves LSTMuse's accompaniment track out: its chords do not fill the
    melody's rest (steps 4-7) as the top voice."""
    tune = Melody(_symbols("72 _ _ _ r _ _ _ 76 _ _ _ 79 _ _ _ 84 _ _ _ _ _ _ _ 72 _ _ _ _ _ _ _"))
    files = {
        backing: render_melody(
            tune,
            tmp_path,
            stem=backing,
            options=RenderOptions(backing=backing, audio_format="none", image="none"),
            chords=harmonize(tune),
        ).midi
        for backing in ("none", "piano")
    }
    assert len(_midi_tracks(files["piano"])) == 2
    seed = read_midi_seed(files["piano"]).symbols
    assert seed == read_midi_seed(files["none"]).symbols
    assert seed[4] == "r"


def _wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        frames = wav.readframes(wav.getnframes())
        return np.frombuffer(frames, dtype="<i2") / 32768.0, wav.getframerate()


def _dbfs(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(samples)))))


def _low_share(samples: np.ndarray, rate: int, below_hz: float = 200.0) -> float:
    """The share of the signal's energy below ``below_hz`` (where the bass's E2-D#3 lie)."""
    power = np.abs(np.fft.rfft(samples)) ** 2
    frequencies = np.fft.rfftfreq(samples.size, 1 / rate)
    return float(power[frequencies < below_hz].sum() / power.sum())


@pytest.mark.parametrize("backing", list(BACKING_PROGRAMS))
def test_the_audio_with_backing_is_not_clipped_nor_quieter_than_the_melody_alone(
    backing: str, tmp_path: Path
) -> None:
    """FluidSynth, WAV: the mix's peak stays under -1 dBFS, its RMS is at least the melody
    alone's, and its bass is heard: 20x the energy below 200 Hz of the flute alone."""
    chords = harmonize(JIG)
    renders = {}
    for name in ("none", backing):
        options = RenderOptions(
            instrument="flute", backing=name, bpm=110, audio_format="wav", image="none"
        )
        result = render_melody(JIG, tmp_path, stem=name, options=options, chords=chords)
        assert result.audio is not None
        renders[name] = _wav(result.audio)
    (alone, rate), (mixed, _) = renders["none"], renders[backing]
    assert np.max(np.abs(mixed)) <= 10 ** (-1 / 20) + 1 / 32768
    assert _dbfs(mixed) >= _dbfs(alone) - 0.05
    assert _low_share(mixed, rate) > 20 * _low_share(alone, rate)


def test_chord_symbols_are_written_above_the_piano_roll(tmp_path: Path) -> None:
    """With chords, dark text in the row above the plot where the first chord starts; without,
    that row is blank."""
    left, top, _, _ = PIANOROLL_PLOT
    rows = {}
    for name, chords in (("with", harmonize(JIG)), ("without", ())):
        path = render_pianoroll(JIG, tmp_path / f"{name}.png", chords=chords)
        image = np.asarray(Image.open(path).convert("L"))
        rows[name] = image[top - 18 : top - 1, left:]
    assert (rows["with"] < 128).sum() > 20
    assert (rows["without"] < 128).sum() == 0


def test_backing_names_are_checked() -> None:
    """backing=banjo is refused by the request and the renderer, naming backing and the choices."""
    for make in (
        lambda: MelodyRequest.from_options({"backing": "banjo"}),
        lambda: RenderOptions(backing="banjo"),
    ):
        with pytest.raises(InvalidParameter) as refused:
            make()
        assert refused.value.parameter == "backing"
        assert "banjo" in str(refused.value)
        assert "guitar, piano, accordion, none" in str(refused.value)
    assert MelodyRequest.from_options({"backing": "Piano"}).backing == "piano"


def test_compose_with_a_backing_plays_chords_without_writing_them(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """backing=guitar alone: the melody is harmonized for a second MIDI track, but the result
    and the ABC carry no chord symbols (that is chords=yes)."""
    generator = load_generator_from_path(tiny_training.bundle.path)
    request = MelodyRequest(
        style="tinyfolk",
        bars=8,
        random_seed=5,
        meter=Meter(3, 4),
        key="G",
        audio="none",
        image="none",
        export="abc",
        backing="guitar",
    )
    (composed,) = compose(request, tmp_path, generator=generator)
    _, backing = _midi_tracks(composed.files.midi)
    assert backing["programs"] == [BACKING_PROGRAMS["guitar"]]
    assert composed.chords == () and composed.to_json()["chords"] == []
    assert '"' not in composed.files.by_kind["abc"].read_text(encoding="utf-8")
