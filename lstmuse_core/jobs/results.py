"""What a job returns: typed, frozen, validated results and their JSON form.

A worker's task returns ``result.to_json()``; a front end turns the JSON back
with ``from_json``, which checks every field (`MalformedResult` names the one
that is wrong). The in-process mode hands the same objects over directly.

- `MelodyResult`: one ``lstmuse.generate`` job, its request and its melodies
  (`GeneratedMelody`: symbols, random seed, key, meter, files by kind).
- `RetrainResult`: one ``lstmuse.retrain`` job's new version and its figures.
- `RollbackResult`: one ``lstmuse.rollback`` job's active version now.
- `HarmonizeResult`: one ``lstmuse.harmonize`` job's tune, chords and files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lstmuse_core.errors import LstmuseError
from lstmuse_core.jobs.json_form import (
    MalformedResult,
    flag,
    json_object,
    number,
    objects,
    optional_number,
    optional_text,
    text,
    texts,
    whole_number,
)
from lstmuse_core.limits import MAX_RANDOM_SEED
from lstmuse_core.music.form import TuneForm
from lstmuse_core.music.formats import EXPORT_FORMATS
from lstmuse_core.music.meter import Meter
from lstmuse_core.music.midi import step_seconds
from lstmuse_core.names import check_style_name, check_version_name
from lstmuse_core.request import HarmonizeRequest, MelodyRequest

# The order a reply posts them in; an export's kind is its format (musicxml, abc).
FILE_KINDS = ("midi", "audio", "image", *(kind for kind in EXPORT_FORMATS if kind != "none"))


@dataclass(frozen=True)
class GeneratedMelody:
    """One melody of a `MelodyResult`.

    symbols: one per 16th-note step, in the requested key, the request's seed
    melody included; files: artifact references by kind (``midi``, ``audio``,
    ``image``, an export's format; a kind the request turned off is absent); problems: what the
    renderer could not do (e.g. no sheet music), for the member to read; chords: the
    melody's chords as (start step, steps, symbol), empty unless the request asked for them;
    form: its parts (`TuneForm`; the symbols are the tune as played), None for one line.
    """

    symbols: tuple[str, ...]
    random_seed: int
    key: str
    meter: Meter
    files: Mapping[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    chords: tuple[tuple[int, int, str], ...] = ()
    form: TuneForm | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbols", tuple(self.symbols))
        if self.form is not None and self.form.played_steps != len(self.symbols):
            raise MalformedResult(
                "form", f"plays {self.form.played_steps} steps, not the {len(self.symbols)} given"
            )
        object.__setattr__(self, "chords", tuple(tuple(chord) for chord in self.chords))
        object.__setattr__(self, "files", dict(self.files))
        object.__setattr__(self, "problems", tuple(self.problems))
        if isinstance(self.random_seed, bool) or not 0 <= self.random_seed <= MAX_RANDOM_SEED:
            raise MalformedResult(
                "random_seed", f"is {self.random_seed!r}, not 0-{MAX_RANDOM_SEED}"
            )
        unknown = sorted(set(self.files) - set(FILE_KINDS))
        if unknown:
            raise MalformedResult(f"files.{unknown[0]}", f"is not one of {', '.join(FILE_KINDS)}")

    @property
    def steps(self) -> int:
        """The melody's length in 16th-note steps, seed included."""
        return len(self.symbols)

    def seconds(self, bpm: float) -> float:
        """How long the melody plays at ``bpm`` quarter notes a minute."""
        return self.steps * step_seconds(bpm)

    def to_json(self) -> dict[str, Any]:
        return {
            "symbols": " ".join(self.symbols),
            "steps": self.steps,
            "random_seed": self.random_seed,
            "key": self.key,
            "meter": self.meter.text,
            "files": dict(self.files),
            "problems": list(self.problems),
            "chords": [list(chord) for chord in self.chords],
            **({"form": self.form.to_json()} if self.form is not None else {}),
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "melody") -> GeneratedMelody:
        fields = ("symbols", "steps", "random_seed", "key", "meter", "files", "problems")
        data = json_object(data, where, fields, ("chords", "form"))
        symbols = tuple(text(data, "symbols", where).split())
        if whole_number(data, "steps", where) != len(symbols):
            raise MalformedResult(f"{where}.steps", f"is {data['steps']}, not {len(symbols)}")
        files = json_object(data["files"], f"{where}.files", (), FILE_KINDS)
        random_seed = whole_number(data, "random_seed", where)
        key, meter = text(data, "key", where), text(data, "meter", where)
        references = {kind: text(files, kind, f"{where}.files") for kind in files}
        problems = texts(data, "problems", where)
        chords = (
            tuple(_chord(value, at) for value, at in objects(data, "chords", where))
            if "chords" in data
            else ()
        )
        form = _form(data["form"], f"{where}.form", meter) if "form" in data else None
        return _built(
            where,
            lambda: cls(
                symbols, random_seed, key, Meter.parse(meter), references, problems, chords, form
            ),
        )


@dataclass(frozen=True)
class MelodyResult:
    """A finished ``lstmuse.generate`` job: the request as it ran and its melodies.

    The request has its random seed drawn and its temperature resolved (the
    style's default when the member gave none).
    """

    job_id: str
    style: str
    model_version: str
    request: MelodyRequest
    melodies: tuple[GeneratedMelody, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "melodies", tuple(self.melodies))
        if not self.job_id:
            raise MalformedResult("job_id", "is empty")
        check_style_name(self.style)
        check_version_name(self.model_version)
        if self.request.temperature is None:
            raise MalformedResult("request", "has no temperature (it is resolved before sampling)")

    @property
    def temperature(self) -> float:
        assert self.request.temperature is not None  # checked when made
        return self.request.temperature

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "style": self.style,
            "model_version": self.model_version,
            "request": self.request.to_json(),
            "melodies": [melody.to_json() for melody in self.melodies],
        }

    @classmethod
    def from_json(cls, data: Any) -> MelodyResult:
        data = json_object(data, "", ("job_id", "style", "model_version", "request", "melodies"))
        job_id, style = text(data, "job_id", ""), text(data, "style", "")
        model_version = text(data, "model_version", "")
        request_json = data["request"]
        if not isinstance(request_json, Mapping):
            raise MalformedResult("request", f"is {type(request_json).__name__}, not an object")
        request = _built("request", lambda: MelodyRequest.from_json(request_json))
        melodies = tuple(
            GeneratedMelody.from_json(melody, at) for melody, at in objects(data, "melodies", "")
        )
        return _built("", lambda: cls(job_id, style, model_version, request, melodies))


@dataclass(frozen=True)
class RetrainResult:
    """A finished ``lstmuse.retrain`` job: the version it wrote and whether it became active.

    note: why it was (not) promoted, for the admin; stopped_by: ``early
    stopping``, ``time budget`` or ``max epochs``; test figures on the
    held-out songs, in bits per 16th-note symbol (lower is better).
    """

    style: str
    version: str
    promoted: bool
    note: str
    epochs: int
    stopped_by: str
    test_bits_per_symbol: float
    test_accuracy: float
    ngram_bits_per_symbol: float | None = None

    def __post_init__(self) -> None:
        check_style_name(self.style)
        check_version_name(self.version)
        if self.epochs < 0:
            raise MalformedResult("epochs", f"is {self.epochs}, not 0 or more")
        if not 0 <= self.test_accuracy <= 1:
            raise MalformedResult("test_accuracy", f"is {self.test_accuracy}, not 0-1")

    def to_json(self) -> dict[str, Any]:
        return {
            "style": self.style,
            "version": self.version,
            "promoted": self.promoted,
            "note": self.note,
            "epochs": self.epochs,
            "stopped_by": self.stopped_by,
            "test_bits_per_symbol": self.test_bits_per_symbol,
            "test_accuracy": self.test_accuracy,
            "ngram_bits_per_symbol": self.ngram_bits_per_symbol,
        }

    @classmethod
    def from_json(cls, data: Any) -> RetrainResult:
        required = (
            "style",
            "version",
            "promoted",
            "note",
            "epochs",
            "stopped_by",
            "test_bits_per_symbol",
            "test_accuracy",
        )
        data = json_object(data, "", required, ("ngram_bits_per_symbol",))
        values = (
            text(data, "style", ""),
            text(data, "version", ""),
            flag(data, "promoted", ""),
            text(data, "note", ""),
            whole_number(data, "epochs", ""),
            text(data, "stopped_by", ""),
            number(data, "test_bits_per_symbol", ""),
            number(data, "test_accuracy", ""),
            optional_number(data, "ngram_bits_per_symbol", ""),
        )
        return _built("", lambda: cls(*values))


@dataclass(frozen=True)
class RollbackResult:
    """A finished ``lstmuse.rollback`` job.

    was: the version active before; history: the versions active before
    this one, oldest first (a further rollback returns to the last of them).
    """

    style: str
    active_version: str
    was: str | None
    history: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "history", tuple(self.history))
        check_style_name(self.style)
        for version in (self.active_version, *([self.was] if self.was else []), *self.history):
            check_version_name(version)

    def to_json(self) -> dict[str, Any]:
        return {
            "style": self.style,
            "active_version": self.active_version,
            "was": self.was,
            "history": list(self.history),
        }

    @classmethod
    def from_json(cls, data: Any) -> RollbackResult:
        data = json_object(data, "", ("style", "active_version", "was", "history"))
        style, active = text(data, "style", ""), text(data, "active_version", "")
        was, history = optional_text(data, "was", ""), texts(data, "history", "")
        return _built("", lambda: cls(style, active, was, history))


@dataclass(frozen=True)
class HarmonizeResult:
    """A finished ``lstmuse.harmonize`` job: the tune as asked, its chords and its files.

    key: the key it was harmonized in (the file's, or the one its notes suggest);
    chords: (start step, steps, symbol), as a `GeneratedMelody`'s; files:
    artifact references by kind (`FILE_KINDS`); problems: what the renderer
    could not make, for the member to read.
    """

    job_id: str
    request: HarmonizeRequest
    key: str
    chords: tuple[tuple[int, int, str], ...]
    files: Mapping[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "chords", tuple(tuple(chord) for chord in self.chords))
        object.__setattr__(self, "files", dict(self.files))
        object.__setattr__(self, "problems", tuple(self.problems))
        if not self.job_id:
            raise MalformedResult("job_id", "is empty")
        unknown = sorted(set(self.files) - set(FILE_KINDS))
        if unknown:
            raise MalformedResult(f"files.{unknown[0]}", f"is not one of {', '.join(FILE_KINDS)}")

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "request": self.request.to_json(),
            "key": self.key,
            "chords": [list(chord) for chord in self.chords],
            "files": dict(self.files),
            "problems": list(self.problems),
        }

    @classmethod
    def from_json(cls, data: Any) -> HarmonizeResult:
        data = json_object(data, "", ("job_id", "request", "key", "chords", "files", "problems"))
        job_id, key = text(data, "job_id", ""), text(data, "key", "")
        request_json = data["request"]
        if not isinstance(request_json, Mapping):
            raise MalformedResult("request", f"is {type(request_json).__name__}, not an object")
        request = _built("request", lambda: HarmonizeRequest.from_json(request_json))
        chords = tuple(_chord(value, at) for value, at in objects(data, "chords", ""))
        files = json_object(data["files"], "files", (), FILE_KINDS)
        references = {kind: text(files, kind, "files") for kind in files}
        problems = texts(data, "problems", "")
        return _built("", lambda: cls(job_id, request, key, chords, references, problems))


JobResult = MelodyResult | RetrainResult | RollbackResult | HarmonizeResult


T = TypeVar("T")


def _form(data: Any, where: str, meter: str) -> TuneForm:
    """A melody's `TuneForm` from its JSON form (its bar from the melody's meter)."""
    data = json_object(data, where, ("form", "part_bars", "pickup"))
    form, part_bars = text(data, "form", where), whole_number(data, "part_bars", where)
    pickup = flag(data, "pickup", where)
    return _built(
        where,
        lambda: TuneForm.from_json(
            {"form": form, "part_bars": part_bars, "pickup": pickup}, Meter.parse(meter).bar_steps
        ),
    )


def _built(where: str, build: Callable[[], T]) -> T:
    """``build()`` of values read from JSON at ``where`` ("": the top level).

    What the type refuses (a bad name, a meter, a seed out of range) becomes a
    `MalformedResult` that names the place.
    """
    try:
        return build()
    except MalformedResult as error:
        if not where:
            raise
        raise MalformedResult(f"{where}.{error.where}", error.problem) from None
    except (LstmuseError, TypeError, ValueError) as error:
        raise MalformedResult(where or "the result", f"is refused: {error}") from error


def _chord(value: Any, where: str) -> tuple[int, int, str]:
    """One chord of a melody's JSON: ``[start step, steps, symbol]``."""
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise MalformedResult(where, f"is {value!r:.60}, not [start, steps, symbol]")
    start, steps, symbol = value
    if any(isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in (start, steps)):
        raise MalformedResult(where, f"is {value!r:.60}: start and steps are whole numbers")
    if not isinstance(symbol, str) or not 0 < len(symbol) <= 8:
        raise MalformedResult(where, f"is {value!r:.60}: the symbol is a short string")
    return start, steps, symbol
