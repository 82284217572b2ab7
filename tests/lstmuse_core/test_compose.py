"""From a request to files with a real (tiny) model: registers, seeds and scores (compose)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lstmuse_core.compose import ComposedMelody, compose
from lstmuse_core.model.generate import MelodyGenerator, load_generator_from_path
from lstmuse_core.model.train import StyleTrainingResult
from lstmuse_core.music.encoding import melody_pitches
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.render.pianoroll import PIANOROLL_COLOURS, PIANOROLL_PLOT
from lstmuse_core.request import MelodyRequest


@pytest.fixture
def generator(tiny_training: StyleTrainingResult) -> MelodyGenerator:
    return load_generator_from_path(tiny_training.bundle.path)


def _compose(generator: MelodyGenerator, out_dir: Path, **fields: object) -> list[ComposedMelody]:
    """Four bars of 4/4 major from random seed 5 on, no audio or picture unless asked."""
    settings: dict[str, object] = {
        "style": "tinyfolk",
        "bars": 4,
        "random_seed": 5,
        "meter": Meter(4, 4),
        "mode": "major",
        "audio": "none",
        "image": "none",
        **fields,
    }
    return compose(MelodyRequest(**settings), out_dir, generator=generator)  # type: ignore[arg-type]


def _octaves_apart(high: ComposedMelody, low: ComposedMelody) -> int:
    """How many octaves ``high`` sounds above ``low``, the same notes otherwise."""
    differences = {
        a - b
        for a, b in zip(melody_pitches(high.symbols), melody_pitches(low.symbols), strict=True)
    }
    (difference,) = differences
    assert difference % 12 == 0 and [s for s in high.symbols if not s.isdigit()] == [
        s for s in low.symbols if not s.isdigit()
    ]
    return difference // 12


def test_a_flute_plays_a_g_major_tune_from_middle_c_up_with_its_score(
    generator: MelodyGenerator, tmp_path: Path
) -> None:
    """In G the tunes dip under C4 on piano; a flute plays them octaves up, from C4 on."""
    from music21 import converter

    on_piano = _compose(generator, tmp_path / "piano", key="G", count=3)
    on_flute = _compose(
        generator, tmp_path / "flute", key="G", count=3, instrument="flute", export="musicxml"
    )
    assert any(min(melody_pitches(m.symbols)) < 60 for m in on_piano)  # the case in question
    for flute, piano in zip(on_flute, on_piano, strict=True):
        assert min(melody_pitches(flute.symbols)) >= 60
        assert _octaves_apart(flute, piano) >= 0
        assert flute.key == piano.key == "G major"
        score_path = Path(flute.to_json()["files"]["musicxml"])
        score = converter.parse(str(score_path)).flatten()
        assert [n.pitch.midi for n in score.stripTies().notes] == melody_pitches(flute.symbols)
        (signature,) = score.getElementsByClass("KeySignature")
        assert signature.sharps == 1
    assert all("musicxml" not in m.to_json()["files"] for m in on_piano)


def test_the_octave_option_moves_the_melody_by_octaves(
    generator: MelodyGenerator, tmp_path: Path
) -> None:
    """octave=-1 and octave=1: the same melody an octave lower and higher, in the same key."""
    (middle,) = _compose(generator, tmp_path / "0", key="D")
    (lower,) = _compose(generator, tmp_path / "-1", key="D", octave=-1)
    (higher,) = _compose(generator, tmp_path / "1", key="D", octave=1)
    assert _octaves_apart(middle, lower) == 1 and _octaves_apart(higher, middle) == 1
    assert lower.key == higher.key == "D major"


def test_continuing_a_melody_moved_up_by_its_instrument_and_octave(
    generator: MelodyGenerator, tmp_path: Path
) -> None:
    """A flute melody two octaves up seeds the next one: the model takes it, the seed stays high."""
    (first,) = _compose(generator, tmp_path / "first", key="G", instrument="flute", octave=2)
    last_bar = tuple(first.symbols[-16:])
    if last_bar[0] == "_":  # the note sounding at the cut starts the seed
        last_bar = (next(s for s in reversed(first.symbols[:-16]) if s != "_"), *last_bar[1:])
    assert max(melody_pitches(last_bar)) > max(generator.vocabulary.pitches)  # beyond the model
    (second,) = _compose(
        generator,
        tmp_path / "second",
        key="G",
        instrument="flute",
        octave=2,
        seed_melody=last_bar,
        bars=2,
    )
    seed_part = second.symbols[:16]
    assert [s for s in seed_part if not s.isdigit()] == [s for s in last_bar if not s.isdigit()]
    pairs = zip(melody_pitches(seed_part), melody_pitches(last_bar), strict=True)
    shifts = {a - b for a, b in pairs}
    assert len(shifts) == 1 and shifts.pop() % 12 == 0  # the seed's notes, moved by octaves
    assert min(melody_pitches(second.symbols)) >= 84  # a flute's C4, two octaves up


def test_the_piano_roll_shades_the_seed(generator: MelodyGenerator, tmp_path: Path) -> None:
    """With a one-bar seed the roll's top-left corner is seed-coloured; without, it is not."""
    colours = PIANOROLL_COLOURS
    seed_colours = {colours["seed"], colours["seed_black_key_row"]}
    left, top, _, _ = PIANOROLL_PLOT

    def corner(melody: ComposedMelody) -> tuple[int, ...]:
        assert melody.files.image is not None
        with Image.open(melody.files.image) as image:
            return tuple(np.asarray(image.convert("RGB"))[top + 2, left + 2])

    (seeded,) = _compose(
        generator, tmp_path / "seeded", image="pianoroll", seed_melody=("60", "_", "_", "_") * 4
    )
    (plain,) = _compose(generator, tmp_path / "plain", image="pianoroll")
    assert corner(seeded) in seed_colours
    assert corner(plain) not in seed_colours


def test_an_irish_jig_plays_at_the_tables_dotted_quarter_unless_bpm_is_asked(
    tmp_path: Path,
) -> None:
    """6/8 irish without bpm: the MIDI says 165 quarters a minute (a dotted quarter of 110,
    `DANCE_TEMPOS`); bpm=90 wins."""
    import mido

    from lstmuse_core.music.tempo import DANCE_TEMPOS

    models = Path(__file__).parents[2] / "trained_models"
    jig = MelodyRequest(
        style="irish", meter=Meter(6, 8), bars=2, random_seed=3, audio="none", image="none"
    )

    def midi_bpm(request: MelodyRequest, out: Path) -> float:
        (melody,) = compose(request, out, models_dir=models)
        tempos = [
            m.tempo
            for m in mido.MidiFile(melody.files.by_kind["midi"]).merged_track
            if m.type == "set_tempo"
        ]
        assert round(mido.tempo2bpm(tempos[0]), 2) == melody.tempo.quarter_bpm
        assert melody.to_json()["bpm"] == melody.tempo.quarter_bpm
        return melody.tempo.quarter_bpm

    assert midi_bpm(jig, tmp_path / "jig") == DANCE_TEMPOS["6/8"][1] * 3 / 2 == 165.0
    assert midi_bpm(jig.replace(bpm=90), tmp_path / "asked") == 90.0
