"""Promotion: a new version becomes active only if it is shown to be at least as good.

The policy, apart from the storage it acts on (`lstmuse_core.model.bundle`):
candidate and incumbent are scored on the *same* songs, the candidate's
held-out test songs minus those the incumbent trained or validated on and
those either vocabulary cannot encode (`lstmuse_core.model.evaluate`). The
candidate's test split is the one set guaranteed unseen by the candidate;
comparing each on its own split let an easy dataset win. A candidate trained
on a different dataset than the active one is never promoted without
``force``: a lower loss on different music says nothing about the style.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lstmuse_core.errors import BundleError
from lstmuse_core.model.bundle import (
    FORCED,
    PROMOTED,
    Bundle,
    activate,
    active_version,
    load_bundle,
    record_refusal,
    style_folder,
    style_lock,
)
from lstmuse_core.model.evaluate import candidate_test_songs, compare_on_same_songs
from lstmuse_core.music.corpus import Song
from lstmuse_core.names import check_style_name, check_version_name

__all__ = ["promote", "same_dataset"]


def same_dataset(incumbent: Mapping[str, Any], candidate: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether two bundles' configs name the same dataset (the content fingerprint of their
    songs: ids and symbols), and what each was, in words."""
    old = dict(incumbent.get("dataset") or {})
    new = dict(candidate.get("dataset") or {})

    def described(info: Mapping[str, Any]) -> str:
        return f"{info.get('songs_kept', '?')} songs from {info.get('source', '?')}"

    if old.get("fingerprint") and old.get("fingerprint") == new.get("fingerprint"):
        return True, f"same dataset (fingerprint {str(new['fingerprint'])[:12]})"
    return False, f"a different dataset ({described(new)}; the active one: {described(old)})"


def promote(
    bundle: Bundle,
    *,
    force: bool = False,
    models_dir: Path | None = None,
    held_out_songs: Mapping[str, Song] | None = None,
) -> tuple[bool, str]:
    """Make ``bundle`` active unless (not forced) it is not shown to be at least as good.

    ``held_out_songs``: song id -> `Song`, the candidate's held-out test songs;
    read from its recorded dataset when not given (see the module docstring).
    Returns whether it was promoted and why, in words for the admin. Every
    decision, refusals included, is appended to the style's history.
    """
    style = check_style_name(bundle.path.parent.name)
    version = check_version_name(bundle.path.name)
    if bundle.style != style:
        raise BundleError(f"{bundle.path} says it is style {bundle.style!r}, not {style!r}")
    folder = style_folder(style, models_dir or bundle.path.parent.parent)
    if (folder / version).resolve() != bundle.path.resolve():
        raise BundleError(f"{bundle.path} is not {style}/{version} under {folder.parent}")
    with style_lock(folder):
        current = active_version(style, folder.parent)
        if current is None or current == version:
            activate(style, version, folder, FORCED if force else PROMOTED, "first version")
            return True, f"{version} is now active (the first model of {style})"
        decision = _decide(bundle, folder / current, force, held_out_songs)
        if not decision.promote:
            record_refusal(folder, version, current, decision.note, decision.details)
            return False, decision.note
        action = FORCED if force else PROMOTED
        activate(style, version, folder, action, decision.note, decision.details)
        return True, decision.note


@dataclass(frozen=True)
class _Decision:
    promote: bool
    note: str
    details: dict[str, Any]


def _decide(
    candidate: Bundle,
    incumbent_path: Path,
    force: bool,
    held_out_songs: Mapping[str, Song] | None,
) -> _Decision:
    new, old = candidate.version, incumbent_path.name
    use_force = " (use force to promote it anyway)"
    try:
        incumbent = load_bundle(incumbent_path)
    except BundleError as error:
        note = f"the active {old} cannot be loaded ({error})"
        if force:
            return _Decision(True, f"{new} is now active, forced (was {old}; {note})", {})
        return _Decision(False, f"kept {old}, {new} not compared: {note}{use_force}", {})
    same, dataset_note = same_dataset(incumbent.config_json, candidate.config_json)
    details: dict[str, Any] = {"same_dataset": same, "dataset": dataset_note}
    songs = held_out_songs if held_out_songs is not None else candidate_test_songs(candidate)
    comparison = compare_on_same_songs(candidate, incumbent, songs) if songs is not None else None
    if comparison is None or comparison.songs == 0:
        why = (
            f"{new}'s held-out songs are not available here"
            if comparison is None
            else f"none of {new}'s {comparison.offered} held-out songs can be scored by both"
            f" ({comparison.describe_skipped()})"
        )
        compared = f"no comparison: {why}"
    else:
        details.update(comparison.to_json())
        compared = comparison.describe(new, old)
    if force:
        what = "" if same else f"; trained on {dataset_note}"
        return _Decision(
            True, f"{new} is now active, forced (was {old}; {compared}{what})", details
        )
    if not same:
        return _Decision(
            False,
            f"kept {old}: {new} was trained on {dataset_note}, which is never promoted "
            f"without force; {compared}{use_force}",
            details,
        )
    if comparison is None or comparison.songs == 0:
        return _Decision(False, f"kept {old}: {compared}{use_force}", details)
    if comparison.candidate.bits_per_symbol > comparison.incumbent.bits_per_symbol:
        return _Decision(False, f"kept {old}, it is better: {compared}{use_force}", details)
    return _Decision(True, f"{new} is now active (was {old}): {compared}", details)
