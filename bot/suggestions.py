"""What a slash command suggests as a member types: styles, meters, modes, keys, instruments.

Discord asks again at every keystroke and shows at most 25 suggestions;
what is typed is matched case-insensitively, by the start of any word.
Styles, their versions, meters and modes come from the published catalogue
(`lstmuse_core.jobs.catalogue`), so a member is offered only what the
models know: the meters and modes of the style already chosen in the same
command. A suggestion is a hint, not a rule: whatever is typed is
validated as always (`MelodyRequest`), so this module refuses nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lstmuse_core.jobs.catalogue import Catalogue, ModelVersion
from lstmuse_core.music.keys import MODES
from lstmuse_core.music.midi import INSTRUMENT_ALIASES, instrument_name
from lstmuse_core.music.pitch import MAJOR_TONIC_NAMES, MINOR_TONIC_NAMES

MAX_SUGGESTIONS = 25  # Discord shows no more
_WORD_BREAKS = re.compile(r"[\s()/,-]+")  # "Acoustic Guitar (nylon)", "6/8"


def matching(candidates: Iterable[str], typed: str) -> list[str]:
    """The candidates (once each, in order) with a word starting with each typed word."""
    return [c for c in dict.fromkeys(candidates) if _matches(c, typed)][:MAX_SUGGESTIONS]


def _matches(candidate: str, typed: str) -> bool:
    names = [*_WORD_BREAKS.split(candidate.lower()), candidate.lower()]
    return all(any(name.startswith(word) for name in names) for word in typed.lower().split())


def styles(catalogue: Catalogue, typed: str) -> list[str]:
    """The published styles, alphabetically."""
    return matching(sorted(catalogue), typed)


def versions(catalogue: Catalogue, style: str | None, typed: str) -> list[str]:
    """The versions kept for ``style``, newest first."""
    entry = catalogue.get((style or "").strip().lower())
    names = [version.version for version in entry.versions] if entry else []
    return matching(sorted(names, reverse=True), typed)


def _active_models(catalogue: Catalogue, style: str | None) -> list[ModelVersion]:
    """The chosen style's active model; every style's when none (or an unknown one) is chosen."""
    chosen = catalogue.get((style or "").strip().lower())
    entries = [chosen] if chosen is not None else list(catalogue.values())
    return [entry.active for entry in entries if entry.active is not None]


def meters(catalogue: Catalogue, style: str | None, typed: str) -> list[str]:
    """The meters the chosen style's model knows, commonest first."""
    return matching((m for model in _active_models(catalogue, style) for m in model.meters), typed)


def modes(catalogue: Catalogue, style: str | None, typed: str) -> list[str]:
    """The modes the chosen style's model knows, commonest first (every mode if unknown)."""
    known = [mode for model in _active_models(catalogue, style) for mode in model.modes]
    return matching(known or MODES, typed)


def keys(mode: str | None, typed: str) -> list[tuple[str, str]]:
    """(label, value) of the twelve keys: tonics in ``mode`` (``D dorian``), else major and
    minor (``D``, ``Dm``); spelled with the fewer accidentals."""
    if mode and mode.strip().lower() in MODES:
        mode = mode.strip().lower()
        names = MINOR_TONIC_NAMES if mode in ("minor", "dorian", "phrygian") else MAJOR_TONIC_NAMES
        labelled = {f"{tonic} {mode}": tonic for tonic in names}
    else:
        labelled = {
            **{f"{tonic} major": tonic for tonic in MAJOR_TONIC_NAMES},
            **{f"{tonic} minor": f"{tonic}m" for tonic in MINOR_TONIC_NAMES},
        }
    found = [(label, key) for label, key in labelled.items() if _matches(f"{label} {key}", typed)]
    return found[:MAX_SUGGESTIONS]


def instruments(typed: str) -> list[str]:
    """The short names people type (``flute``, ``fiddle``), then the 128 General MIDI names."""
    names = [*INSTRUMENT_ALIASES, *(instrument_name(program).lower() for program in range(128))]
    return matching(names, typed)
