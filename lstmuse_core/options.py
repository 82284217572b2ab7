"""The options people type, ``name=value``: names, aliases, types, ranges, help, examples.

One table per request type (`MELODY_OPTIONS`, `RETRAIN_OPTIONS`, and
`HARMONIZE_OPTIONS` made of melody rows) is the
single source of what a front end may offer: the Discord text and slash
commands, the console, ``lstmuse generate``'s flags and every help text are
built from it (the command table in ``bot/commands.py`` adds the commands
themselves), and a typed value becomes the request's by its row's ``kind``
(`typed_values`). The split is by dependency: these facts are about
*requests*, which the core validates and the CLI and worker share, so they
live in the core and must not import ``bot``; which command offers them, and
how Discord shows them, is the bot's business.

Ranges come from `lstmuse_core.limits`, which the request's validation reads
too, so a help text can never promise more than validation allows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from lstmuse_core.errors import InvalidParameter, SeedMelodyError
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
from lstmuse_core.music.abc_seed import AbcSeed, looks_like_abc
from lstmuse_core.music.form import form_text
from lstmuse_core.music.formats import AUDIO_FORMATS, BACKINGS, EXPORT_FORMATS, IMAGE_KINDS
from lstmuse_core.music.keys import MODES
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.seed_melody import parse_seed_melody

Kind = Literal["text", "whole number", "number", "yes/no"]


@dataclass(frozen=True)
class OptionSpec:
    """One typed option: ``name`` as help texts show it, ``field`` of the request it sets.

    ``low``/``high`` bound numbers (inclusive); ``choices`` lists the only
    values allowed (empty: any value the request accepts); ``default`` is
    shown as typed; ``common`` options are the slash command's own parameters,
    the rest go in its free-text ``options:`` field. ``convert`` turns a
    ``text`` option's typed value into the field's (lower-cased, a parsed
    seed melody); numbers and yes/no are converted by their ``kind``.
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
    convert: Callable[[str], Any] | None = None

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

    def value(self, text: str) -> Any:
        """The field's value for ``text`` as typed; a non-number is refused by the field's name."""
        text = str(text).strip()
        if self.kind == "whole number":
            return _whole_number(self.field, text)
        if self.kind == "number":
            return _finite_number(self.field, text)
        if self.kind == "yes/no":
            if text.lower() not in _YES + _NO:
                raise InvalidParameter(self.field, text, "yes or no")
            return text.lower() in _YES
        return self.convert(text) if self.convert else text

    @property
    def flags(self) -> tuple[str, ...]:
        """Its command-line spellings: ``--temp``, ``--temperature``, ``-t`` (``_`` as ``-``)."""
        spellings = dict.fromkeys((self.name, *self.aliases, self.field))
        return tuple(
            f"-{name}" if len(name) == 1 else f"--{name.replace('_', '-')}" for name in spellings
        )


def _seed_symbols(text: str) -> tuple[str, ...] | AbcSeed:
    """Note names or symbols as symbols; failing those, ABC (``|:GABc dedB|``), read by
    the request, which knows the key its accidentals are in (`MelodyRequest`). Note
    names win where both read (``Bb3 Eb4``, ``C D E``)."""
    try:
        return tuple(parse_seed_melody(text))
    except SeedMelodyError:
        if looks_like_abc(text):
            return AbcSeed(text)
        raise


# fmt: off
MELODY_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(name="style", field="style", kind="text", default="folk", example="irish",
               convert=str.lower, help="the style's name; !styles lists them"),
    OptionSpec(name="temp", field="temperature", kind="number", default="the style's (0.8)",
               example="0.8",
               low=MIN_TEMPERATURE, high=MAX_TEMPERATURE, aliases=("temperature", "t"),
               help="randomness: lower is safer, higher is wilder"),
    OptionSpec(name="seed", field="seed_melody", kind="text", default="none",
               example="C4 D4 E4:2", aliases=("seed_melody",), convert=_seed_symbols,
               help=f"the start: note names (C4:2), ABC (GABc dedB) or symbols, "
                    f"at most {MAX_SEED_STEPS} 16ths"),
    OptionSpec(name="seed_bars", field="seed_bars", kind="whole number", default="all of it",
               example="2", low=1, high=MAX_BARS, common=False,
               help="keep only the seed's first bars (of meter, else 4/4), typed or a MIDI file"),
    OptionSpec(name="bars", field="bars", kind="whole number", default="until the song ends",
               example="8", low=1, high=MAX_BARS, aliases=("length",),
               help="bars after the seed melody; with a form, the bars of one part"),
    OptionSpec(name="form", field="form", kind="text", default="drawn from the style's tunes",
               example="AABB", convert=form_text,
               help="the parts in play order: AABB, AAB, ABA, A1A2BB (first and second "
                    "endings) or none (one line)"),
    OptionSpec(name="meter", field="meter", kind="text",
               default="drawn from the style's songs", example="6/8",
               aliases=("time_signature", "timesig"), convert=Meter.parse,
               help="the time signature: one the style knows (!styles)"),
    OptionSpec(name="mode", field="mode", kind="text", default="drawn from the style's songs",
               example="dorian", choices=MODES, convert=str.lower,
               help="the scale the melody is in"),
    OptionSpec(name="key", field="key", kind="text", default="the mode's white-key tonic",
               example="D", help="the key: D, Am, F#, Bb minor, D dorian, ..."),
    OptionSpec(name="bpm", field="bpm", kind="number",
               default="the style's for the meter (a jig: dotted quarter 110)", example="110",
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
               help="most 16th notes after the seed melody when bars is not given (whole bars)"),
    OptionSpec(name="top_k", field="top_k", kind="whole number", default="0", example="8",
               low=0, high=MAX_TOP_K, aliases=("topk",), common=False,
               help="sample only the k likeliest symbols (0: all)"),
    OptionSpec(name="top_p", field="top_p", kind="number", default="1", example="0.9",
               low=MIN_TOP_P, high=1, aliases=("topp",), common=False,
               help="sample only the likeliest symbols up to this probability mass"),
    OptionSpec(name="audio", field="audio", kind="text", default="mp3", example="ogg",
               choices=AUDIO_FORMATS, common=False, convert=str.lower,
               help="the audio file's format"),
    OptionSpec(name="image", field="image", kind="text", default="pianoroll", example="score",
               choices=IMAGE_KINDS, common=False, convert=str.lower,
               help="the picture: piano roll or sheet music"),
    OptionSpec(name="export", field="export", kind="text", default="none", example="musicxml",
               choices=EXPORT_FORMATS, common=False, convert=str.lower,
               aliases=("score_format",),
               help="also a score to open in MuseScore (musicxml) or a tune in ABC (abc)"),
    OptionSpec(name="chords", field="chords", kind="yes/no", default="no", example="yes",
               common=False,
               help="chord symbols to play along: in the reply, the ABC and the scores"),
    OptionSpec(name="backing", field="backing", kind="text", default="guitar", example="accordion",
               choices=BACKINGS, common=False, convert=str.lower,
               help="bass and chords under the melody: in the audio and as the MIDI's 2nd track"),
)

RETRAIN_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(name="style", field="style", kind="text", example="folk", required=True,
               convert=str.lower, help="the style to retrain (or to create from attached files)"),
    OptionSpec(name="epochs", field="epochs", kind="whole number", default="the preset's",
               example="30", low=1, high=MAX_RETRAIN_EPOCHS, help="most passes over the songs"),
    OptionSpec(name="minutes", field="minutes", kind="number", default="the preset's",
               example="20", low=MIN_RETRAIN_MINUTES, high=MAX_RETRAIN_MINUTES,
               help="most minutes of training"),
    OptionSpec(name="preset", field="preset", kind="text", default="default", example="tiny",
               choices=RETRAIN_PRESETS, convert=str.lower,
               help="the model size and training settings"),
    OptionSpec(name="force", field="force", kind="yes/no", default="no", example="yes",
               help="promote even if worse, or trained on other songs"),
)
# fmt: on


def _melody_row(name: str, **changes: Any) -> OptionSpec:
    """The `MELODY_OPTIONS` row called ``name`` (``changes``: what differs for another command)."""
    spec = next(spec for spec in MELODY_OPTIONS if spec.name == name)
    return replace(spec, **changes) if changes else spec


# A harmonized tune is performed as a melody is, its chords played by a backing if
# asked: the same rows, so the help, the ranges and the slash parameters cannot drift
# apart. Only bpm's default differs: a tune plays at its file's tempo.
HARMONIZE_OPTIONS: tuple[OptionSpec, ...] = (
    _melody_row("instrument"),
    _melody_row("bpm", default="the file's, else a song's for its meter (a quarter of 100)"),
    *(_melody_row(name) for name in ("backing", "audio", "image", "export")),
)


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


def typed_values(options: Sequence[OptionSpec], typed: Mapping[str, Any]) -> dict[str, Any]:
    """Typed ``name=value`` options as request fields and values, each converted by its row.

    ``{"temp": "0.8", "seed": "C4 D4"}`` -> ``{"temperature": 0.8, "seed_melody": ("60", ...)}``;
    ranges are the request's to check, not this conversion's.
    """
    return {
        (spec := find_option(options, name, value)).field: spec.value(value)
        for name, value in typed.items()
    }


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


_YES, _NO = ("yes", "true", "1", "on"), ("no", "false", "0", "off")


def _whole_number(name: str, text: str) -> int:
    # int() of a 5,000-digit string is refused by Python itself; so is ours, sooner.
    if len(text) > 20:
        raise InvalidParameter(name, text, "a whole number")
    try:
        return int(text)
    except ValueError:
        raise InvalidParameter(name, text, "a whole number") from None


def _finite_number(name: str, text: str) -> float:
    try:
        value = float(text) if len(text) <= 40 else float("nan")
    except ValueError:
        raise InvalidParameter(name, text, "a number") from None
    if value != value or value in (float("inf"), float("-inf")):  # NaN, infinities
        raise InvalidParameter(name, text, "a finite number")
    return value
