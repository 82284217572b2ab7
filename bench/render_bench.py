"""What rendering a 30 s melody costs: the seed's pipeline and today's, side by side;
and today's with an accompaniment beside the melody alone.

    python bench/render_bench.py [--runs 15] [--soundfont PATH] [--only seed|backing]

Both make MIDI + MP3 + piano roll for the same melody, alternating run by
run (after one warm-up each that pays for imports and the SoundFont load):

- seed: FluidSynth at 44.1 kHz, MP3 through pydub + ffmpeg (`-q:a 5
  -compression_level 7`), a matplotlib piano roll; audio in a thread while
  the picture is drawn, as `render_melody` did;
- now: `render_melody` (32 kHz, LAME in-process, a Pillow piano roll).

CPU is `time.process_time` (all threads) plus the CPU of finished child
processes (ffmpeg), so a pipeline cannot look cheap by moving work into a
subprocess. Prints medians of CPU and wall time per stage and in total, the
ratio, and the loudness (dBFS RMS and peak) of both MP3s decoded again.

Backing: `render_melody` of the same melody alone and with each ``backing=``
(the harmonizer's chords included in the timing, as `compose` runs it),
alternating run by run; medians, the ratio to the melody alone, and each
MP3's loudness and size.
"""

from __future__ import annotations

import argparse
import math
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from lstmuse_core.music.encoding import HOLD, REST, STEPS_PER_QUARTER, decode_symbols
from lstmuse_core.music.formats import BACKING_PROGRAMS, SAMPLE_RATE
from lstmuse_core.music.harmony import harmonize
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.meter import COMMON_TIME, Meter
from lstmuse_core.music.midi import melody_to_midi
from lstmuse_core.music.render import RenderOptions, render_melody
from lstmuse_core.music.render.audio import resolve_soundfont, synthesize, write_audio
from lstmuse_core.music.render.pianoroll import pitch_ticks, render_pianoroll
from lstmuse_core.music.render.score import render_score

BPM = 120.0
SECONDS = 30.0
TARGET_CPU_SECONDS = 0.15  # MIDI + MP3 + piano roll
BACKING_COST_LIMIT = 1.5  # issue 23: rendering with accompaniment at most 1.5x the melody alone
SEED_SAMPLE_RATE = 44_100
SEED_MP3_PARAMETERS = ["-q:a", "5", "-compression_level", "7"]
TITLE = "Bench tune in G major, 120 bpm"


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


# --- The seed's pipeline, kept callable for the comparison ----------------------


def seed_mp3(samples: np.ndarray, path: Path, sample_rate: int = SEED_SAMPLE_RATE) -> Path:
    """The seed's MP3: 16-bit PCM piped through pydub into an ffmpeg process."""
    from pydub import AudioSegment

    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    segment = AudioSegment(data=pcm, sample_width=2, frame_rate=sample_rate, channels=1)
    segment.export(
        str(path), format="mp3", codec="libmp3lame", parameters=SEED_MP3_PARAMETERS
    ).close()
    return path


def seed_pianoroll(symbols: list[str], path: Path, *, title: str, meter: Meter) -> Path:
    """The seed's piano roll: a matplotlib figure, 12 x 5 in at 100 dpi."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from pretty_midi import note_number_to_name

    def rectangle(x0: float, x1: float, y0: float, y1: float) -> list[tuple[float, float]]:
        return [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]

    notes = [(e.pitch, e.start, e.duration) for e in decode_symbols(symbols) if e.pitch is not None]
    pitches, starts, durations = (list(column) for column in zip(*notes, strict=True))
    total_steps = len(symbols)
    low, high = min(pitches) - 1, max(pitches) + 1
    figure = Figure(figsize=(12.0, 5.0), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.075, 0.11, 0.91, 0.78))
    black_keys = [p for p in range(low, high + 1) if p % 12 in (1, 3, 6, 8, 10)]
    rows = [rectangle(0, total_steps, p - 0.5, p + 0.5) for p in black_keys]
    axes.add_collection(PolyCollection(rows, facecolors="#eef0f4", linewidths=0, zorder=0))
    boxes = [
        rectangle(s, s + d, p - 0.4, p + 0.4)
        for p, s, d in zip(pitches, starts, durations, strict=True)
    ]
    axes.add_collection(
        PolyCollection(boxes, facecolors="#3b6fb6", edgecolors="#1d3a63", linewidths=0.8, zorder=3)
    )
    bar_steps = meter.bar_steps
    bar_starts = np.arange(0.0, total_steps, bar_steps)
    lines_at = np.append(bar_starts, total_steps) if total_steps % bar_steps else bar_starts
    axes.vlines(lines_at, low - 0.5, high + 0.5, colors="#555555", linewidths=1.0, zorder=2)
    beat_steps = meter.beat_steps
    if beat_steps >= 2:
        beats = np.arange(0.0, total_steps, beat_steps)
        axes.vlines(beats, low - 0.5, high + 0.5, colors="#d0d0d0", linewidths=0.6, zorder=1)
    label_every = max(1, math.ceil(len(bar_starts) / 16))
    axes.set_xticks(bar_starts[::label_every])
    axes.set_xticklabels([str(bar + 1) for bar in range(0, len(bar_starts), label_every)])
    axes.set_xlim(0, total_steps)
    axes.set_xlabel("bar", fontsize=12)
    axes.set_ylim(low - 0.5, high + 0.5)
    axes.set_yticks(pitch_ticks(low, high))
    axes.set_yticklabels([note_number_to_name(p) for p in pitch_ticks(low, high)])
    axes.tick_params(labelsize=12)
    axes.set_title(title, fontsize=16, loc="left")
    figure.savefig(path, format="png", dpi=100)
    return path


def seed_render(symbols: list[str], out_dir: Path, soundfont: Path) -> tuple[Path, Path]:
    """The seed's MIDI + MP3 + piano roll; audio in a thread while the picture is drawn."""
    midi = melody_to_midi(Melody(symbols), bpm=BPM, program=0)
    midi.write(str(out_dir / "seed.mid"))
    melody_seconds = len(symbols) / STEPS_PER_QUARTER * 60 / BPM

    def audio() -> Path:
        samples = synthesize(
            midi, soundfont=soundfont, sample_rate=SEED_SAMPLE_RATE, min_seconds=melody_seconds
        )
        return seed_mp3(samples, out_dir / "seed.mp3")

    with ThreadPoolExecutor(max_workers=1) as pool:
        audio_job = pool.submit(audio)
        seed_pianoroll(symbols, out_dir / "seed.png", title=TITLE, meter=COMMON_TIME)
        return audio_job.result(), out_dir / "seed.png"


# --- Measuring -------------------------------------------------------------------


def cpu_seconds() -> float:
    """CPU of this process (all threads) plus that of its finished child processes."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one call of ``work``."""
    cpu, wall = cpu_seconds(), time.perf_counter()
    work()
    return cpu_seconds() - cpu, time.perf_counter() - wall


def medians(works: Mapping[str, Callable[[], object]], runs: int) -> dict[str, tuple[float, float]]:
    """Median (CPU, wall) seconds of each of ``works``, called in turn ``runs`` times."""
    for work in works.values():
        work()  # warm-up: imports, SoundFont load, fonts
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in works}
    for _ in range(runs):
        for name, work in works.items():
            samples[name].append(timed(work))
    return {
        name: (statistics.median(c for c, _ in got), statistics.median(w for _, w in got))
        for name, got in samples.items()
    }


def loudness(path: Path) -> tuple[float, float, float]:
    """(RMS dBFS, peak dBFS, seconds) of an audio file decoded with pydub."""
    from pydub import AudioSegment

    segment = AudioSegment.from_file(path)
    samples = np.array(segment.get_array_of_samples(), dtype=np.float64) / 32768.0
    rms = float(np.sqrt(np.mean(np.square(samples))))
    return 20 * math.log10(rms), 20 * math.log10(np.max(np.abs(samples))), segment.duration_seconds


def backing_bench(runs: int, soundfont: Path) -> None:
    """The melody alone against each backing: render time (harmonizer included) and MP3s."""
    tune = Melody(pseudo_melody(), COMMON_TIME, "G")
    out = Path(tempfile.mkdtemp(prefix="lstmuse-bench-"))

    def render(backing: str) -> Callable[[], object]:
        options = RenderOptions(soundfont=soundfont, bpm=BPM, backing=backing)

        def work() -> object:
            chords = harmonize(tune) if backing != "none" else ()
            return render_melody(
                tune, out, stem=backing, title=TITLE, options=options, chords=chords
            )

        return work

    backings = ["none", *BACKING_PROGRAMS]
    got = medians({backing: render(backing) for backing in backings}, runs)
    alone_cpu, alone_wall = got["none"]
    print()
    print(
        f"| render_melody, {SECONDS:.0f} s reel in 4/4, {soundfont.name} (medians of {runs})"
        " | CPU ms | CPU ratio | wall ms | wall ratio | MP3 RMS dBFS | MP3 peak dBFS | MP3 bytes |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for backing in backings:
        cpu, wall = got[backing]
        rms, peak, _ = loudness(out / f"{backing}.mp3")
        label = "melody alone" if backing == "none" else f"with backing={backing}"
        print(
            f"| {label} | {cpu * 1000:.0f} | {cpu / alone_cpu:.2f}x | {wall * 1000:.0f} |"
            f" {wall / alone_wall:.2f}x | {rms:.1f} | {peak:.1f} |"
            f" {(out / f'{backing}.mp3').stat().st_size} |"
        )
    worst = max(got[b][0] / alone_cpu for b in BACKING_PROGRAMS)
    verdict = "within" if worst <= BACKING_COST_LIMIT else "over"
    print()
    print(f"Worst backing: {worst:.2f}x the melody alone's CPU, {verdict} {BACKING_COST_LIMIT}x")
    shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--soundfont", type=Path, default=None)
    parser.add_argument("--only", choices=("seed", "backing"), default=None)
    args = parser.parse_args(argv)

    soundfont = resolve_soundfont(args.soundfont)
    if args.only != "seed":
        backing_bench(args.runs, soundfont)
    if args.only == "backing":
        return 0
    melody = pseudo_melody()
    tune = Melody(melody)
    midi = melody_to_midi(tune, bpm=BPM, program=0)
    melody_seconds = len(melody) / STEPS_PER_QUARTER * 60 / BPM
    out = Path(tempfile.mkdtemp(prefix="lstmuse-bench-"))
    seed_samples = synthesize(
        midi, soundfont=soundfont, sample_rate=SEED_SAMPLE_RATE, min_seconds=melody_seconds
    )
    samples = synthesize(midi, soundfont=soundfont, min_seconds=melody_seconds)
    options = RenderOptions(soundfont=soundfont, bpm=BPM)

    def now_render() -> object:
        return render_melody(tune, out, stem="now", title=TITLE, options=options)

    stages: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        (
            "MIDI + MP3 + piano roll (total)",
            lambda: seed_render(melody, out, soundfont),
            now_render,
        ),
        (
            "  synthesis",
            lambda: synthesize(
                midi, soundfont=soundfont, sample_rate=SEED_SAMPLE_RATE, min_seconds=melody_seconds
            ),
            lambda: synthesize(midi, soundfont=soundfont, min_seconds=melody_seconds),
        ),
        (
            "  MP3 encode",
            lambda: seed_mp3(seed_samples, out / "stage-seed.mp3"),
            lambda: write_audio(samples, out / "stage-now.mp3"),
        ),
        (
            "  piano roll PNG",
            lambda: seed_pianoroll(melody, out / "stage-seed.png", title=TITLE, meter=COMMON_TIME),
            lambda: render_pianoroll(tune, out / "stage-now.png", title=TITLE),
        ),
        (
            "  MIDI write",
            lambda: midi.write(str(out / "stage-seed.mid")),
            lambda: midi.write(str(out / "stage-now.mid")),
        ),
    ]
    print(
        f"{len(melody)} steps = {melody_seconds:.1f} s at {BPM:g} bpm; SoundFont {soundfont.name};"
        f" seed {SEED_SAMPLE_RATE} Hz, now {SAMPLE_RATE} Hz; medians of {args.runs} runs",
        file=sys.stderr,
    )
    rows: list[tuple[str, tuple[float, float], tuple[float, float]]] = []
    for name, seed_work, now_work in stages:
        got = medians({"seed": seed_work, "now": now_work}, args.runs)
        rows.append((name, got["seed"], got["now"]))
        print(
            f"  {name:<34} seed {got['seed'][0] * 1000:6.1f} ms CPU,"
            f" now {got['now'][0] * 1000:6.1f} ms CPU",
            file=sys.stderr,
        )
    extra = {"OGG encode (Vorbis q3, pydub + ffmpeg)": lambda: write_audio(samples, out / "a.ogg")}
    if shutil.which("lilypond"):
        extra["score PNG (LilyPond), not in the total"] = lambda: render_score(
            tune, out / "s.png", title=TITLE, bpm=BPM
        )
    others = medians(extra, max(1, min(args.runs, 3)))

    print()
    print(
        f"| {melody_seconds:.0f} s melody, {soundfont.name} | seed CPU ms | now CPU ms | CPU ratio"
        " | seed wall ms | now wall ms | wall ratio |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (seed_cpu, seed_wall), (now_cpu, now_wall) in rows:
        print(
            f"| {name.strip()} | {seed_cpu * 1000:.0f} | {now_cpu * 1000:.0f} |"
            f" {seed_cpu / now_cpu:.1f}x | {seed_wall * 1000:.0f} | {now_wall * 1000:.0f} |"
            f" {seed_wall / now_wall:.1f}x |"
        )
    for name, (cpu, wall) in others.items():
        print(f"| {name} | | {cpu * 1000:.0f} | | | {wall * 1000:.0f} | |")

    print()
    print("| output | RMS dBFS | peak dBFS | seconds | bytes |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, path in (("seed MP3", out / "seed.mp3"), ("now MP3", out / "now.mp3")):
        rms, peak, seconds = loudness(path)
        print(f"| {label} | {rms:.1f} | {peak:.1f} | {seconds:.2f} | {path.stat().st_size} |")
    for label, path in (("seed PNG", out / "seed.png"), ("now PNG", out / "now.png")):
        print(f"| {label} | | | | {path.stat().st_size} |")

    total_cpu = rows[0][2][0]
    verdict = "meets" if total_cpu <= TARGET_CPU_SECONDS else "misses"
    print()
    print(
        f"MIDI + MP3 + piano roll: {total_cpu:.3f} s CPU now, {rows[0][1][0]:.3f} s seed"
        f" ({rows[0][1][0] / total_cpu:.1f}x); {verdict} the {TARGET_CPU_SECONDS} s CPU target"
    )
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
