"""A member's tune with chords: harmonize it in its own key, meter, pickup and register, render.

The one place where a `Tune` (read by `lstmuse_core.music.tune_file`) becomes
harmonized files, used by ``lstmuse harmonize``, the console and the worker
alike; the chords are `lstmuse_core.music.harmony.harmonize`'s, written as
chord symbols into the scores (and played, where the options ask for a
backing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lstmuse_core.music.harmony import ChordSpan, harmonize
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.render import RenderOptions, RenderResult, render_melody
from lstmuse_core.music.tempo import Tempo
from lstmuse_core.music.tune_file import Tune


@dataclass(frozen=True)
class HarmonizedTune:
    """A tune, its chords and its files, performed at ``tempo``."""

    tune: Tune
    chords: tuple[ChordSpan, ...]
    files: RenderResult
    tempo: Tempo

    @property
    def melody(self) -> Melody:
        return self.tune.melody

    def chord_rows(self) -> list[dict[str, Any]]:
        """Every chord where a player finds it: bar (1 is the first full bar, a pickup is
        bar 0, as the scores number them), beat (1-based, in the meter's beats), symbol,
        and its place in 16th-note steps of the melody."""
        meter = self.melody.meter
        bar = meter.bar_steps
        first = next((note.start for note in self.melody.notes if note.pitch is not None), 0)
        # Whole bars of rest before the first note are not written; a pickup bar is bar 0.
        first_bar = first // bar - (0 if first % bar else 1)
        rows = []
        for chord in self.chords:
            beat = 1 + (chord.start % bar) / meter.beat_steps
            rows.append(
                {
                    "bar": chord.start // bar - first_bar,
                    "beat": int(beat) if beat.is_integer() else beat,
                    "symbol": chord.symbol,
                    "start_step": chord.start,
                    "steps": chord.steps,
                }
            )
        return rows

    def to_json(self) -> dict[str, Any]:
        melody = self.melody
        return {
            "title": self.tune.title,
            "part": self.tune.source,
            "key": melody.key_name,
            "meter": melody.meter.text,
            "bpm": self.tempo.quarter_bpm,
            "tempo": self.tempo.text,
            "steps": len(melody),
            "chords": self.chord_rows(),
            "files": {kind: str(path) for kind, path in self.files.by_kind.items()},
            "problems": list(self.files.problems),
        }


def harmonize_tune(
    tune: Tune, out_dir: Path, *, stem: str, title: str, options: RenderOptions
) -> HarmonizedTune:
    """Harmonize ``tune`` and write its files (``<stem>.mid`` and what ``options`` ask for)
    into ``out_dir``, played at ``options.bpm`` (the caller's choice: asked, the file's, or
    `lstmuse_core.music.tempo`'s for the meter)."""
    chords = harmonize(tune.melody)
    files = render_melody(
        tune.melody, out_dir, stem=stem, title=title, options=options, chords=chords
    )
    return HarmonizedTune(tune, chords, files, Tempo(tune.melody.meter, options.bpm))
