"""The style catalogue: styles, active versions and their metrics, as JSON in Redis.

Workers publish it (at start and after every retrain or rollback, see
`lstmuse_core.runners.catalogue`); the bot reads it without importing
TensorFlow or even lstmuse_core's model code.
A catalogue is ``{style name: StyleEntry}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lstmuse_core.jobs.json_form import (
    json_object,
    objects,
    optional_number,
    optional_text,
    optional_whole_number,
    text,
    texts,
)
from lstmuse_core.jobs.keys import CATALOGUE_KEY

__all__ = [
    "CATALOGUE_KEY",
    "Catalogue",
    "ModelVersion",
    "StyleEntry",
    "catalogue_from_json",
    "catalogue_to_json",
    "read_catalogue",
]


@dataclass(frozen=True)
class ModelVersion:
    """One version of a style's model; held-out figures in bits per 16th-note symbol.

    error: why the bundle could not be read (then the figures are None).
    """

    version: str
    preset: str | None = None
    bits_per_symbol: float | None = None
    accuracy: float | None = None
    ngram_bits_per_symbol: float | None = None
    trained_at: str | None = None
    songs: int | None = None
    error: str | None = None
    meters: tuple[str, ...] = ()  # the time signatures the model knows, commonest first
    modes: tuple[str, ...] = ()  # the modes it knows, commonest first

    def to_json(self) -> dict[str, Any]:
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in vars(self).items()
            if value is not None and value != ()
        }

    @classmethod
    def from_json(cls, data: Any, where: str) -> ModelVersion:
        optional = (
            "preset",
            "bits_per_symbol",
            "accuracy",
            "ngram_bits_per_symbol",
            "trained_at",
            "songs",
            "error",
            "meters",
            "modes",
        )
        data = json_object(data, where, ("version",), optional)
        return cls(
            text(data, "version", where),
            optional_text(data, "preset", where),
            optional_number(data, "bits_per_symbol", where),
            optional_number(data, "accuracy", where),
            optional_number(data, "ngram_bits_per_symbol", where),
            optional_text(data, "trained_at", where),
            optional_whole_number(data, "songs", where),
            optional_text(data, "error", where),
            texts(data, "meters", where) if "meters" in data else (),
            texts(data, "modes", where) if "modes" in data else (),
        )


@dataclass(frozen=True)
class StyleEntry:
    """One style: what it is, which version is active, every version kept."""

    description: str
    active_version: str | None
    versions: tuple[ModelVersion, ...] = ()

    @property
    def active(self) -> ModelVersion | None:
        return next((v for v in self.versions if v.version == self.active_version), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "active_version": self.active_version,
            "versions": [version.to_json() for version in self.versions],
        }

    @classmethod
    def from_json(cls, data: Any, where: str) -> StyleEntry:
        data = json_object(data, where, (), ("description", "active_version", "versions"))
        return cls(
            optional_text(data, "description", where) or "",
            optional_text(data, "active_version", where),
            tuple(
                ModelVersion.from_json(version, at)
                for version, at in (objects(data, "versions", where) if "versions" in data else [])
            ),
        )


Catalogue = dict[str, StyleEntry]


def catalogue_to_json(catalogue: Catalogue) -> dict[str, Any]:
    return {style: entry.to_json() for style, entry in catalogue.items()}


def catalogue_from_json(data: Any) -> Catalogue:
    """The typed catalogue; `MalformedResult` names the field that is wrong."""
    styles = json_object(data, "catalogue", (), data.keys() if isinstance(data, dict) else ())
    return {
        str(style): StyleEntry.from_json(entry, f"catalogue.{style}")
        for style, entry in styles.items()
    }


def read_catalogue(client: Any) -> Catalogue:
    """The last published catalogue ({} before any worker published one)."""
    raw = client.get(CATALOGUE_KEY)
    return catalogue_from_json(json.loads(raw)) if raw else {}
