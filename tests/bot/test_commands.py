"""The command table: every front end, help text and the README agree with it."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import pytest

from bot.commands import COMMANDS, apply_to_slash, command_options, console_help, readme_section
from bot.console import Console
from bot.options import request_from_text
from lstmuse_core.errors import InvalidParameter
from lstmuse_core.options import MELODY_OPTIONS, RETRAIN_OPTIONS, OptionSpec
from lstmuse_core.request import MelodyRequest, RetrainRequest

README = Path(__file__).resolve().parents[2] / "README.md"


def _numeric(options: tuple[OptionSpec, ...]) -> list[OptionSpec]:
    return [spec for spec in options if spec.low is not None]


@pytest.mark.parametrize("spec", _numeric(MELODY_OPTIONS), ids=lambda spec: spec.name)
def test_melody_ranges_are_what_validation_allows(spec: OptionSpec) -> None:
    """Each melody range's ends are accepted and just past the top is refused, by name."""
    assert spec.high is not None
    for value in (spec.low, spec.high):
        request = MelodyRequest.from_options({spec.name: f"{value:.10g}"}, audio="none")
        assert getattr(request, spec.field) == pytest.approx(value)
    past = spec.high + 1 if spec.kind == "whole number" else spec.high * 1.01
    with pytest.raises(InvalidParameter) as error:
        MelodyRequest.from_options({spec.name: f"{past:.10g}"}, audio="none")
    assert error.value.parameter in (spec.field, spec.name)


@pytest.mark.parametrize("spec", _numeric(RETRAIN_OPTIONS), ids=lambda spec: spec.name)
def test_retrain_ranges_are_what_validation_allows(spec: OptionSpec) -> None:
    """Each retrain range's ends are accepted and just past the top is refused, by name."""
    assert spec.high is not None
    for value in (spec.low, spec.high):
        request = RetrainRequest.from_options({"style": "folk", spec.name: f"{value:g}"})
        assert getattr(request, spec.field) == pytest.approx(value)
    with pytest.raises(InvalidParameter) as error:
        RetrainRequest.from_options({"style": "folk", spec.name: f"{spec.high + 1:g}"})
    assert error.value.parameter == spec.field


def test_every_request_field_has_one_option_whose_names_and_example_parse() -> None:
    """Each request field has one option; its name, aliases and example all parse the same."""
    for options, request_type in (
        (MELODY_OPTIONS, MelodyRequest),
        (RETRAIN_OPTIONS, RetrainRequest),
    ):
        fields = [f.name for f in dataclasses.fields(request_type)]
        assert sorted(spec.field for spec in options) == sorted(fields)
    for spec in MELODY_OPTIONS:
        expected = getattr(MelodyRequest.from_options({spec.field: spec.example}), spec.field)
        for name in (spec.name, *spec.aliases, spec.name.upper()):
            assert getattr(MelodyRequest.from_options({name: spec.example}), spec.field) == expected
    for spec in RETRAIN_OPTIONS:
        request = RetrainRequest.from_options({"style": "folk", spec.name: spec.example})
        value = getattr(request, spec.field)
        assert value is True or value == type(value)(spec.example)


async def test_unknown_option_is_refused_in_the_same_words_everywhere(tmp_path: Path) -> None:
    """melody, retrain, models and rollback, text or console: one refusal naming the option."""
    expected = "colour='blue' is not allowed: known options: "
    refusals = []
    for call in (
        lambda: request_from_text("colour=blue"),
        lambda: RetrainRequest.from_options({"style": "folk", "colour": "blue"}),
        lambda: command_options(COMMANDS["models"], ["colour=blue"]),
        lambda: command_options(COMMANDS["rollback"], ["folk", "colour=blue"]),
    ):
        with pytest.raises(InvalidParameter) as error:
            call()
        refusals.append(str(error.value))
    assert all(text.startswith(expected) for text in refusals), refusals
    melody_known = ", ".join(spec.name for spec in MELODY_OPTIONS)
    assert refusals[0] == expected + melody_known
    output = io.StringIO()
    console = Console(service=None, output_dir=tmp_path, out=output)  # type: ignore[arg-type]
    for line in ("melody colour=blue", "retrain style=folk colour=blue", "models colour=blue"):
        await console.handle(line)
    lines = output.getvalue().splitlines()
    assert len(lines) == 3 and all(line.startswith("Sorry: " + expected) for line in lines)


def test_console_help_lists_every_command_and_option() -> None:
    """The console's help names every command, alias and option with its range."""
    text = console_help()
    for spec in COMMANDS.values():
        names = re.escape(" | ".join(spec.names))
        assert re.search(rf"^  {names}: ", text, re.MULTILINE), spec.name
        for option in spec.options:
            assert option.usage() in text
    assert "temp (temperature, t): 0.1-2, default the style's (0.8);" in text


# The parameters whose values the bot suggests as a member types (`bot.suggestions`).
SUGGESTED = {
    *(("melody", name) for name in ("style", "meter", "mode", "key", "instrument")),
    *((name, "style") for name in ("retrain", "models", "rollback")),
    ("rollback", "version"),
}


def test_slash_parameters_come_from_the_table(discord_bot) -> None:
    """/melody, /retrain, /models, /rollback: every option, its range, choices (or
    suggestions) and text."""
    for name in ("melody", "retrain", "models", "rollback"):
        command = discord_bot.tree.get_command(name)
        payload = {
            option["name"]: option for option in command.to_dict(discord_bot.tree)["options"]
        }
        spec = COMMANDS[name]
        for option in spec.options:
            if not option.common:
                continue
            shown = payload[option.name]
            assert shown["description"].startswith(option.help[:60])
            if option.low is not None:
                assert (shown["min_value"], shown["max_value"]) == (option.low, option.high)
            if (name, option.name) in SUGGESTED:  # Discord takes choices or suggestions
                assert shown["autocomplete"] and "choices" not in shown
            elif option.choices:
                assert [c["value"] for c in shown["choices"]] == list(option.choices)
            assert shown["required"] == option.required
        assert all(o["description"] != "…" for o in payload.values())  # files, options: too
    melody = {
        o["name"]
        for o in discord_bot.tree.get_command("melody").to_dict(discord_bot.tree)["options"]
    }
    rest = {spec.name for spec in MELODY_OPTIONS if not spec.common}
    assert not rest & melody and "options" in melody  # the rest are typed in options:


def test_a_slash_parameter_missing_from_the_table_is_refused() -> None:
    """apply_to_slash refuses a parameter the table does not know (caught at start-up)."""
    from discord import app_commands

    @app_commands.command(name="melody", description="x")
    async def melody(interaction, colour: str) -> None:  # type: ignore[no-untyped-def]
        return None

    with pytest.raises(LookupError, match="colour"):
        apply_to_slash(melody, COMMANDS["melody"])


def test_a_slash_parameter_of_another_kind_than_its_row_is_refused() -> None:
    """apply_to_slash refuses count typed as text: Discord would send what the table refuses."""
    from discord import app_commands

    @app_commands.command(name="melody", description="x")
    async def melody(interaction, count: str) -> None:  # type: ignore[no-untyped-def]
        return None

    count = tuple(spec for spec in MELODY_OPTIONS if spec.name == "count")
    with pytest.raises(TypeError, match="'count' is string; the table's whole number needs"):
        apply_to_slash(melody, dataclasses.replace(COMMANDS["melody"], options=count))


def test_readme_command_section_is_the_table() -> None:
    """The README's Discord command section is `bot.commands.readme_section()`, verbatim."""
    assert readme_section() in README.read_text(), (
        "README's command section differs from the table: paste `python -m bot.commands`"
    )
