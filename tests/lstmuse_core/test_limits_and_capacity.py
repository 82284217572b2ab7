"""Request limits fit the library's capacity, and every layer enforces the one it names."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lstmuse_core import limits
from lstmuse_core.errors import InvalidParameter
from lstmuse_core.model.generate import SamplingControls
from lstmuse_core.model.train import check_max_epochs, check_max_minutes
from lstmuse_core.music.midi import validate_bpm
from lstmuse_core.request import MelodyRequest, RetrainRequest


def test_what_a_member_may_ask_fits_what_the_library_can_do() -> None:
    """Each request limit lies within the matching library capacity."""
    assert limits.MAX_TOTAL_STEPS <= limits.SAMPLER_MAX_STEPS
    assert limits.DEFAULT_STEPS + limits.MAX_SEED_STEPS <= limits.MAX_TOTAL_STEPS
    assert limits.MAX_SEED_STEPS <= limits.MIDI_READ_MAX_STEPS
    assert limits.SAMPLER_MIN_TEMPERATURE <= limits.MIN_TEMPERATURE
    assert limits.MAX_TEMPERATURE <= limits.SAMPLER_MAX_TEMPERATURE
    assert limits.MAX_TOP_K <= limits.SAMPLER_MAX_TOP_K
    assert 0 < limits.MIN_TOP_P <= 1
    assert limits.MAX_RETRAIN_EPOCHS <= limits.TRAINER_MAX_EPOCHS
    assert 0 < limits.MIN_RETRAIN_MINUTES <= limits.MAX_RETRAIN_MINUTES
    assert limits.MAX_RETRAIN_MINUTES <= limits.TRAINER_MAX_MINUTES


def test_the_widest_request_is_taken_by_the_sampler_and_the_trainer() -> None:
    """A request at its limits passes the sampler's and the trainer's own checks."""
    for temperature in (limits.MIN_TEMPERATURE, limits.MAX_TEMPERATURE):
        MelodyRequest(temperature=temperature, top_k=limits.MAX_TOP_K, top_p=limits.MIN_TOP_P)
        SamplingControls(temperature, limits.MAX_TOP_K, limits.MIN_TOP_P)
    retrain = RetrainRequest(
        style="folk", epochs=limits.MAX_RETRAIN_EPOCHS, minutes=limits.MAX_RETRAIN_MINUTES
    )
    assert check_max_epochs(retrain.epochs) == limits.MAX_RETRAIN_EPOCHS
    assert check_max_minutes(retrain.minutes) == limits.MAX_RETRAIN_MINUTES
    for bpm in (limits.MIN_BPM, limits.MAX_BPM):
        validate_bpm(bpm)
        assert MelodyRequest(bpm=bpm, audio="none").bpm == bpm


@pytest.mark.parametrize(
    ("check", "parameter"),
    [
        (lambda: MelodyRequest(temperature=limits.SAMPLER_MAX_TEMPERATURE), "temperature"),
        (lambda: MelodyRequest(steps=limits.MAX_TOTAL_STEPS + 1), "steps"),
        (lambda: MelodyRequest(top_p=limits.MIN_TOP_P / 2), "top_p"),
        (lambda: RetrainRequest("folk", epochs=limits.MAX_RETRAIN_EPOCHS + 1), "epochs"),
        (
            lambda: SamplingControls(temperature=limits.SAMPLER_MAX_TEMPERATURE * 1.01),
            "temperature",
        ),
        (lambda: check_max_epochs(limits.TRAINER_MAX_EPOCHS + 1), "max_epochs"),
        (lambda: validate_bpm(limits.MAX_BPM + 1), "bpm"),
    ],
)
def test_past_each_limit_is_refused_by_name(check: Callable[[], object], parameter: str) -> None:
    """One step past a limit is refused where that limit is enforced, naming the parameter."""
    with pytest.raises(InvalidParameter) as refused:
        check()
    assert refused.value.parameter == parameter


def test_the_sampler_takes_a_top_p_a_request_may_not() -> None:
    """The sampler takes any top_p above 0; a request, at least MIN_TOP_P (as its help says)."""
    SamplingControls(top_p=limits.MIN_TOP_P / 2)
    with pytest.raises(InvalidParameter, match=r"from 0\.01 to 1"):
        MelodyRequest(top_p=limits.MIN_TOP_P / 2)


def test_limits_import_nothing() -> None:
    """Importing the limits loads no other module of ours, nor numpy."""
    code = (
        "import sys; import lstmuse_core.limits; "
        "print(sorted(m for m in sys.modules if m.startswith(('lstmuse_core.', 'numpy'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "['lstmuse_core.limits']"


def test_the_readme_states_the_limits() -> None:
    """The README's cost table and retrain sentence give the values limits.py defines."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = {
        "MAX_TOTAL_STEPS": f"{limits.MAX_TOTAL_STEPS:,} (",
        "MAX_SEED_STEPS": f"| {limits.MAX_SEED_STEPS} 16th notes |",
        "MAX_COUNT": f"| {limits.MAX_COUNT} |",
        "MAX_AUDIO_SECONDS": f"| {limits.MAX_AUDIO_SECONDS:g} s,",
    }
    for name, value in rows.items():
        (row,) = [line for line in readme.splitlines() if f"`{name}`" in line]
        assert value in row, row
    retrain = (
        f"epochs 1-{limits.MAX_RETRAIN_EPOCHS:,}, minutes "
        f"{limits.MIN_RETRAIN_MINUTES:g}-{limits.MAX_RETRAIN_MINUTES:,g}"
    )
    assert retrain in " ".join(readme.split())
