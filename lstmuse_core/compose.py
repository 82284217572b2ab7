"""From a `MelodyRequest` to melodies on disk: sample, move to the key and register, render.

The one place where a request becomes files, used by the CLI, the console
front end and the worker alike.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.model.generate import (
    CANDIDATES,
    MelodyGenerator,
    SampledMelody,
    SamplingControls,
    load_generator,
)
from lstmuse_core.music.encoding import transpose_symbols
from lstmuse_core.music.keys import model_key, parse_key
from lstmuse_core.music.melody import Melody
from lstmuse_core.music.register import in_register, seed_for_model
from lstmuse_core.music.render import RenderOptions, RenderResult, render_melody, validate_stem
from lstmuse_core.request import MelodyRequest


@dataclass(frozen=True)
class ComposedMelody:
    """One generated melody (in the requested key and meter) and its files."""

    melody: Melody
    random_seed: int
    style: str
    model_version: str
    files: RenderResult

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
            "time_signature": self.melody.meter,
            "files": {kind: str(path) for kind, path in self.files.by_kind.items()},
            "problems": list(self.files.problems),
        }


_SHORT_ID = re.compile(r"[a-z0-9]{1,8}")


def melody_file_stem(style: str, random_seed: int, temperature: float, short_id: str) -> str:
    """The file name stem of one request's melodies, e.g. ``folk-12-t0_8-3fa9c2``.

    Style, random seed, temperature (its '.' written '_': stems allow only
    ``A-Z a-z 0-9 _ -``) and a short id drawn per request, so two requests
    with the same seed never share a name. ``short_id``: 1-8 lower-case
    letters or digits. At most 59 characters, leaving room for the ``-N``
    that `render_composed` adds per melody within `validate_stem`'s 64.
    """
    if not isinstance(short_id, str) or not _SHORT_ID.fullmatch(short_id):
        raise InvalidParameter("short_id", short_id, "1-8 lower-case letters or digits")
    temperature_text = f"{temperature:.3g}".replace(".", "_")
    return validate_stem(f"{style[:32]}-{random_seed}-t{temperature_text}-{short_id}")


def new_short_id() -> str:
    """Six random hex digits: the per-request part of `melody_file_stem`."""
    return secrets.token_hex(3)


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
    continue, and `render_composed` places the whole melody again.
    """
    assert request.random_seed is not None and request.temperature is not None, (
        "resolve the request first (resolve_request)"
    )
    meters = request.affordable_meters(generator.conditioning.meters)
    plans = []
    for seed in request.melody_seeds():
        plan = generator.plan(
            seed,
            meter=request.time_signature,
            mode=request.mode,
            bars=request.bars,
            meters_allowed=meters,
        )
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
    are checked once, by `RenderOptions`. The piano roll marks the seed.
    """
    options = RenderOptions(
        audio_format=request.audio,
        image=request.image,
        soundfont=soundfont,
        bpm=request.bpm,
        instrument=request.instrument,
        export=request.export,
        **({"max_bytes": max_bytes} if max_bytes else {}),
    )
    assert request.temperature is not None, "resolve the request first (resolve_request)"
    composed = []
    seeds = request.melody_seeds()
    for number, (sampled, seed) in enumerate(zip(melodies, seeds, strict=True), start=1):
        key = parse_key(request.key, sampled.mode) if request.key else model_key(sampled.mode)
        melody = in_register(
            Melody.from_model(sampled.symbols, sampled.meter, key), options.program, request.octave
        )
        title = (
            f"LSTMuse {generator.style} #{seed} - {melody.key_name}, {sampled.meter}, "
            f"{request.bpm:g} bpm, temperature {request.temperature:g}"
        )
        files = render_melody(
            melody,
            out_dir,
            stem=f"{stem}-{number}",
            title=title,
            options=options,
            seed_steps=len(request.seed_melody),
        )
        composed.append(ComposedMelody(melody, seed, generator.style, generator.version, files))
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
