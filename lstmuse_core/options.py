"""The options people type, ``name=value``: names, aliases, types, ranges, help, examples.

One table per request type (`MELODY_OPTIONS`, `RETRAIN_OPTIONS`) is the
single source of what a front end may offer: the Discord text and slash
commands, the console and every help text are built from it (the command
table in ``bot/commands.py`` adds the commands themselves). The split is by
dependency: these facts are about *requests*, which the core validates and
the CLI and worker share, so they live in the core and must not import
``bot``; which command offers them, and how Discord shows them, is the bot's
business.

Ranges come from the request's own limits (`lstmuse_core.request`), so a
help text can never promise more than validation allows. That is also why
``request.py`` imports this module inside its functions, not at its top:
this table reads that module's limits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.limits import (
    DEFAULT_STEPS,
    MAX_BARS,
    MAX_BPM,
    MAX_COUNT,
    MAX_OCTAVE,
    MAX_RANDOM_SEED,
    MAX_RETRAIN_EPOCHS,
    MAX_RETRAIN_MINUTES,
    MAX_SEED_STEPS,
    MAX_TEMPERATURE,
    MAX_TOP_K,
    MAX_TOTAL_STEPS,
    MIN_BPM,
    MIN_OCTAVE,
    MIN_RETRAIN_MINUTES,
    MIN_TEMPERATURE,
    MIN_TOP_P,
    RETRAIN_PRESETS,
)
from lstmuse_core.music.formats import AUDIO_FORMATS, EXPORT_FORMATS, IMAGE_KINDS
from lstmuse_core.music.keys import MODES

Kind = Literal["text", "whole number", "number", "yes/no"]


@dataclass(frozen=True)
class OptionSpec:
    """One typed option: ``name`` as help texts show it, ``field`` of the request it sets.

    ``low``/``high`` bound numbers (inclusive); ``choices`` lists the only
    values allowed (empty: any value the request accepts); ``default`` is
    shown as typed; ``common`` options are the slash command's own parameters,
    the rest go in its free-text ``options:`` field.
    """

    name: str
    field: str
    kind: Kind
    help: str
    example: str
    default: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    common: bool = True
    required: bool = False

    @property
    def allowed(self) -> str:
        """What is allowed, in words: ``0.1-2``, ``mp3, ogg, wav or none``, ``yes or no``."""
        if self.choices:
            return f"{', '.join(self.choices[:-1])} or {self.choices[-1]}"
        if self.low is not None and self.high is not None:
            return f"{_number(self.low)}-{_number(self.high)}"
        if self.kind == "yes/no":
            return "yes or no"
        return self.kind

    def usage(self, markdown: bool = False) -> str:
        """One help line: ``temp (temperature, t): 0.1-2, default 1; randomness ... (temp=0.8)``.

        ``markdown``: names in backticks (Discord would read ``_`` as italics).
        """
        quote = "`" if markdown else ""
        names = f"{quote}{self.name}{quote}"
        if self.aliases:
            names += f" ({', '.join(quote + alias + quote for alias in self.aliases)})"
        default = ", required" if self.required else f", default {self.default}"
        return f"{names}: {self.allowed}{default if self.default or self.required else ''}; " + (
            f"{self.help} (e.g. {quote}{self.typed()}{quote})"
        )

    def typed(self) -> str:
        """The example as typed: ``seed="C4 D4 E4:2"`` (quoted when it has spaces)."""
        value = f'"{self.example}"' if " " in self.example else self.example
        return f"{self.name}={value}"


# fmt: off
MELODY_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(name="style", field="style", kind="text", default="folk", example="irish",
               help="the style's name; !styles lists them"),
    OptionSpec(name="temp", field="temperature", kind="number", default="the style's (0.8)",
               example="0.8",
               low=MIN_TEMPERATURE, high=MAX_TEMPERATURE, aliases=("temperature", "t"),
               help="randomness: lower is safer, higher is wilder"),
    OptionSpec(name="seed", field="seed_melody", kind="text", default="none",
               example="C4 D4 E4:2", aliases=("seed_melody",),
               help=f"the start: note names (C4:2) or symbols, at most {MAX_SEED_STEPS} 16ths"),
    OptionSpec(name="seed_bars", field="seed_bars", kind="whole number", default="all of it",
               example="2", low=1, high=MAX_BARS, common=False,
               help="keep only the seed's first bars (of meter, else 4/4), typed or a MIDI file"),
    OptionSpec(name="bars", field="bars", kind="whole number", default="until the song ends",
               example="8", low=1, high=MAX_BARS, aliases=("length",), help="bars after the seed"),
    OptionSpec(name="meter", field="time_signature", kind="text",
               default="drawn from the style's songs", example="6/8",
               aliases=("time_signature", "timesig"),
               help="the time signature: one the style knows (!styles)"),
    OptionSpec(name="mode", field="mode", kind="text", default="drawn from the style's songs",
               example="dorian", choices=MODES, help="the scale the melody is in"),
    OptionSpec(name="key", field="key", kind="text", default="the mode's white-key tonic",
               example="D", help="the key: D, Am, F#, Bb minor, D dorian, ..."),
    OptionSpec(name="bpm", field="bpm", kind="number", default="120", example="110",
               low=MIN_BPM, high=MAX_BPM, aliases=("tempo",),
               help="tempo in quarter notes a minute"),
    OptionSpec(name="instrument", field="instrument", kind="text", default="piano",
               example="flute", help="a General MIDI name or number 0-127"),
    OptionSpec(name="octave", field="octave", kind="whole number", default="0", example="-1",
               low=MIN_OCTAVE, high=MAX_OCTAVE, common=False,
               help="octaves up (or down) from where the instrument plays the melody at ease"),
    OptionSpec(name="count", field="count", kind="whole number", default="1", example="2",
               low=1, high=MAX_COUNT, aliases=("n",), help="how many melodies"),
    OptionSpec(name="random_seed", field="random_seed", kind="whole number", default="random",
               example="7", low=0, high=MAX_RANDOM_SEED, aliases=("rseed", "randomseed"),
               help="the same seed gives the same melody"),
    OptionSpec(name="steps", field="steps", kind="whole number", default=str(DEFAULT_STEPS),
               example="128", low=1, high=MAX_TOTAL_STEPS, common=False,
               help="most 16th notes when bars is not given (whole bars)"),
    OptionSpec(name="top_k", field="top_k", kind="whole number", default="0", example="8",
               low=0, high=MAX_TOP_K, aliases=("topk",), common=False,
               help="sample only the k likeliest symbols (0: all)"),
    OptionSpec(name="top_p", field="top_p", kind="number", default="1", example="0.9",
               low=MIN_TOP_P, high=1, aliases=("topp",), common=False,
               help="sample only the likeliest symbols up to this probability mass"),
    OptionSpec(name="audio", field="audio", kind="text", default="mp3", example="ogg",
               choices=AUDIO_FORMATS, common=False, help="the audio file's format"),
    OptionSpec(name="image", field="image", kind="text", default="pianoroll", example="score",
               choices=IMAGE_KINDS, common=False, help="the picture: piano roll or sheet music"),
    OptionSpec(name="export", field="export", kind="text", default="none", example="musicxml",
               choices=EXPORT_FORMATS, common=False,
               help="also a score file to open in MuseScore or another notation program"),
)

RETRAIN_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(name="style", field="style", kind="text", example="folk", required=True,
               help="the style to retrain (or to create from attached files)"),
    OptionSpec(name="epochs", field="epochs", kind="whole number", default="the preset's",
               example="30", low=1, high=MAX_RETRAIN_EPOCHS, help="most passes over the songs"),
    OptionSpec(name="minutes", field="minutes", kind="number", default="the preset's",
               example="20", low=MIN_RETRAIN_MINUTES, high=MAX_RETRAIN_MINUTES,
               help="most minutes of training"),
    OptionSpec(name="preset", field="preset", kind="text", default="default", example="tiny",
               choices=RETRAIN_PRESETS, help="the model size and training settings"),
    OptionSpec(name="force", field="force", kind="yes/no", default="no", example="yes",
               help="promote even if worse, or trained on other songs"),
)
# fmt: on


def _number(value: float) -> str:
    """2147483647, not 2.14748e+09; 0.1, not 0.1000000001."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def find_option(options: Sequence[OptionSpec], raw_name: str, raw_value: Any = "") -> OptionSpec:
    """The option typed as ``raw_name`` (any case, ``-`` or ``_``, an alias).

    An unknown name is refused in the same words by every command and front
    end: ``colour='blue' is not allowed: known options: style, temp, ...``.
    """
    name = raw_name.strip().lower().replace("-", "_")
    for spec in options:
        names = {spec.name, spec.field, *spec.aliases}
        if name in names or name.replace("_", "") in {n.replace("_", "") for n in names}:
            return spec
    raise unknown_option(options, raw_name, raw_value)


def option_fields(options: Sequence[OptionSpec], typed: Mapping[str, Any]) -> set[str]:
    """The request fields that typed ``name=value`` options set (``bpm``, ``temperature``, ...).

    Tells a default from a value the user gave: a MIDI seed's tempo applies
    only where no ``bpm`` was typed, even ``bpm=120``.
    """
    return {find_option(options, name, value).field for name, value in typed.items()}


def unknown_option(
    options: Sequence[OptionSpec], raw_name: str, raw_value: Any
) -> InvalidParameter:
    """The one refusal of an unknown option name, listing the known ones."""
    known = ", ".join(spec.name for spec in options)
    return InvalidParameter(raw_name, raw_value, f"known options: {known}")
