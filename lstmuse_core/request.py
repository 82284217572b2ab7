"""`MelodyRequest`: one validated request for melodies, whatever the front end.

The Discord command, the console, the CLI and the queue payload all become
this frozen type, so validation happens in one place and every rejection
names the parameter, the value and what is allowed. Importing it is cheap
(no TensorFlow, no music21), so the bot can use it. `HarmonizeRequest` is a
tune read from a member's file, to harmonize and perform.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.limits import (
    DEFAULT_STEPS,
    MAX_AUDIO_SECONDS,
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
from lstmuse_core.music.abc_seed import AbcSeed
from lstmuse_core.music.encoding import validate_melody
from lstmuse_core.music.form import FORM_NONE, Form, form_text
from lstmuse_core.music.form_tables import part_bars, style_forms
from lstmuse_core.music.formats import (
    AUDIO_BYTES_PER_SECOND,
    AUDIO_FORMATS,
    BACKINGS,
    DEFAULT_MAX_BYTES,
    EXPORT_BYTES_ALLOWANCE,
    EXPORT_FORMATS,
    IMAGE_KINDS,
    TAIL_SECONDS,
)
from lstmuse_core.music.keys import named_mode, parse_key, parse_mode
from lstmuse_core.music.meter import COMMON_TIME, MAX_BAR_STEPS, Meter
from lstmuse_core.music.midi import (
    MidiSeed,
    instrument_name,
    resolve_instrument,
    step_seconds,
    validate_bpm,
)
from lstmuse_core.music.tempo import Tempo, melody_tempo, slowest_tempo
from lstmuse_core.names import check_style_name
from lstmuse_core.options import (
    HARMONIZE_OPTIONS,
    MELODY_OPTIONS,
    RETRAIN_OPTIONS,
    typed_values,
)

if TYPE_CHECKING:
    from lstmuse_core.music.tune_file import Tune

COST_METER = COMMON_TIME  # the bar a request without a meter is costed at (see `length`)
IMAGE_BYTES_ALLOWANCE = 512 * 1024  # a piano roll is ~100 KB, a one-page score ~300 KB
# A tune without a tempo plays at a song's (a walking quarter, a dotted lilt): a style with
# no dance table of its own (`lstmuse_core.music.tempo.default_tempo`).
TUNE_TEMPO_STYLE = "folk"


@dataclass(frozen=True)
class MelodyRequest:
    """What to generate; see ``lstmuse generate --help`` for the meaning of each field.

    seed_melody is in the requested key (model symbols); ``seed_bars`` keeps
    only its first bars (of the request's meter, else of `COST_METER`), and
    the request holds the seed already cut. ``bars`` fixes the length (bars
    after the seed); otherwise up to ``steps`` 16th notes in whole bars,
    ending where the model ends the song. ``temperature``, ``meter`` and
    ``mode`` left as None are the style's: its default temperature, and a
    meter and mode drawn from its songs for each melody; ``bpm`` (quarter
    notes a minute) left as None is the style's tempo in each melody's meter
    (`lstmuse_core.music.tempo.melody_tempo`). ``meter`` is a
    `Meter`, parsed where the text enters (the option table, `from_json`).
    ``octave`` moves the melody by octaves from where its instrument plays it
    at ease (`lstmuse_core.music.register`); ``export`` adds a score file
    for notation programs (``musicxml``) or an ABC tune (``abc``); ``chords``
    harmonizes each melody (`lstmuse_core.music.harmony`) for the reply's text
    and the scores; ``backing`` plays those chords under it (guitar, piano,
    accordion; `lstmuse_core.music.harmony.accompaniment`) in the audio and as
    the MIDI file's second track: it harmonizes the melody too, without
    putting the chart in the reply unless ``chords`` asks for it. ``form``: the
    tune's parts (``AABB``; `lstmuse_core.music.form` has the grammar), ``none``
    for one line, None for a form drawn per melody from the style's tunes
    (`lstmuse_core.music.form_tables`); with a form, ``bars`` is one part's
    length (the style's for that form if not given) and the seed opens the first part.
    """

    style: str = "folk"
    temperature: float | None = None
    top_k: int = 0
    top_p: float = 1.0
    seed_melody: tuple[str, ...] = ()
    bars: int | None = None
    steps: int | None = None
    key: str | None = None
    bpm: float | None = None
    instrument: str = "piano"
    meter: Meter | None = None
    mode: str | None = None
    count: int = 1
    random_seed: int | None = None
    audio: str = "mp3"
    image: str = "pianoroll"
    octave: int = 0
    seed_bars: int | None = None
    export: str = "none"
    chords: bool = False
    backing: str = "guitar"  # heard by default: README "Chords" has the measured cost
    form: str | None = None

    def __post_init__(self) -> None:
        if self.temperature is not None:
            _check_range("temperature", self.temperature, MIN_TEMPERATURE, MAX_TEMPERATURE)
        _check_range("top_k", self.top_k, 0, MAX_TOP_K, integer=True)
        _check_range("top_p", self.top_p, MIN_TOP_P, 1)
        _check_range("count", self.count, 1, MAX_COUNT, integer=True)
        if self.bars is not None:
            _check_range("bars", self.bars, 1, MAX_BARS, integer=True)
        if self.steps is not None:
            _check_range("steps", self.steps, 1, MAX_TOTAL_STEPS, integer=True)
        if self.random_seed is not None:
            _check_range("random_seed", self.random_seed, 0, MAX_RANDOM_SEED, integer=True)
        check_style_name(self.style)
        # The front ends' boundary for bpm; `RenderOptions` is the renderer's,
        # and nothing further down checks it again. None: the style's tempo
        # for each melody's meter (`lstmuse_core.music.tempo`).
        if self.bpm is not None:
            validate_bpm(self.bpm)
        # Stored as the General MIDI name: a typed name of any length becomes
        # one short canonical name before it reaches a file, a title or an embed.
        object.__setattr__(self, "instrument", instrument_name(resolve_instrument(self.instrument)))
        if self.meter is not None:
            if not isinstance(self.meter, Meter):
                raise TypeError(f"meter is a Meter (Meter.parse its text), not {self.meter!r}")
            if not self.meter.fits_model:
                raise InvalidParameter(
                    "meter", self.meter.text, f"bars of at most {MAX_BAR_STEPS} 16th notes"
                )
        _check_range("octave", self.octave, MIN_OCTAVE, MAX_OCTAVE, integer=True)
        if self.mode is not None:
            object.__setattr__(self, "mode", parse_mode(self.mode))
        if self.key is not None:
            parse_key(self.key, self.mode)
            # "Am" or "D dorian" names the mode; a bare tonic ("D") leaves it to `mode`.
            object.__setattr__(self, "mode", self.mode or named_mode(self.key))
        if isinstance(self.seed_melody, AbcSeed):
            self._read_abc_seed(self.seed_melody)
        if self.seed_bars is not None:
            _check_range("seed_bars", self.seed_bars, 1, MAX_BARS, integer=True)
            # Cut at a bar line: the seed starts on one, so it keeps whole bars.
            bar = (self.meter or COST_METER).bar_steps
            object.__setattr__(self, "seed_melody", tuple(self.seed_melody[: self.seed_bars * bar]))
        if len(self.seed_melody) > MAX_SEED_STEPS:
            raise InvalidParameter(
                "seed",
                f"{len(self.seed_melody)} steps",
                f"a seed melody of at most {MAX_SEED_STEPS} 16th notes",
            )
        validate_melody(self.seed_melody, parameter="seed")
        if self.audio not in AUDIO_FORMATS:
            raise InvalidParameter("audio", self.audio, f"one of {', '.join(AUDIO_FORMATS)}")
        if self.image not in IMAGE_KINDS:
            raise InvalidParameter("image", self.image, f"one of {', '.join(IMAGE_KINDS)}")
        if self.export not in EXPORT_FORMATS:
            raise InvalidParameter("export", self.export, f"one of {', '.join(EXPORT_FORMATS)}")
        if not isinstance(self.chords, bool):
            raise InvalidParameter("chords", self.chords, "yes or no")
        if self.backing not in BACKINGS:
            raise InvalidParameter("backing", self.backing, f"one of {', '.join(BACKINGS)}")
        if self.form is not None:
            object.__setattr__(self, "form", form_text(self.form))
        self._check_cost()

    @property
    def parsed_form(self) -> Form | None:
        """The asked form (None: one line, or a form still to draw: see ``form``)."""
        return Form.parse(self.form) if self.form not in (None, FORM_NONE) else None

    @property
    def part_bars(self) -> int:
        """One part's bars with a form: ``bars``, else the style's for the form."""
        return self.bars if self.bars is not None else part_bars(self.style, str(self.form))

    def _check_form_cost(self, form: Form) -> None:
        """Refuse a form whose parts (written once, a pickup bar before them) exceed the
        step limit, or whose first part the seed fills; name ``bars`` (or ``form``)."""
        bar = (self.meter or COST_METER).bar_steps
        part = self.part_bars
        written = (form.sampled_bars(part) + 1) * bar
        parameter, value = ("bars", self.bars) if self.bars is not None else ("form", self.form)
        if written > MAX_TOTAL_STEPS:
            raise InvalidParameter(
                parameter,
                value,
                f"at most {MAX_TOTAL_STEPS} 16th notes of parts written once; {form.text} "
                f"of {part}-bar parts writes {written} in {self.meter or COST_METER} "
                "(ask for fewer bars a part, or fewer parts)",
            )
        if -(-len(self.seed_melody) // bar) >= part:
            raise InvalidParameter(
                "seed",
                f"{len(self.seed_melody)} steps",
                f"a seed shorter than the first part ({part} bars of "
                f"{self.meter or COST_METER}: it opens the part)",
            )
        check_files_cost(
            (form.played_bars(part) + 1) * bar,
            self.costed_bpm,
            shown_bpm=self.bpm if self.bpm is not None else f"the style's ({self.costed_bpm:g})",
            audio=self.audio,
            export=self.export,
            shorter="ask for fewer bars a part",
        )

    def affordable_forms(self, meter: Meter) -> dict[str, int]:
        """The style's forms (`style_forms`, with their counts) this request can afford in
        ``meter``: those a melody whose ``form`` is left open draws from."""
        affordable = {}
        for form, count in style_forms(self.style).items():
            try:
                self.replace(meter=meter, form=form)
            except InvalidParameter:
                continue
            affordable[form] = count
        return affordable

    def _check_cost(self) -> None:
        """Refuse a request whose melodies would be too long, or whose files too large."""
        form = self.parsed_form
        if form is not None:
            self._check_form_cost(form)
            return
        most_new_steps = self.length[0]
        total = len(self.seed_melody) + most_new_steps
        if total > MAX_TOTAL_STEPS:
            parameter, value = (
                ("bars", self.bars) if self.bars is not None else ("steps", self.steps)
            )
            raise InvalidParameter(
                parameter,
                value,
                f"at most {MAX_TOTAL_STEPS} 16th notes per melody, seed included; this asks for "
                f"{total} ({len(self.seed_melody)} of seed + {most_new_steps} new in "
                f"{self.meter or COST_METER})",
            )
        check_files_cost(
            total,
            self.costed_bpm,
            shown_bpm=self.bpm if self.bpm is not None else f"the style's ({self.costed_bpm:g})",
            audio=self.audio,
            export=self.export,
            shorter="ask for fewer bars",
        )

    @property
    def costed_bpm(self) -> float:
        """The tempo (quarter notes a minute) the audio length is costed at: the asked
        ``bpm``, else the style's slowest default in the request's meter (in any common
        meter before one is drawn; `affordable_meters` then keeps those it can afford)."""
        if self.bpm is not None:
            return self.bpm
        return slowest_tempo(self.style, [self.meter] if self.meter is not None else [])

    @property
    def length(self) -> tuple[int, int]:
        """(most new steps, fewest new steps before the song may end).

        Without a meter, a bar is costed as `COST_METER`'s; the meters drawn
        for the request are then those it can afford (`affordable_meters`).
        """
        if self.bars is not None:
            bar = (self.meter or COST_METER).bar_steps
            seed_bars = -(-len(self.seed_melody) // bar)
            steps = (seed_bars + self.bars) * bar - len(self.seed_melody)
            return steps, steps
        return self.steps or DEFAULT_STEPS, 0

    def affordable_meters(self, meters: Iterable[Meter]) -> list[Meter]:
        """Those of ``meters`` within this request's cost limits (for the meter draw)."""
        affordable = []
        for meter in meters:
            try:
                self.replace(meter=meter)
            except InvalidParameter:
                continue
            affordable.append(meter)
        return affordable

    def _read_abc_seed(self, seed: AbcSeed) -> None:
        """A seed typed in ABC becomes symbols once the key is known: its own ``K:``, else
        the request's key's signature, reads its accidentals; the key and tempo it states
        are the request's unless ``key``/``bpm`` were given, as for a seed file."""
        typed_key = parse_key(self.key, self.mode) if self.key is not None else None
        read = seed.read(typed_key)
        object.__setattr__(self, "seed_melody", read.symbols)
        key = read.key_in_mode(self.mode)
        if self.key is None and key is not None:
            object.__setattr__(self, "key", key.name)
            object.__setattr__(self, "mode", self.mode or key.mode)
        if self.bpm is None and read.bpm is not None:
            validate_bpm(read.bpm)
            object.__setattr__(self, "bpm", read.bpm)

    def transposition_for(self, mode: str) -> int:
        """Semitones from the model's scale to this request's key, for a melody in ``mode``."""
        return parse_key(self.key, mode).transposition if self.key else 0

    def melody_seeds(self) -> list[int]:
        """The random seed of each of the ``count`` melodies: the request's seed, then +1, ...

        Wraps around below `MAX_RANDOM_SEED`, so every melody's seed is itself
        a valid ``random_seed`` that reproduces that melody alone.
        """
        if self.random_seed is None:
            raise ValueError("draw the random seed first (MelodyRequest.with_random_seed)")
        return [(self.random_seed + i) % (MAX_RANDOM_SEED + 1) for i in range(self.count)]

    def with_random_seed(self) -> MelodyRequest:
        """This request with a drawn random seed if it has none (reported to the user)."""
        if self.random_seed is not None:
            return self
        return self.replace(random_seed=secrets.randbelow(MAX_RANDOM_SEED + 1))

    def replace(self, **changes: Any) -> MelodyRequest:
        return dataclasses.replace(self, **changes)

    def with_seed_file(self, seed: MidiSeed, given: Collection[str] = ()) -> MelodyRequest:
        """This request starting with a MIDI file's melody, in the file's key and tempo.

        ``given``: the fields the user set (`lstmuse_core.options.option_fields`);
        a key or bpm they gave wins over the file's. A mode they gave reads the
        file's signature in that mode (`MidiSeed.key_in_mode`). ``seed_bars``
        cuts the file's melody as it cuts a typed one.
        """
        changes: dict[str, Any] = {"seed_melody": seed.symbols}
        key = seed.key_in_mode(self.mode)
        if "key" not in given and key is not None:
            changes["key"] = key.name
        if "bpm" not in given and seed.bpm is not None:
            changes["bpm"] = seed.bpm
        return self.replace(**changes)

    def to_json(self) -> dict[str, Any]:
        """Its JSON form: the seed as one string, the meter as text (``"6/8"``)."""
        data = dataclasses.asdict(self)
        data["seed_melody"] = " ".join(self.seed_melody)
        data["meter"] = self.meter.text if self.meter is not None else None
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MelodyRequest:
        values = _known_fields(cls, data)
        values["seed_melody"] = tuple(str(values.get("seed_melody", "")).split())
        if values.get("meter") is not None:
            values["meter"] = Meter.parse(values["meter"], "meter")
        return cls(**values)

    @classmethod
    def from_options(cls, options: Mapping[str, str], **defaults: Any) -> MelodyRequest:
        """Build from typed ``name=value`` options (strings), as the chat front ends get them.

        Names are case-insensitive and accept aliases (``temp``, ``length``,
        ``seed``, ...); an unknown name is an error that lists the known ones.
        """
        return cls(**{**defaults, **typed_values(MELODY_OPTIONS, options)})


@dataclass(frozen=True)
class RetrainRequest:
    """What an admin asked to retrain, validated before anything is uploaded or queued.

    ``epochs``/``minutes`` cap the run (None: the preset's own caps); ``force``
    promotes the new version even if it is worse or trained on other data.
    """

    style: str
    preset: str = "default"
    epochs: int | None = None
    minutes: float | None = None
    force: bool = False

    def __post_init__(self) -> None:
        check_style_name(self.style)
        if self.preset not in RETRAIN_PRESETS:
            raise InvalidParameter("preset", self.preset, f"one of {', '.join(RETRAIN_PRESETS)}")
        if self.epochs is not None:
            _check_range("epochs", self.epochs, 1, MAX_RETRAIN_EPOCHS, integer=True)
        if self.minutes is not None:
            _check_range("minutes", self.minutes, MIN_RETRAIN_MINUTES, MAX_RETRAIN_MINUTES)
        if not isinstance(self.force, bool):
            raise InvalidParameter("force", self.force, "yes or no")

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RetrainRequest:
        """The request from its `to_json` form, as a queued retrain carries it."""
        return cls(**_known_fields(cls, data))

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> RetrainRequest:
        """Build from typed ``name=value`` options; unknown names and non-numbers are named."""
        values = typed_values(RETRAIN_OPTIONS, options)
        if "style" not in values:
            raise InvalidParameter("style", "", "a style name, e.g. retrain style=folk epochs=30")
        return cls(**values)


@dataclass(frozen=True)
class HarmonizeRequest:
    """A tune to harmonize and perform, read from a member's file (`with_tune`).

    ``symbols``: the tune's melody, one symbol per 16th note, a pickup as
    leading rests, in its own key (``key``, None: none was found) and register;
    ``meter`` its `Meter`; ``bpm`` quarter notes a minute (None: a song's
    tempo for the meter, `tempo`); ``name`` the file's name and ``part`` the
    part harmonized, both for the reply and the title. The output options are
    the melody's (`lstmuse_core.options.HARMONIZE_OPTIONS`); ``backing`` plays the
    chords under the tune. A request without symbols has no tune yet: the options
    were read before the file.
    """

    symbols: tuple[str, ...] = ()
    meter: Meter = COMMON_TIME
    key: str | None = None
    bpm: float | None = None
    name: str = ""
    part: str = ""
    instrument: str = "piano"
    audio: str = "mp3"
    image: str = "pianoroll"
    export: str = "none"
    backing: str = "guitar"  # as a melody's: HARMONIZE_OPTIONS shows its row's default

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbols", tuple(self.symbols))
        if not isinstance(self.meter, Meter):
            raise TypeError(f"meter is a Meter (Meter.parse its text), not {self.meter!r}")
        if len(self.symbols) > MAX_TOTAL_STEPS:
            raise InvalidParameter(
                "tune",
                self.name or f"{len(self.symbols)} steps",
                f"a tune of at most {MAX_TOTAL_STEPS} 16th notes",
                hint=f"it has {len(self.symbols)}",
            )
        validate_melody(self.symbols, parameter="tune")
        if self.key is not None:
            parse_key(self.key)
        if self.bpm is not None:
            validate_bpm(self.bpm)
        object.__setattr__(self, "instrument", instrument_name(resolve_instrument(self.instrument)))
        for name, allowed in (
            ("audio", AUDIO_FORMATS),
            ("image", IMAGE_KINDS),
            ("export", EXPORT_FORMATS),
            ("backing", BACKINGS),
        ):
            if getattr(self, name) not in allowed:
                raise InvalidParameter(name, getattr(self, name), f"one of {', '.join(allowed)}")
        if len(self.name) > 100 or len(self.part) > 100:
            raise InvalidParameter(
                "tune", self.name[:100], "file and part names of at most 100 characters"
            )
        if self.symbols:
            check_files_cost(
                len(self.symbols),
                self.tempo.quarter_bpm,
                shown_bpm=self.bpm if self.bpm is not None else f"the tune's ({self.tempo.text})",
                audio=self.audio,
                export=self.export,
                shorter="send a shorter tune",
            )

    @property
    def tempo(self) -> Tempo:
        """What the tune plays at: its ``bpm``, else a song's tempo in its meter."""
        return melody_tempo(TUNE_TEMPO_STYLE, self.meter, self.bpm)

    def with_tune(self, tune: Tune, name: str, given: Collection[str] = ()) -> HarmonizeRequest:
        """This request for ``tune`` (read from the file ``name`` by
        `lstmuse_core.music.tune_file`), in its own key, meter, pickup and register;
        at its tempo unless the member gave ``bpm`` (``given``: the fields they set,
        `lstmuse_core.options.option_fields`)."""
        melody = tune.melody
        changes: dict[str, Any] = {
            "symbols": melody.symbols,
            "meter": melody.meter,
            "key": melody.key.name if melody.key is not None else None,
            "name": name[:100],
            "part": tune.source[:100],
        }
        if "bpm" not in given and tune.bpm is not None:
            changes["bpm"] = min(MAX_BPM, max(MIN_BPM, tune.bpm))  # as a MIDI seed's is clamped
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """Its JSON form: the symbols as one string, the meter as text (``"6/8"``)."""
        data = dataclasses.asdict(self)
        data["symbols"] = " ".join(self.symbols)
        data["meter"] = self.meter.text
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HarmonizeRequest:
        values = _known_fields(cls, data)
        values["symbols"] = tuple(str(values.get("symbols", "")).split())
        values["meter"] = Meter.parse(str(values.get("meter", COMMON_TIME.text)), "meter")
        return cls(**values)

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> HarmonizeRequest:
        """The output options typed ``name=value`` (`HARMONIZE_OPTIONS`); no tune yet."""
        return cls(**typed_values(HARMONIZE_OPTIONS, options))


def check_files_cost(
    steps: int, bpm: float, *, shown_bpm: Any, audio: str, export: str, shorter: str
) -> None:
    """Refuse ``steps`` 16th notes at ``bpm`` whose audio or files would be too large.

    shown_bpm: the bpm as the member set it (or where it came from), for the
    refusal; shorter: how this request could be shorter (``ask for fewer bars``).
    """
    seconds = steps * step_seconds(bpm) + TAIL_SECONDS
    if audio != "none" and seconds > MAX_AUDIO_SECONDS:
        raise InvalidParameter(
            "bpm",
            shown_bpm,
            f"audio of at most {MAX_AUDIO_SECONDS:g} s per melody; {steps} 16th notes at "
            f"{bpm:g} bpm last {seconds:.0f} s "
            f"(raise bpm, {shorter} or audio=none)",
        )
    audio_bytes = seconds * AUDIO_BYTES_PER_SECOND[audio]
    other_bytes = IMAGE_BYTES_ALLOWANCE + (EXPORT_BYTES_ALLOWANCE if export != "none" else 0)
    if audio_bytes + other_bytes > DEFAULT_MAX_BYTES:
        raise InvalidParameter(
            "audio",
            audio,
            f"files of at most {DEFAULT_MAX_BYTES // 2**20} MiB per melody; {seconds:.0f} s "
            f"of {audio} is about {audio_bytes / 2**20:.1f} MiB "
            f"(use audio=mp3 or ogg{', or export=none' if export != 'none' else ''})",
        )


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


def _known_fields(kind: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` as keyword arguments of the dataclass ``kind``; an unknown field is named."""
    known = {field.name for field in dataclasses.fields(kind)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidParameter(
            unknown[0], data[unknown[0]], f"known fields: {', '.join(sorted(known))}"
        )
    return dict(data)
