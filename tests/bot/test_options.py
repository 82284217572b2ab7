"""Typed chat options become a validated MelodyRequest."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.options import parse_options, request_from_text
from lstmuse_core.errors import InvalidParameter
from lstmuse_core.options import MELODY_OPTIONS


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


OPTION_NAMES = st.sampled_from(
    [*(spec.name for spec in MELODY_OPTIONS), "x", "TEMP", "length", "tempo"]
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_parsed_or_rejected_by_name(text: str) -> None:
    """Fuzzing: arbitrary text never raises anything but a named InvalidParameter."""
    try:
        request_from_text(text)
    except InvalidParameter as error:
        assert error.parameter and str(error)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(OPTION_NAMES, st.text(max_size=12)), max_size=5))
def test_any_option_values_are_parsed_or_rejected_by_name(pairs: list[tuple[str, str]]) -> None:
    """Fuzzing known names with arbitrary values: a request or an error naming a parameter."""
    text = " ".join(f'{name}="{value}"' for name, value in pairs if '"' not in value)
    try:
        request = request_from_text(text)
    except InvalidParameter as error:
        assert error.parameter
    else:
        temperature = request.temperature
        assert temperature is None or 0.1 <= temperature <= 2.0
        assert 1 <= request.count <= 4
