"""The command table: every command, its aliases, options, example and who may run it.

One table feeds every front end, so they cannot drift apart:

- the Discord text commands take their names, aliases and help from it
  (``bot/cogs/*``), and ``!help`` / ``!help melody`` are rendered from it
  (`TableHelp`);
- the slash commands take their descriptions, ranges and choices from it
  (`apply_to_slash`), and ``/melody``'s free-text ``options:`` field takes
  every option the typed parameters leave out;
- the console dispatches by its names and aliases and prints `console_help`;
- the README's command section is `readme_section` (a test compares them;
  ``python -m bot.commands`` prints it).

The options of a request (names, aliases, types, ranges) are the core's
(`lstmuse_core.options`): ``lstmuse generate`` builds its flags from them and
the requests convert typed values by them, without importing ``bot``. What
is only the bot's lives here: which command offers which options, the admin
flag, and the commands that only manage models (``models``, ``rollback``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.limits import MAX_AUDIO_SECONDS, MAX_TOTAL_STEPS
from lstmuse_core.music.tune_file import TUNE_FILE_ALLOWED
from lstmuse_core.options import (
    HARMONIZE_OPTIONS,
    MELODY_OPTIONS,
    RETRAIN_OPTIONS,
    OptionSpec,
    find_option,
)

MODELS_OPTIONS = (
    OptionSpec(
        name="style", field="style", kind="text", example="folk", help="one style (default: all)"
    ),
)
ROLLBACK_OPTIONS = (
    OptionSpec(
        name="style",
        field="style",
        kind="text",
        example="folk",
        required=True,
        help="the style to roll back",
    ),
    OptionSpec(
        name="version",
        field="version",
        kind="text",
        default="the one active before",
        example="v001",
        help="the version to make active again",
    ),
)


@dataclass(frozen=True)
class CommandSpec:
    """One command, as every front end offers it.

    ``example`` is typed after the prefix; ``positional`` commands also take
    their options as bare words in order (``!rollback folk v001``);
    ``on_discord`` False: console only (on Discord these are the buttons under
    each melody); ``slash``: also a ``/`` command.
    """

    name: str
    summary: str
    example: str
    options: tuple[OptionSpec, ...] = ()
    aliases: tuple[str, ...] = ()
    admin: bool = False
    positional: bool = False
    on_discord: bool = True
    slash: bool = True
    details: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def signature(self) -> str:
        """``retrain style=... [epochs=...]``: the command with its options."""
        parts = [self.name]
        for spec in self.options:
            if spec.common:
                typed = f"{spec.name}={spec.example if ' ' not in spec.example else '...'}"
                parts.append(typed if spec.required else f"[{typed}]")
        if not all(spec.common for spec in self.options):
            parts.append("[...]")
        return " ".join(parts)

    def help_text(self, prefix: str = "!") -> str:
        """The full help of one command: summary, options with ranges, an example."""
        admin = " (admins only)" if self.admin else ""
        also = f" Also: {', '.join(prefix + a for a in self.aliases)}." if self.aliases else ""
        lines = [f"**{prefix}{self.name}**{admin}: {self.summary}.{also}"]
        if self.options:
            lines.append("Options, as name=value (names are case-insensitive):")
            lines.extend(f"- {spec.usage(markdown=True)}" for spec in self.options)
        if self.details:
            lines.append(self.details)
        lines.append(f"Example: `{prefix}{self.example}`")
        return "\n".join(lines)


COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec(
            "melody",
            "generate melodies; every option is optional",
            'melody style=folk temp=0.8 seed="C4 D4 E4:2" bars=8 key=D bpm=110 instrument=flute',
            MELODY_OPTIONS,
            aliases=("m",),
            details=(
                "Attach a MIDI, MusicXML or ABC file (.mid, .musicxml, .mxl, .abc) to start "
                f"from its melody (/melody: seed_file). A melody is at most "
                f"{MAX_TOTAL_STEPS} 16th notes, seed included, and its audio at most "
                f"{MAX_AUDIO_SECONDS / 60:g} minutes. /melody takes the first options as "
                "parameters and the rest in `options:`."
            ),
        ),
        CommandSpec(
            "harmonize",
            "chords for your tune, played and written out in its own key and meter",
            "harmonize instrument=flute bpm=96 export=abc",
            HARMONIZE_OPTIONS,
            details=(
                f"Attach {TUNE_FILE_ALLOWED} (/harmonize: tune; console: harmonize PATH "
                "[options]). A file with several parts is harmonized on its melody part (one "
                "named so, else the top one); the chords are in the reply, eight bars a line."
            ),
        ),
        CommandSpec(
            "reroll",
            "the last melody again with a new random seed",
            "reroll",
            on_discord=False,
            slash=False,
        ),
        CommandSpec(
            "variation",
            "the last melody's settings at a nearby temperature",
            "variation",
            on_discord=False,
            slash=False,
        ),
        CommandSpec(
            "continue",
            "8 more bars after the last melody",
            "continue",
            on_discord=False,
            slash=False,
        ),
        CommandSpec("styles", "the styles, their active model and held-out quality", "styles"),
        CommandSpec("queue", "your jobs and their places in the queue", "queue"),
        CommandSpec("cancel", "cancel your most recent queued job", "cancel"),
        CommandSpec(
            "retrain",
            "retrain a style; progress is shown as it trains",
            "retrain style=folk epochs=30 preset=default force=yes",
            RETRAIN_OPTIONS,
            admin=True,
            details=(
                "Attach MIDI/MusicXML/ABC/kern files or a zip of them to train the style from "
                'them (console: files="a.mid b.zip").'
            ),
        ),
        CommandSpec(
            "models",
            "a style's versions with held-out bits/symbol against the 9-gram baseline",
            "models folk",
            MODELS_OPTIONS,
            admin=True,
            positional=True,
        ),
        CommandSpec(
            "rollback",
            "make an earlier model version active again",
            "rollback folk v001",
            ROLLBACK_OPTIONS,
            admin=True,
            positional=True,
        ),
        CommandSpec("help", "the commands, or one command's options", "help melody", slash=False),
    )
}


def find_command(name: str) -> CommandSpec | None:
    """The command called ``name`` or one of its aliases (any case), or None."""
    name = name.strip().lower()
    return next((spec for spec in COMMANDS.values() if name in spec.names), None)


def command_options(command: CommandSpec, words: Iterable[str]) -> dict[str, str]:
    """``name=value`` words (and, for positional commands, bare words in order) by option name.

    Unknown names are refused in the words `lstmuse_core.options.find_option`
    uses everywhere; a bare word where only ``name=value`` is taken is named.
    """
    values: dict[str, str] = {}
    bare = 0
    for word in words:
        name, equals, value = word.partition("=")
        if equals and name:
            values[find_option(command.options, name, value).name] = value.strip()
        elif command.positional and bare < len(command.options):
            values[command.options[bare].name] = word
            bare += 1
        else:
            raise InvalidParameter(
                "options", word, "name=value pairs", hint=f"e.g. {command.example}"
            )
    for spec in command.options:
        if spec.required and not values.get(spec.name):
            raise InvalidParameter(spec.name, "", "a value", hint=f"e.g. {command.example}")
    return values


# --- help texts --------------------------------------------------------------------------


def bot_help(prefix: str = "!") -> str:
    """``!help``: one line per Discord command, admin ones marked."""
    lines = ["**LSTMuse commands** (`/` works too, except for help):"]
    for spec in COMMANDS.values():
        if spec.on_discord:
            admin = " *(admins)*" if spec.admin else ""
            lines.append(f"`{prefix}{spec.signature()}`{admin}: {spec.summary}")
    lines.append(f"Type `{prefix}help melody` for a command's options, ranges and an example.")
    return "\n".join(lines)


def console_help() -> str:
    """The console's ``help``: every command with its options (the leading ! is optional)."""
    lines = ["Commands (the leading ! is optional):"]
    for spec in COMMANDS.values():
        names = " | ".join(spec.names)
        admin = " (admins; at the console, you)" if spec.admin else ""
        lines.append(f"  {names}: {spec.summary}{admin}")
        for option in spec.options:
            lines.append(f"      {option.usage()}")
        if spec.options:
            lines.append(f"      e.g. {spec.example}")
    lines.append("  quit: leave")
    return "\n".join(lines)


def readme_section() -> str:
    """The README's command table and option tables, in Markdown."""
    lines = [
        "| command | what it does | example |",
        "| --- | --- | --- |",
    ]
    for spec in COMMANDS.values():
        if not spec.on_discord:
            continue
        forms = [f"`!{alias}`" for alias in spec.aliases]
        forms += [f"`/{spec.name}`"] if spec.slash else []
        forms += ["admins"] if spec.admin else []
        shown = f"`{spec.name}`" + (f" ({', '.join(forms)})" if forms else "")
        lines.append(f"| {shown} | {spec.summary} | `!{spec.example}` |")
    for spec in COMMANDS.values():
        if spec.options and spec.on_discord:
            lines += ["", f"`{spec.name}` options:", "", *option_table(spec.options)]
    return "\n".join(lines)


def option_table(options: Sequence[OptionSpec]) -> list[str]:
    rows = [
        "| option | also | allowed | default | what it sets | example |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for spec in options:
        also = ", ".join(f"`{alias}`" for alias in spec.aliases)
        default = "required" if spec.required else spec.default
        rows.append(
            f"| `{spec.name}` | {also} | {spec.allowed} | {default} | {spec.help} "
            f"| `{spec.typed()}` |"
        )
    return rows


# --- slash commands ----------------------------------------------------------------------


def slash_options(command: CommandSpec) -> tuple[OptionSpec, ...]:
    """The options a slash command takes as its own parameters (the rest: ``options:``)."""
    return tuple(spec for spec in command.options if spec.common)


def apply_to_slash(slash_command: Any, command: CommandSpec, **extra: str) -> None:
    """Give a slash command's parameters their descriptions, ranges and choices from the table.

    A parameter with an autocomplete callback (the cogs': suggestions from the
    catalogue, `bot.suggestions`) gets no fixed choices: Discord refuses both.

    ``extra`` describes the parameters that are not options (attachments, the
    free-text ``options``). A parameter the table does not know, or typed
    otherwise than its row's ``kind``, is a bug here, caught at start-up.
    (discord.py builds parameters from the signature; the table's ranges are
    set on them before the tree is synced.)
    """
    from discord import AppCommandOptionType, app_commands

    slash_types = {
        "text": AppCommandOptionType.string,
        "whole number": AppCommandOptionType.integer,
        "number": AppCommandOptionType.number,
        "yes/no": AppCommandOptionType.boolean,
    }
    slash_command.description = command.summary[:100]
    by_name = {spec.name: spec for spec in slash_options(command)}
    for name, parameter in slash_command._params.items():
        if name in extra:
            parameter.description = extra[name][:100]
            continue
        spec = by_name.get(name)
        if spec is None:
            raise LookupError(f"/{command.name} parameter {name!r} is not in the command table")
        if parameter.type != slash_types[spec.kind]:
            raise TypeError(
                f"/{command.name} parameter {name!r} is {parameter.type.name}; "
                f"the table's {spec.kind} needs {slash_types[spec.kind].name}"
            )
        allowed = "" if spec.allowed == spec.kind else f" ({spec.allowed})"  # not "(text)"
        parameter.description = f"{spec.help}{allowed}"[:100]
        if spec.low is not None and spec.kind != "text":
            parameter.min_value, parameter.max_value = spec.low, spec.high
        if spec.choices and parameter.autocomplete is None:  # Discord takes one or the other
            parameter.choices = [app_commands.Choice(name=c, value=c) for c in spec.choices]
    missing = set(by_name) - set(slash_command._params)
    if missing:
        raise LookupError(f"/{command.name} lacks the table's options {sorted(missing)}")


if __name__ == "__main__":
    print(readme_section())
