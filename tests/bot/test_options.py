"""Typed chat options and /melody's parameters become a validated MelodyRequest."""

from __future__ import annotations

import shlex
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import COMMANDS
from bot.commands import slash_options as slash_parameters
from bot.options import options_from_slash, parse_options, request_from_text
from lstmuse_core.errors import InvalidParameter
from lstmuse_core.limits import (
    MAX_BARS,
    MAX_BPM,
    MAX_COUNT,
    MAX_OCTAVE,
    MAX_RANDOM_SEED,
    MAX_SEED_STEPS,
    MAX_TEMPERATURE,
    MAX_TOP_K,
    MAX_TOTAL_STEPS,
    MIN_BPM,
    MIN_OCTAVE,
    MIN_TEMPERATURE,
    MIN_TOP_P,
)
from lstmuse_core.options import MELODY_OPTIONS
from lstmuse_core.request import MelodyRequest


def test_typical_command_line() -> None:
    """Quotes, curly quotes, spaces around '=', case and aliases are handled."""
    request = request_from_text("Style=Folk temp = 0.8 seed=“C4 D4 E4:2” BARS=8 key=D")
    assert (request.style, request.temperature, request.bars, request.key) == ("folk", 0.8, 8, "D")
    assert request.seed_melody[:5] == ("60", "_", "_", "_", "62")


def test_symbol_seed_in_quotes() -> None:
    """A symbol seed keeps its spaces inside quotes."""
    assert request_from_text('seed="60 _ 62 _"').seed_melody == ("60", "_", "62", "_")


@pytest.mark.parametrize(
    ("text", "parameter", "fragment"),
    [
        ("temp=3", "temperature", "0.1 to 2"),
        ("style=folk loud", "options", "name=value"),
        ("colour=blue", "colour", "known options"),
        ('seed="60 _ 62', "options", "balanced quotes"),
        ("bars=100", "bars", "1 to 64"),
        ("key=H", "key", "a key such as C, D, F#"),
        ("meter=5/0", "meter", "a unit of 2, 4, 8 or 16"),
        ("mode=blues", "mode", "one of major, dorian"),
    ],
)
def test_rejections_name_parameter_value_and_rule(text: str, parameter: str, fragment: str) -> None:
    """Each rejection names the parameter, the value and what is allowed."""
    with pytest.raises(InvalidParameter) as error:
        request_from_text(text)
    assert error.value.parameter == parameter
    assert fragment in str(error.value)


def test_empty_is_all_defaults() -> None:
    """No options: the defaults."""
    assert parse_options("") == {}
    assert request_from_text("").style == "folk"


# --- fuzzing: every input is a request within the limits, or refused by name --------------

FUZZ = settings(max_examples=10_000, deadline=None)
NAMES = st.sampled_from(
    [name for spec in MELODY_OPTIONS for name in (spec.name, spec.field, *spec.aliases)]
    + ["x", "TEMP", "Seed-Melody", "top-k"]
)
DIGITS = st.integers(1, 5000).map(lambda n: "9" * n)  # past Python's 4,300-digit int limit
NOTE = st.tuples(  # note names and rests, well and badly formed
    st.sampled_from("ABCDEFGabcdefgrH"),
    st.sampled_from(["", "#", "b", "♭", "#b#"]),
    st.sampled_from(["", "4", "-1", "9", "10", "٣", "0" * 5000 + "4", "9" * 5000]),
    st.sampled_from(["", ":1", ":0.5", ":1/3", ":0", ":16", ":17", ":1/0", ":.", ":" + "1" * 5000]),
).map("".join)
VALUES = st.one_of(
    st.text(max_size=12),
    st.integers().map(str),
    st.floats().map(str),  # nan, inf, 1e+300
    DIGITS,
    st.sampled_from([spec.example for spec in MELODY_OPTIONS]),
    st.lists(NOTE | st.sampled_from(["60", "_", "r", "0" * 10 + "60"]), max_size=40).map(" ".join),
    st.tuples(st.integers(-3, 40), st.integers(-3, 40)).map(lambda m: f"{m[0]}/{m[1]}"),
)
SLASH_VALUES = {  # what Discord may send for each of /melody's parameters, and worse
    "text": st.text(max_size=40) | VALUES,
    "number": st.floats(),
    "whole number": st.integers(),
}


def assert_within_limits(request: MelodyRequest) -> None:
    """Every value of ``request`` within `lstmuse_core.limits`."""
    assert request.temperature is None or MIN_TEMPERATURE <= request.temperature <= MAX_TEMPERATURE
    assert 0 <= request.top_k <= MAX_TOP_K and MIN_TOP_P <= request.top_p <= 1
    assert 1 <= request.count <= MAX_COUNT
    assert request.bars is None or 1 <= request.bars <= MAX_BARS
    assert request.bpm is None or MIN_BPM <= request.bpm <= MAX_BPM  # None: the style's
    assert MIN_BPM <= request.costed_bpm <= MAX_BPM
    assert MIN_OCTAVE <= request.octave <= MAX_OCTAVE
    assert request.random_seed is None or 0 <= request.random_seed <= MAX_RANDOM_SEED
    assert len(request.seed_melody) <= MAX_SEED_STEPS
    assert len(request.seed_melody) + request.length[0] <= MAX_TOTAL_STEPS


def built_or_refused_by_name(build: Callable[[], MelodyRequest]) -> None:
    try:
        request = build()
    except InvalidParameter as error:  # the project's own refusal, naming what was wrong
        assert error.parameter and str(error)
    else:
        assert_within_limits(request)


@FUZZ
@given(
    st.text(max_size=80)
    | st.lists(st.tuples(NAMES, VALUES), max_size=6).map(
        lambda pairs: " ".join(f"{name}={shlex.quote(value)}" for name, value in pairs)
    )
)
def test_any_command_line_is_a_request_within_limits_or_refused_by_name(text: str) -> None:
    """Fuzzing ``!melody`` lines (any text, or known names with hostile values)."""
    built_or_refused_by_name(lambda: request_from_text(text))


@FUZZ
@given(
    st.fixed_dictionaries(
        {},
        optional={
            spec.name: SLASH_VALUES[spec.kind] for spec in slash_parameters(COMMANDS["melody"])
        },
    ),
    st.none() | st.text(max_size=40) | st.tuples(NAMES, VALUES).map(lambda p: f"{p[0]}={p[1]!r}"),
)
def test_any_slash_parameters_are_a_request_within_limits_or_refused_by_name(
    parameters: dict[str, object], free_text: str | None
) -> None:
    """Fuzzing /melody's parameters and its free-text ``options:`` as the cog reads them."""
    built_or_refused_by_name(
        lambda: MelodyRequest.from_options(options_from_slash(parameters, free_text))
    )
