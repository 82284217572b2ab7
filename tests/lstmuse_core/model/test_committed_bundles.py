"""The committed bundles sample exactly what they sampled before the reader changed.

The melodies in ``data/committed_melodies.json`` were written by each committed
bundle on main before issue 21's reader (new styles, modes and the pentatonic
modes appended to `MODES`): a change to the mode list, the conditioning or the
sampler that moved any committed model's output would show here. Retrained
bundles replace their entries with their own melodies (scottish v002, folk, irish and
fiddle v003, chinese v002, folk, irish and fiddle v004, scottish v003, chorale v002:
``python`` the test's ``_melodies`` for those styles), and so does a
deliberate change to what the sampler draws (every entry was written again when
candidates began to open as their network does: `MelodyGenerator._candidate_rows`;
irish and fiddle v002 when their triplet calibration was measured, `lstmuse calibrate`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.model.generate import load_generator

EXPECTED = json.loads((Path(__file__).parent / "data" / "committed_melodies.json").read_text())


def _melodies(style: str) -> list[dict[str, str]]:
    generator = load_generator(style)
    drawn = generator.sample(n=2, bars=8, temperature=0.8, seed=11, candidates=4)
    asked = generator.sample(n=1, bars=4, temperature=0.8, seed=5, mode="minor")
    return [
        {"symbols": " ".join(m.symbols), "meter": m.meter.text, "mode": m.mode}
        for m in drawn + asked
    ]


@pytest.mark.parametrize("style", sorted(EXPECTED))
def test_same_request_same_melody_as_before(style: str) -> None:
    assert _melodies(style) == EXPECTED[style]


def test_a_mode_the_model_never_saw_is_refused_naming_its_modes() -> None:
    """The folk bundle learnt major, dorian, mixolydian and minor only: lydian is refused."""
    generator = load_generator("folk")
    with pytest.raises(InvalidParameter, match=r"mode.*major, dorian, mixolydian, minor"):
        generator.sample(n=1, bars=4, mode="lydian")
