"""What one request may cost, checked before any work starts; retrain options."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.request import (
    MAX_RANDOM_SEED,
    MAX_TOTAL_STEPS,
    RETRAIN_PRESETS,
    MelodyRequest,
    RetrainRequest,
)


@pytest.mark.parametrize(
    ("options", "parameter", "fragment"),
    [
        # 4,096 sixteenths and ~4 GB on main before the artifact cap said no.
        (
            {"bars": "8", "time_signature": "32/1", "bpm": "20", "count": "4"},
            "meter",
            "1-16 beats",
        ),
        ({"meter": "4/1"}, "meter", "unit of 2, 4, 8 or 16"),
        ({"meter": "17/8"}, "meter", "1-16 beats"),
        ({"meter": "16/2"}, "meter", "bars of at most 32 16th notes"),
        ({"bars": "64", "meter": "8/4"}, "bars", f"at most {MAX_TOTAL_STEPS}"),
        ({"mode": "bebop"}, "mode", "dorian"),
        ({"key": "Am", "mode": "dorian"}, "key", "in the mode asked for"),
        ({"bars": "64", "seed": "C4 D4"}, "bars", "seed included"),
        ({"bars": "64", "bpm": "20"}, "bpm", "audio of at most"),
        ({"bars": "40", "audio": "wav", "bpm": "60"}, "audio", "MiB per melody"),
        ({"style": "../../x"}, "style", "lower-case letters"),
        ({"style": "@everyone"}, "style", "lower-case letters"),
        ({"random_seed": "9" * 5000}, "random_seed", "a whole number"),
        ({"bpm": "nan"}, "bpm", "a finite number"),
    ],
)
def test_costly_or_unsafe_requests_are_refused_by_name(
    options: dict[str, str], parameter: str, fragment: str
) -> None:
    """Each refusal names the parameter and says what is allowed."""
    with pytest.raises(InvalidParameter, match=fragment) as refused:
        MelodyRequest.from_options(options)
    assert refused.value.parameter == parameter


def test_a_long_typed_seed_is_refused_quickly() -> None:
    """A few hundred whole-bar notes (~25,000 steps on main) are refused at once."""
    started = time.perf_counter()
    with pytest.raises(InvalidParameter, match="at most 512 16th notes") as refused:
        MelodyRequest.from_options({"seed": " ".join(["C4:4"] * 400)})
    assert refused.value.parameter == "seed"
    assert time.perf_counter() - started < 1.0
    symbols = " ".join(["60"] + ["_"] * 600)
    with pytest.raises(InvalidParameter, match="at most 512"):
        MelodyRequest.from_options({"seed": symbols})


def test_the_largest_allowed_request_is_accepted() -> None:
    """64 bars of 4/4 at 60 bpm with MP3: exactly the budget, accepted."""
    request = MelodyRequest.from_options({"bars": "64", "bpm": "60", "count": "4"})
    assert request.length == (MAX_TOTAL_STEPS, MAX_TOTAL_STEPS)


def test_melody_seeds_near_the_maximum_stay_valid() -> None:
    """random_seed at the maximum with count=2: each melody's seed is a valid request seed."""
    request = MelodyRequest(random_seed=MAX_RANDOM_SEED, count=2)
    assert request.melody_seeds() == [MAX_RANDOM_SEED, 0]
    for seed in request.melody_seeds():
        assert request.replace(random_seed=seed, count=1).random_seed == seed


def test_instrument_is_stored_by_its_short_general_midi_name() -> None:
    """An 1,800-character instrument text becomes one GM name (it reaches embeds and titles)."""
    request = MelodyRequest.from_options({"instrument": "piano " * 300})
    assert request.instrument == "Acoustic Grand Piano"
    assert MelodyRequest.from_json(request.to_json()) == request


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"style": "folk", "epochs": "0"}, "epochs"),
        ({"style": "folk", "epochs": "-3"}, "epochs"),
        ({"style": "folk", "epochs": "lots"}, "epochs"),
        ({"style": "folk", "minutes": "0"}, "minutes"),
        ({"style": "folk", "minutes": "inf"}, "minutes"),
        ({"style": "folk", "preset": "huge"}, "preset"),
        ({"style": "folk", "force": "maybe"}, "force"),
        ({"style": "/etc"}, "style"),
        ({"epochs": "3"}, "style"),
        ({"style": "folk", "colour": "red"}, "colour"),
    ],
)
def test_nonsense_retrain_options_are_refused(options: dict[str, str], parameter: str) -> None:
    """Retrain options are checked before anything is uploaded or queued."""
    with pytest.raises(InvalidParameter) as refused:
        RetrainRequest.from_options(options)
    assert refused.value.parameter == parameter


def test_retrain_request_reads_typed_options() -> None:
    """Typed options become a typed request."""
    request = RetrainRequest.from_options(
        {"style": "Folk", "epochs": "30", "force": "yes", "minutes": "2.5"}
    )
    assert request == RetrainRequest("folk", epochs=30, force=True, minutes=2.5)


def test_retrain_presets_match_the_model_presets() -> None:
    """The bot's list of presets (no Keras import) is the model's own."""
    from lstmuse_core.model.network import PRESETS

    assert set(RETRAIN_PRESETS) == set(PRESETS)


def test_importing_the_request_does_not_load_the_renderer() -> None:
    """`import lstmuse_core.request` does not import lstmuse_core.music.render."""
    code = "import sys, lstmuse_core.request; print('lstmuse_core.music.render' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
