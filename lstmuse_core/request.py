"""`MelodyRequest`: one validated request for melodies, whatever the front end.

The Discord command, the console, the CLI and the queue payload all become
this frozen type, so validation happens in one place and every rejection
names the parameter, the value and what is allowed. Importing it is cheap
(no TensorFlow, no music21), so the bot can use it.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lstmuse_core.encoding import validate_melody
from lstmuse_core.errors import InvalidParameter
from lstmuse_core.keys import parse_key
from lstmuse_core.midi import parse_time_signature, resolve_instrument, steps_per_bar, validate_bpm
from lstmuse_core.render import AUDIO_FORMATS, IMAGE_KINDS
from lstmuse_core.seed_melody import parse_seed_melody

MIN_TEMPERATURE, MAX_TEMPERATURE = 0.1, 2.0
MAX_COUNT = 4
MAX_BARS = 64
MAX_STEPS = 1024
DEFAULT_STEPS = 256  # 16 bars of 4/4 at most, unless the model ends the song sooner
MAX_RANDOM_SEED = 2**31 - 1

# Names people type for the same option.
ALIASES = {
    "temp": "temperature",
    "t": "temperature",
    "length": "bars",
    "seed": "seed_melody",
    "tempo": "bpm",
    "n": "count",
    "rseed": "random_seed",
    "randomseed": "random_seed",
    "topk": "top_k",
    "topp": "top_p",
    "timesig": "time_signature",
    "meter": "time_signature",
}


@dataclass(frozen=True)
class MelodyRequest:
    """What to generate; see ``lstmuse generate --help`` for the meaning of each field.

    seed_melody is in the requested key (model symbols). ``bars`` fixes the
    length; otherwise up to ``steps`` 16th notes, ending where the model ends
    the song.
    """

    style: str = "folk"
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    seed_melody: tuple[str, ...] = ()
    bars: int | None = None
    steps: int | None = None
    key: str | None = None
    bpm: float = 120.0
    instrument: str = "piano"
    time_signature: str = "4/4"
    count: int = 1
    random_seed: int | None = None
    audio: str = "mp3"
    image: str = "pianoroll"

    def __post_init__(self) -> None:
        _check_range("temperature", self.temperature, MIN_TEMPERATURE, MAX_TEMPERATURE)
        _check_range("top_k", self.top_k, 0, 1000, integer=True)
        if not 0 < self.top_p <= 1:
            raise InvalidParameter("top_p", self.top_p, "a number above 0 and at most 1")
        _check_range("count", self.count, 1, MAX_COUNT, integer=True)
        if self.bars is not None:
            _check_range("bars", self.bars, 1, MAX_BARS, integer=True)
        if self.steps is not None:
            _check_range("steps", self.steps, 1, MAX_STEPS, integer=True)
        if self.random_seed is not None:
            _check_range("random_seed", self.random_seed, 0, MAX_RANDOM_SEED, integer=True)
        validate_bpm(self.bpm)
        resolve_instrument(self.instrument)
        parse_time_signature(self.time_signature)
        if self.key is not None:
            parse_key(self.key)
        validate_melody(self.seed_melody, parameter="seed")
        if self.audio not in AUDIO_FORMATS:
            raise InvalidParameter("audio", self.audio, f"one of {', '.join(AUDIO_FORMATS)}")
        if self.image not in IMAGE_KINDS:
            raise InvalidParameter("image", self.image, f"one of {', '.join(IMAGE_KINDS)}")

    @property
    def length(self) -> tuple[int, int]:
        """(most new steps, fewest new steps before the song may end)."""
        if self.bars is not None:
            steps = self.bars * max(1, round(steps_per_bar(self.time_signature)))
            return steps, steps
        return self.steps or DEFAULT_STEPS, 0

    @property
    def transposition(self) -> int:
        return parse_key(self.key).transposition if self.key else 0

    def with_random_seed(self) -> MelodyRequest:
        """This request with a drawn random seed if it has none (reported to the user)."""
        if self.random_seed is not None:
            return self
        return self.replace(random_seed=secrets.randbelow(MAX_RANDOM_SEED))

    def replace(self, **changes: Any) -> MelodyRequest:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["seed_melody"] = " ".join(self.seed_melody)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MelodyRequest:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidParameter(
                unknown[0], data[unknown[0]], f"known fields: {', '.join(sorted(known))}"
            )
        values = dict(data)
        values["seed_melody"] = tuple(str(values.get("seed_melody", "")).split())
        return cls(**values)

    @classmethod
    def from_options(cls, options: Mapping[str, str], **defaults: Any) -> MelodyRequest:
        """Build from typed ``name=value`` options (strings), as the chat front ends get them.

        Names are case-insensitive and accept aliases (``temp``, ``length``,
        ``seed``, ...); an unknown name is an error that lists the known ones.
        """
        values: dict[str, Any] = dict(defaults)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for raw_name, raw_value in options.items():
            name = raw_name.strip().lower().replace("-", "_")
            name = ALIASES.get(name.replace("_", ""), ALIASES.get(name, name))
            if name not in fields:
                raise InvalidParameter(
                    raw_name, raw_value, f"known options: {', '.join(option_names())}"
                )
            values[name] = _convert(name, str(raw_value).strip())
        return cls(**values)


def option_names() -> list[str]:
    """The typed option names, in a sensible order for help texts."""
    return [
        "style",
        "temp",
        "seed",
        "bars",
        "key",
        "bpm",
        "instrument",
        "count",
        "random_seed",
        "steps",
        "top_k",
        "top_p",
        "time_signature",
        "audio",
        "image",
    ]


_INTEGER_FIELDS = {"top_k", "bars", "steps", "count", "random_seed"}
_FLOAT_FIELDS = {"temperature", "top_p", "bpm"}


def _convert(name: str, text: str) -> Any:
    if name == "seed_melody":
        return tuple(parse_seed_melody(text))
    if name in _INTEGER_FIELDS:
        try:
            return int(text)
        except ValueError:
            raise InvalidParameter(name, text, "a whole number") from None
    if name in _FLOAT_FIELDS:
        try:
            return float(text)
        except ValueError:
            raise InvalidParameter(name, text, "a number") from None
    if name in ("style", "audio", "image"):
        return text.lower()
    return text


def _check_range(name: str, value: Any, low: float, high: float, *, integer: bool = False) -> None:
    kind = "a whole number" if integer else "a number"
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (integer and not isinstance(value, int))
    ):
        raise InvalidParameter(name, value, f"{kind} from {low:g} to {high:g}")
    if not low <= value <= high:
        raise InvalidParameter(name, value, f"{kind} from {low:g} to {high:g}")
