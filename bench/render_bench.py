"""How long rendering a 30 s melody takes, stage by stage (a script, not a test).

    python bench/render_bench.py [--runs 7] [--soundfont PATH] [--sample-rate 44100]

Prints the median of ``--runs`` timings (after one warm-up call that pays
for imports and the SoundFont load) for: MIDI write, WAV synthesis, MP3,
OGG, piano roll, sheet music, the façade `render_melody` with MIDI + MP3 +
piano roll (the bot's default), and the "naive" synthesis that creates a
FluidSynth and loads the SoundFont on every call (pretty_midi's
``fluidsynth(sf2_path=...)``), with the ratio to the reused synthesiser.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from seed_design import median_seconds  # bench/ is on sys.path

from lstmuse_core.encoding import HOLD, REST, STEPS_PER_QUARTER
from lstmuse_core.midi import melody_to_midi
from lstmuse_core.render import (
    SAMPLE_RATE,
    RenderOptions,
    normalise_loudness,
    render_melody,
    render_pianoroll,
    render_score,
    resolve_soundfont,
    synthesize,
    write_audio,
)

BPM = 120.0
SECONDS = 30.0
TARGET_SECONDS = 0.5  # MIDI + MP3 + piano roll, one reused synthesiser


def pseudo_melody(seconds: float = SECONDS, bpm: float = BPM, seed: int = 2024) -> list[str]:
    """A deterministic folk-like melody of ``seconds`` at ``bpm``: a random walk on G major."""
    rng = np.random.default_rng(seed)
    scale = [55, 57, 59, 60, 62, 64, 66, 67, 69, 71, 72, 74, 76, 78, 79]
    steps = round(seconds * bpm / 60 * STEPS_PER_QUARTER)
    symbols: list[str] = []
    degree = 7
    while len(symbols) < steps:
        duration = int(rng.choice([1, 2, 2, 2, 4, 4, 6, 8]))
        if rng.random() < 0.08 and symbols:
            onset = REST
        else:
            degree = int(np.clip(degree + rng.integers(-2, 3), 0, len(scale) - 1))
            onset = str(scale[degree])
        symbols += [onset] + [HOLD] * (duration - 1)
    symbols = symbols[:steps]
    if symbols[-1] == HOLD or symbols[-1] == REST:  # end on a note for a full-length MIDI
        symbols[-1] = str(scale[degree])
    return symbols


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--soundfont", type=Path, default=None)
    parser.add_argument("--sample-rate", type=int, default=SAMPLE_RATE)
    args = parser.parse_args(argv)
    runs, rate = args.runs, args.sample_rate

    melody = pseudo_melody()
    soundfont = resolve_soundfont(args.soundfont)
    midi = melody_to_midi(melody, bpm=BPM, program=0)
    melody_seconds = len(melody) / STEPS_PER_QUARTER * 60 / BPM
    out = Path(tempfile.mkdtemp(prefix="lstmuse-bench-"))
    samples = synthesize(midi, soundfont=soundfont, sample_rate=rate, min_seconds=melody_seconds)

    def naive_synth() -> np.ndarray:
        # What the seed did: a new FluidSynth and a SoundFont load on every call.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            raw = midi.fluidsynth(fs=rate, sf2_path=str(soundfont), normalize=False)
        return normalise_loudness(np.asarray(raw, dtype=np.float64))

    rows: list[tuple[str, float]] = []

    def measure(name: str, work: Callable[[], object], n: int = runs) -> float:
        seconds = median_seconds(work, n)
        rows.append((name, seconds))
        print(f"  {name:<44} {seconds * 1000:8.1f} ms", file=sys.stderr)
        return seconds

    print(
        f"{len(melody)} steps = {melody_seconds:.1f} s at {BPM:g} bpm; SoundFont {soundfont.name};"
        f" {rate} Hz; median of {runs} runs",
        file=sys.stderr,
    )
    t_midi = measure("MIDI write", lambda: midi.write(str(out / "m.mid")))
    measure(
        "WAV synth (reused Synth) + write",
        lambda: write_audio(
            synthesize(midi, soundfont=soundfont, sample_rate=rate, min_seconds=melody_seconds),
            out / "a.wav",
            rate,
        ),
    )
    t_synth_only = measure(
        "  synth only (reused Synth)",
        lambda: synthesize(midi, soundfont=soundfont, sample_rate=rate, min_seconds=melody_seconds),
    )
    t_mp3 = measure(
        "MP3 encode (VBR q5, pydub + ffmpeg)", lambda: write_audio(samples, out / "a.mp3", rate)
    )
    measure(
        "OGG encode (Vorbis q3, pydub + ffmpeg)", lambda: write_audio(samples, out / "a.ogg", rate)
    )
    t_roll = measure(
        "piano roll PNG", lambda: render_pianoroll(melody, out / "r.png", title="bench")
    )
    if shutil.which("lilypond"):
        measure(
            "score PNG (music21 + musicxml2ly + lilypond)",
            lambda: render_score(melody, out / "s.png", title="bench", bpm=BPM),
            n=max(1, min(runs, 3)),
        )
    t_facade = (
        measure(
            "render_melody: MIDI + MP3 + piano roll",
            lambda: render_melody(
                melody,
                out,
                stem="bench",
                bpm=BPM,
                title="bench",
                options=RenderOptions(soundfont=soundfont),
            ),
        )
        if rate == SAMPLE_RATE
        else t_midi + t_synth_only + t_mp3 + t_roll
    )

    def load_soundfont() -> None:
        import fluidsynth

        synth = fluidsynth.Synth(samplerate=float(rate))
        synth.sfload(str(soundfont))
        synth.delete()

    measure("  SoundFont load alone (new Synth + sfload)", load_soundfont)
    t_naive = measure("  synth only, naive (new Synth + SoundFont load)", naive_synth)
    naive_total = t_facade - t_synth_only + t_naive

    print()
    print(f"| stage ({melody_seconds:.0f} s melody, {soundfont.name}, {rate} Hz) | median ms |")
    print("| --- | ---: |")
    for name, seconds in rows:
        print(f"| {name.strip()} | {seconds * 1000:.0f} |")
    print(
        f"| naive total (MIDI + MP3 + piano roll, new Synth per call) | {naive_total * 1000:.0f} |"
    )
    print()
    print(
        f"synth: naive / reused = {t_naive / t_synth_only:.1f}x;"
        f" total: naive / reused = {naive_total / t_facade:.2f}x"
    )
    verdict = "meets" if t_facade <= TARGET_SECONDS else "misses"
    print(f"MIDI + MP3 + piano roll: {t_facade:.3f} s ({verdict} the {TARGET_SECONDS} s target)")
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
