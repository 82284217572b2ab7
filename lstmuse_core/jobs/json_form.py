"""Reading the JSON form of the contract's types, naming the field of anything wrong.

A result crosses Redis as JSON; the reader checks every field's JSON type
before it becomes a typed value, so a worker and a bot of different versions
fail with one line that names the field (``melodies[0].random_seed``), never
with a ``KeyError`` three calls later.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

from lstmuse_core.errors import LstmuseError


class MalformedResult(LstmuseError):
    """A job result (or the catalogue) whose JSON does not match its type."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"a job result from the worker is malformed: {where} {problem}")
        self.where = where
        self.problem = problem


def json_object(
    data: Any, where: str, required: Collection[str], optional: Collection[str] = ()
) -> Mapping[str, Any]:
    """``data`` as an object with every ``required`` field and nothing unknown."""
    if not isinstance(data, Mapping):
        raise MalformedResult(where, f"is {type(data).__name__}, not an object")
    missing = [name for name in required if name not in data]
    if missing:
        raise MalformedResult(_at(where, missing[0]), "is missing")
    unknown = sorted(set(data) - set(required) - set(optional))
    if unknown:
        raise MalformedResult(_at(where, str(unknown[0])), "is not a known field")
    return data


def text(data: Mapping[str, Any], name: str, where: str) -> str:
    value = data[name]
    if not isinstance(value, str):
        raise MalformedResult(_at(where, name), f"is {value!r:.60}, not a string")
    return value


def optional_text(data: Mapping[str, Any], name: str, where: str) -> str | None:
    return None if data.get(name) is None else text(data, name, where)


def whole_number(data: Mapping[str, Any], name: str, where: str) -> int:
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedResult(_at(where, name), f"is {value!r:.60}, not a whole number")
    return value


def optional_whole_number(data: Mapping[str, Any], name: str, where: str) -> int | None:
    return None if data.get(name) is None else whole_number(data, name, where)


def number(data: Mapping[str, Any], name: str, where: str) -> float:
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MalformedResult(_at(where, name), f"is {value!r:.60}, not a finite number")
    return float(value)


def optional_number(data: Mapping[str, Any], name: str, where: str) -> float | None:
    return None if data.get(name) is None else number(data, name, where)


def flag(data: Mapping[str, Any], name: str, where: str) -> bool:
    value = data[name]
    if not isinstance(value, bool):
        raise MalformedResult(_at(where, name), f"is {value!r:.60}, not true or false")
    return value


def texts(data: Mapping[str, Any], name: str, where: str) -> tuple[str, ...]:
    values = data[name]
    if not isinstance(values, list | tuple):
        raise MalformedResult(_at(where, name), f"is {values!r:.60}, not a list")
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise MalformedResult(f"{_at(where, name)}[{index}]", f"is {value!r:.60}, not a string")
    return tuple(values)


def objects(data: Mapping[str, Any], name: str, where: str) -> list[tuple[Any, str]]:
    """Each element of the list ``name`` with the path that names it."""
    values = data[name]
    if not isinstance(values, list | tuple):
        raise MalformedResult(_at(where, name), f"is {values!r:.60}, not a list")
    return [(value, f"{_at(where, name)}[{index}]") for index, value in enumerate(values)]


def _at(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name
