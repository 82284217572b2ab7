"""From a `MelodyRequest` to melodies on disk: sample, move to the key and register, render.

The one place where a request becomes files, used by the CLI, the console
front end and the worker alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lstmuse_core.file_names import melody_file_stem, new_short_id
from lstmuse_core.model.generate import (
    CANDIDATES,
    MelodyGenerator,
    SampledMelody,
    SamplingControls,
    load_generator,
)
from lstmuse_core.music.encoding import transpose_symbols
from lstmuse_core.music.form import Form, TuneForm
from lstmuse_core.music.form_tables import draw_form
from lstmuse_core.music.harmony import ChordSpan, harmonize
from lstmuse_core.music.keys import model_key, parse_key
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.register import in_register, seed_for_model
from lstmuse_core.music.render import RenderOptions, RenderResult, render_melody
from lstmuse_core.music.tempo import Tempo, melody_tempo
from lstmuse_core.request import MelodyRequest


@dataclass(frozen=True)
class ComposedMelody:
    """One generated melody (in the requested key and meter), its tempo and its files."""

    melody: Melody
    random_seed: int
    style: str
    model_version: str
    files: RenderResult
    tempo: Tempo
    chords: tuple[ChordSpan, ...] = ()  # empty unless the request asked for chords
    form: TuneForm | None = None  # its parts, repeats and endings; None: one line

    @property
    def symbols(self) -> list[str]:
        """The melody's symbols, in the requested key."""
        return list(self.melody.symbols)

    @property
    def key(self) -> str:
        """The key's name, e.g. ``"D major"``, ``"D dorian"``."""
        return self.melody.key_name

    def to_json(self) -> dict[str, Any]:
        return {
            "symbols": self.melody.text,
            "steps": len(self.melody),
            "random_seed": self.random_seed,
            "style": self.style,
            "model_version": self.model_version,
            "key": self.key,
            "meter": self.melody.meter.text,
            "bpm": self.tempo.quarter_bpm,
            "files": {kind: str(path) for kind, path in self.files.by_kind.items()},
            "problems": list(self.files.problems),
            "chords": [[c.start, c.steps, c.symbol] for c in self.chords],
            "form": self.form.to_json() if self.form is not None else None,
        }


def resolve_request(request: MelodyRequest, generator: MelodyGenerator) -> MelodyRequest:
    """The request as it will run: a drawn random seed, the style's temperature if none."""
    request = request.with_random_seed()
    if request.temperature is None:
        request = request.replace(temperature=generator.default_temperature)
    return request


def sample_request(generator: MelodyGenerator, request: MelodyRequest) -> list[SampledMelody]:
    """Sample a request's melodies (model key space), each with its own meter and mode.

    A meter or mode the request leaves open is drawn per melody from the
    style's songs (from that melody's seed: the same seed, the same draw);
    each melody is the best of `CANDIDATES` by its musical score (see
    `lstmuse_core.model.generate`). The seed, moved into the model's key
    space, is also moved by octaves into the pitches the model knows: a seed
    cut from a melody its instrument moved up (Continue) is still one it can
    continue, and `render_composed` places the whole melody again. A form the
    request leaves open is drawn per melody from the style's tunes' forms that
    it can afford (`MelodyRequest.affordable_forms`), from the melody's seed.
    """
    assert request.random_seed is not None and request.temperature is not None, (
        "resolve the request first (resolve_request)"
    )
    meters = request.affordable_meters(generator.conditioning.meters)
    plans = []
    for seed in request.melody_seeds():
        plan = generator.plan(
            seed,
            meter=request.meter,
            mode=request.mode,
            bars=request.bars,
            meters_allowed=meters,
        )
        form = request.form or draw_form(request.affordable_forms(plan.meter), seed)
        if Form.parse(form) is not None:
            formed = request.replace(form=form, meter=plan.meter)
            plan = replace(plan, form=Form.parse(form), bars=formed.part_bars)
        primer = seed_for_model(
            transpose_symbols(request.seed_melody, -request.transposition_for(plan.mode)),
            generator.vocabulary.pitches,
        )
        plans.append(
            replace(
                plan,
                primer=tuple(primer),
                max_steps=len(primer) + request.length[0],
            )
        )
    controls = SamplingControls(request.temperature, request.top_k, request.top_p)
    return generator.sample_plans(plans, controls, CANDIDATES)


def render_composed(
    request: MelodyRequest,
    melodies: Sequence[SampledMelody],
    generator: MelodyGenerator,
    out_dir: Path,
    stem: str,
    soundfont: Path | None = None,
    max_bytes: int | None = None,
) -> list[ComposedMelody]:
    """Render each melody (model key space) in the requested key, in its own meter.

    Each becomes one `Melody` (checked once, here) that the renderer trusts,
    in the register its instrument plays at ease moved by the request's
    ``octave`` (`in_register`; the seed moves with it); tempo and instrument
    are checked once, by `RenderOptions`. Each plays at the request's ``bpm``,
    else at its style's tempo for its meter (`melody_tempo`). The piano roll
    marks the seed; with ``chords``, each melody is harmonized and its scores
    carry the chords; with a ``backing``, it is harmonized too and the
    accompaniment plays the chords in its MIDI and audio (their symbols are
    written only with ``chords``).
    """
    options = RenderOptions(
        audio_format=request.audio,
        image=request.image,
        soundfont=soundfont,
        instrument=request.instrument,
        export=request.export,
        backing=request.backing,
        chord_symbols=request.chords,
        **({"max_bytes": max_bytes} if max_bytes else {}),
    )
    assert request.temperature is not None, "resolve the request first (resolve_request)"
    composed = []
    seeds = request.melody_seeds()
    for number, (sampled, seed) in enumerate(zip(melodies, seeds, strict=True), start=1):
        key = parse_key(request.key, sampled.mode) if request.key else model_key(sampled.mode)
        melody = in_register(
            Melody.from_model(sampled.played, sampled.meter, key), options.program, request.octave
        )
        tempo = melody_tempo(generator.style, sampled.meter, request.bpm)
        title = (
            f"LSTMuse {generator.style} #{seed} - {melody.key_name}, {sampled.meter}, "
            f"{tempo.quarter_bpm:g} bpm, temperature {request.temperature:g}"
        )
        chords = harmonize(melody) if request.chords or request.backing != "none" else ()
        if sampled.form is not None:
            chords = sampled.form.repeat_chords(chords)
        files = render_melody(
            melody,
            out_dir,
            stem=f"{stem}-{number}",
            title=title,
            options=replace(options, bpm=tempo.quarter_bpm),
            seed_steps=len(request.seed_melody),
            chords=chords,
            form=sampled.form,
        )
        composed.append(
            ComposedMelody(
                melody,
                seed,
                generator.style,
                generator.version,
                files,
                tempo,
                chords if request.chords else (),
                sampled.form,
            )
        )
    return composed


def compose(
    request: MelodyRequest,
    out_dir: Path,
    *,
    stem: str | None = None,
    models_dir: Path | None = None,
    soundfont: Path | None = None,
    max_bytes: int | None = None,
    generator: MelodyGenerator | None = None,
) -> list[ComposedMelody]:
    """Generate and render ``request.count`` melodies into ``out_dir``.

    The style's active model, unless a ``generator`` is given (the CLI's
    ``--style PATH`` opens one from a bundle folder). Files are named
    `melody_file_stem` + ``-N`` unless ``stem`` is given; a drawn name whose
    files already exist in ``out_dir`` is drawn again, so a run never
    overwrites an earlier one.
    """
    generator = generator or load_generator(request.style, models_dir)
    request = resolve_request(request, generator)
    assert request.random_seed is not None and request.temperature is not None
    if stem is None:
        stem = _unused_stem(out_dir, generator.style, request.random_seed, request.temperature)
    melodies = sample_request(generator, request)
    return render_composed(request, melodies, generator, out_dir, stem, soundfont, max_bytes)


def _unused_stem(out_dir: Path, style: str, random_seed: int, temperature: float) -> str:
    while True:
        stem = melody_file_stem(style, random_seed, temperature, new_short_id())
        if not any(out_dir.glob(f"{stem}-*")):
            return stem
