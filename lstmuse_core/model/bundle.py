"""Versioned model bundles: ``trained_models/<style>/<version>/`` + ``ACTIVE``.

A bundle alone rebuilds and runs the model: ``model.keras`` (Keras 3 format),
``weights.npz`` (the same weights for the sampler, which runs without Keras:
`lstmuse_core.model.weights`), ``vocab.json`` (symbols in index order),
``config.json`` (model and training hyper-parameters, dataset and its
fingerprint, split seed) and
``metrics.json`` (held-out loss, accuracy, sample statistics). Versions are
written to a temporary folder and renamed into place; ``ACTIVE`` is replaced
atomically afterwards, so a reader never sees half a bundle and a crash
mid-write leaves the active model as it was.

Every function here that takes a style or a version takes a *name* and
passes it through `lstmuse_core.names` before it touches the file system;
a bundle *path* is accepted only by `bundle_from_path`, which only the CLI
uses (``lstmuse generate --style PATH``).

Each style folder keeps ``HISTORY.jsonl``, one JSON line per change of
``ACTIVE`` or refused promotion (version, previous, when, action, note).
Rollback walks it back (see `roll_back`). Changes of ``ACTIVE`` and of the
history happen under one lock per style (``.lock``, ``flock``), so a
promotion and a rollback never interleave.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from lstmuse_core.errors import BundleError, InvalidParameter
from lstmuse_core.model.conditioning import Conditioning
from lstmuse_core.model.network import ModelConfig
from lstmuse_core.model.weights import (
    MODEL_FILE,
    WEIGHTS_FILE,
    NetworkWeights,
    file_sha256,
    read_weights,
    write_weights,
)
from lstmuse_core.music.encoding import Vocabulary
from lstmuse_core.names import check_style_name, check_version_name, is_version_name

__all__ = [
    "ACTIVE_FILE",
    "BUNDLE_FILES",
    "HISTORY_FILE",
    "Bundle",
    "HistoryEntry",
    "activate",
    "active_version",
    "bundle_folder",
    "bundle_from_path",
    "default_models_dir",
    "history",
    "load_bundle",
    "record_refusal",
    "resolve_bundle",
    "roll_back",
    "set_active",
    "style_folder",
    "style_lock",
    "trained_styles",
    "versions",
    "write_bundle",
]

BUNDLE_FILES = (MODEL_FILE, "vocab.json", "config.json", "metrics.json")
# Each test song's digest as read for training (`lstmuse_core.model.held_out`); optional.
TEST_SONGS_FILE = "test_songs.json"
# 2: the network reads meter, mode, bar position, bars remaining and lookbacks.
BUNDLE_FORMAT = 2
ACTIVE_FILE = "ACTIVE"
HISTORY_FILE = "HISTORY.jsonl"
LOCK_FILE = ".lock"

# History actions. Those that make a version active mark it as known-good.
PROMOTED, FORCED, SET, ROLLED_BACK, REFUSED = "promoted", "forced", "set", "rolled back", "refused"
ACTIVATING = (PROMOTED, FORCED, SET, ROLLED_BACK)

# A calibrated offset to the triplet marker's logit (`triplet_calibration`): its key in
# config.json and its bound, e**3, twenty times the marker's odds.
TRIPLET_BIAS_KEY = "triplet_bias"
MAX_TRIPLET_BIAS = 3.0


def default_models_dir() -> Path:
    """``trained_models/`` next to the package: the committed bundles.

    ``LSTMUSE_MODELS_DIR`` is read by the process's settings, and the CLI, the
    worker and the bot pass the folder in; library code reads no environment.
    """
    return Path(__file__).resolve().parents[2] / "trained_models"


def style_folder(style: str, models_dir: Path | None) -> Path:
    """``<models_dir>/<style>`` for a checked style name (never a path)."""
    return (models_dir or default_models_dir()) / check_style_name(style)


@dataclass(frozen=True)
class Bundle:
    """A validated model bundle on disk; the Keras model loads on first use."""

    path: Path

    @property
    def style(self) -> str:
        return str(self.config_json.get("style", self.path.parent.name))

    @property
    def version(self) -> str:
        return self.path.name

    @cached_property
    def vocabulary(self) -> Vocabulary:
        return Vocabulary.load(self.path / "vocab.json")

    @cached_property
    def config_json(self) -> dict[str, Any]:
        return dict(json.loads((self.path / "config.json").read_text(encoding="utf-8")))

    @cached_property
    def model_config(self) -> ModelConfig:
        return ModelConfig.from_json(self.config_json["model"])

    @cached_property
    def conditioning(self) -> Conditioning:
        """The style's meters and modes and the network's inputs (`conditioning`)."""
        return Conditioning.from_json(self.config_json["conditioning"])

    @property
    def default_temperature(self) -> float:
        """The temperature a request without one samples at (chosen by ear, per style)."""
        return float(self.config_json.get("default_temperature", 1.0))

    @property
    def triplet_bias(self) -> float:
        """The offset to the triplet marker's logit its calibration measured (0: none;
        `lstmuse_core.model.triplet_calibration`)."""
        bias = self.config_json.get(TRIPLET_BIAS_KEY, 0.0)
        if (
            isinstance(bias, bool)
            or not isinstance(bias, int | float)
            or not abs(bias) <= MAX_TRIPLET_BIAS
        ):
            raise BundleError(
                f"model bundle {str(self.path)!r}: config.json's triplet_bias {bias!r} is not "
                f"a number from -{MAX_TRIPLET_BIAS:g} to {MAX_TRIPLET_BIAS:g} "
                "(`lstmuse calibrate` measures it again)"
            )
        return float(bias)

    @cached_property
    def metrics(self) -> dict[str, Any]:
        return dict(json.loads((self.path / "metrics.json").read_text(encoding="utf-8")))

    def load_model(self) -> Any:
        """The Keras model (imports Keras: training and the held-out evaluation only)."""
        import keras

        try:
            model = keras.saving.load_model(self.path / MODEL_FILE, compile=False)
        except Exception as error:
            raise BundleError(f"{self.path}/{MODEL_FILE} cannot be loaded: {error}") from error
        finite = all(np.isfinite(keras.ops.convert_to_numpy(w)).all() for w in model.weights)
        self._check_network(MODEL_FILE, model.output_shape[-1], finite)
        return model

    def sampler_weights(self) -> NetworkWeights:
        """The network's arrays from ``weights.npz``, checked against ``model.keras``.

        What every generating process reads (no Keras). A missing, unreadable
        or stale file (one written for another ``model.keras``) is refused by
        name with the command that writes it.
        """
        path = self.path / WEIGHTS_FILE
        fix = f"write it from {MODEL_FILE} with `lstmuse export-weights --style {self.path}`"
        if not path.is_file():
            raise BundleError(f"{path} is missing (the sampler reads the network from it): {fix}")
        try:
            stored = read_weights(path)
        except (KeyError, ValueError, OSError) as error:
            raise BundleError(f"{path} cannot be read ({error}): {fix}") from error
        if stored.model_sha256 != file_sha256(self.path / MODEL_FILE):
            raise BundleError(
                f"{path} was written for another {MODEL_FILE} (its checksum differs): {fix}"
            )
        self._check_network(WEIGHTS_FILE, stored.weights.symbols, stored.weights.all_finite())
        return stored.weights

    def export_weights(self) -> Path:
        """Write ``weights.npz`` from ``model.keras`` (imports Keras); returns its path."""
        return write_weights(self.path, NetworkWeights.from_keras(self.load_model()))

    def _check_network(self, file: str, symbols: int, finite: bool) -> None:
        """The network predicts one logit per symbol of vocab.json, from finite weights."""
        vocab_size = len(self.vocabulary)
        if symbols != vocab_size:
            raise BundleError(
                f"{self.path}/{file}: the network predicts {symbols} symbols "
                f"but vocab.json has {vocab_size}"
            )
        # A NaN or infinite weight would make every draw meaningless, not an error.
        if not finite:
            raise BundleError(f"{self.path}/{file} has weights that are not finite numbers")


def load_bundle(path: Path) -> Bundle:
    """Open and validate a bundle folder; the error names what is wrong.

    Internal: callers build ``path`` from checked names. A path a user typed
    goes through `bundle_from_path`.
    """
    if not path.is_dir():
        raise BundleError(f"model bundle {str(path)!r} does not exist")
    missing = [name for name in BUNDLE_FILES if not (path / name).is_file()]
    if missing:
        raise BundleError(f"model bundle {str(path)!r} lacks {', '.join(missing)}")
    bundle = Bundle(path)
    try:
        vocabulary = bundle.vocabulary
        config = bundle.config_json
        bundle.metrics  # noqa: B018 - parse now, so a broken file is reported here
    except (ValueError, OSError) as error:
        raise BundleError(f"model bundle {str(path)!r}: {error}") from error
    if config.get("format") != BUNDLE_FORMAT:
        raise BundleError(
            f"model bundle {str(path)!r} is in format {config.get('format', 1)}; this LSTMuse "
            f"reads format {BUNDLE_FORMAT} (networks told the meter, mode and bar position): "
            f"retrain the style, e.g. `lstmuse train --style {path.parent.name}`"
        )
    for key in ("model", "style", "vocab_size", "conditioning"):
        if key not in config:
            raise BundleError(f"model bundle {str(path)!r}: config.json lacks {key!r}")
    if config["vocab_size"] != len(vocabulary):
        raise BundleError(
            f"model bundle {str(path)!r}: config.json says {config['vocab_size']} "
            f"symbols, vocab.json has {len(vocabulary)}"
        )
    try:
        bundle.model_config  # noqa: B018
        bundle.conditioning  # noqa: B018
    except (TypeError, KeyError, InvalidParameter) as error:
        raise BundleError(f"model bundle {str(path)!r}: bad model config: {error}") from error
    bundle.triplet_bias  # noqa: B018 - a bad calibration is reported here, not mid-sampling
    return bundle


def bundle_from_path(path: str | Path) -> Bundle:
    """A bundle folder given as a path: for the CLI's ``--style PATH`` only.

    Front ends and tasks never call this: they pass style names to
    `resolve_bundle` / `bundle_folder`, which refuse anything but a name.
    """
    folder = Path(path).expanduser()
    if not (folder / "config.json").is_file():
        raise BundleError(f"{str(path)!r} is not a model bundle folder (no config.json)")
    return load_bundle(folder.resolve())


def versions(style: str, models_dir: Path | None = None) -> list[str]:
    """The style's bundle versions, oldest first."""
    folder = style_folder(style, models_dir)
    if not folder.is_dir():
        return []
    found = [p.name for p in folder.iterdir() if p.is_dir() and is_version_name(p.name)]
    return sorted(found, key=lambda v: int(v[1:]))


def active_version(style: str, models_dir: Path | None = None) -> str | None:
    marker = style_folder(style, models_dir) / ACTIVE_FILE
    try:
        text = marker.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if text and not is_version_name(text):
        raise BundleError(f"{marker} names {text[:40]!r}, which is not a version")
    return text or None


def trained_styles(models_dir: Path | None = None) -> list[str]:
    """Styles with an active bundle (folders whose names are not style names are ignored)."""
    root = models_dir or default_models_dir()
    if not root.is_dir():
        return []
    return sorted(
        p.name for p in root.iterdir() if (p / ACTIVE_FILE).is_file() and _is_style_name(p.name)
    )


def _is_style_name(name: str) -> bool:
    try:
        check_style_name(name)
    except InvalidParameter:
        return False
    return True


def bundle_folder(style: str, models_dir: Path | None = None, version: str | None = None) -> Path:
    """The folder of a style's active (or given) version; names only, never a path.

    Only names are checked here; `load_bundle` reads and validates the files.
    """
    folder = style_folder(style, models_dir)
    if version is not None:
        check_version_name(version)
    root = folder.parent
    chosen = version or active_version(style, root)
    if chosen is None:
        known = trained_styles(root)
        raise InvalidParameter(
            "style", style, f"trained styles are {', '.join(known) or 'none yet'}"
        )
    if chosen not in versions(style, root):
        raise InvalidParameter(
            "version",
            chosen,
            f"versions of {style} are {', '.join(versions(style, root)) or 'none'}",
        )
    return folder / chosen


def resolve_bundle(
    style: str, models_dir: Path | None = None, version: str | None = None
) -> Bundle:
    """A style's active (or given) version, validated. Names only: see `bundle_from_path`."""
    return load_bundle(bundle_folder(style, models_dir, version))


def write_bundle(
    style: str,
    model: Any,
    vocabulary: Vocabulary,
    config: dict[str, Any],
    metrics: dict[str, Any],
    models_dir: Path | None = None,
    test_songs: Mapping[str, str] | None = None,
) -> Bundle:
    """Write a new version atomically (not yet active) and return it.

    ``test_songs``: each test song's digest as read for training (`held_out.song_digest`),
    kept as ``test_songs.json`` so a later reader can tell which read differently.
    """
    folder = style_folder(style, models_dir)
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=folder))
    staging.chmod(0o755)  # mkdtemp makes it private; workers of other users read bundles
    try:
        model.save(staging / MODEL_FILE)
        write_weights(staging, NetworkWeights.from_keras(model))
        vocabulary.save(staging / "vocab.json")
        full_config = {
            **config,
            "format": BUNDLE_FORMAT,
            "style": style,
            "vocab_size": len(vocabulary),
        }
        _write_json(staging / "config.json", full_config)
        _write_json(staging / "metrics.json", metrics)
        if test_songs is not None:
            _write_json(staging / TEST_SONGS_FILE, {"songs": dict(test_songs)})
        load_bundle(staging).sampler_weights()
        while True:  # another writer may take the same number: retry with the next
            existing = versions(style, folder.parent)
            number = int(existing[-1][1:]) + 1 if existing else 1
            target = folder / f"v{number:03d}"
            try:
                staging.rename(target)
                break
            except OSError:
                if not target.exists():
                    raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return load_bundle(target)


# --- ACTIVE and its history ------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    """One line of ``HISTORY.jsonl``: ``version`` was made active (or refused).

    action: "promoted" (not worse on the same held-out songs), "forced",
    "set" (by hand), "rolled back", or "refused" (the promotion check kept
    ``previous``; ``version`` was not made active).
    """

    version: str
    previous: str | None
    at: str  # UTC, ISO 8601
    action: str
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def history(style: str, models_dir: Path | None = None) -> list[HistoryEntry]:
    """The style's promotion history, oldest first ([] when it has none yet).

    A line that cannot be read (a crash mid-append) is skipped.
    """
    path = style_folder(style, models_dir) / HISTORY_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    entries = []
    for line in lines:
        try:
            data = json.loads(line)
            entries.append(
                HistoryEntry(
                    version=check_version_name(data["version"]),
                    previous=data.get("previous"),
                    at=str(data.get("at", "")),
                    action=str(data["action"]),
                    note=str(data.get("note", "")),
                    details=dict(data.get("details") or {}),
                )
            )
        except (ValueError, KeyError, TypeError):
            continue
    return entries


def _append_history(folder: Path, entry: HistoryEntry) -> None:
    """Append one line with a single ``write`` on an ``O_APPEND`` file, then fsync."""
    line = (json.dumps(entry.to_json(), sort_keys=True) + "\n").encode("utf-8")
    handle = os.open(folder / HISTORY_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(handle, line)
        os.fsync(handle)
    finally:
        os.close(handle)


@contextlib.contextmanager
def style_lock(folder: Path) -> Iterator[None]:
    """Exclusive lock on a style folder's ACTIVE and history (between processes too).

    Whoever changes ``ACTIVE`` (a promotion, a rollback, a version set by hand)
    reads the active version, decides and writes inside one lock.
    """
    handle = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def _write_active(folder: Path, version: str) -> None:
    marker = folder / ACTIVE_FILE
    temporary = marker.with_name(f".{ACTIVE_FILE}.{os.getpid()}.tmp")
    temporary.write_text(version + "\n", encoding="utf-8")
    temporary.replace(marker)


def activate(
    style: str,
    version: str,
    folder: Path,
    action: str,
    note: str,
    details: Mapping[str, Any] | None = None,
) -> str | None:
    """Validate ``version``, point ACTIVE at it, record it; the caller holds the lock."""
    root = folder.parent
    check_version_name(version)
    if version not in versions(style, root):
        raise InvalidParameter(
            "version",
            version,
            f"versions of {style} are {', '.join(versions(style, root)) or 'none'}",
        )
    load_bundle(folder / version)
    previous = active_version(style, root)
    _write_active(folder, version)
    _append_history(
        folder, HistoryEntry(version, previous, _now(), action, note, dict(details or {}))
    )
    return previous


def record_refusal(
    folder: Path, version: str, previous: str, note: str, details: Mapping[str, Any]
) -> None:
    """Record that ``version`` was kept out and ``previous`` stays active; the caller holds
    the lock. A refused version is never offered by `roll_back`."""
    _append_history(folder, HistoryEntry(version, previous, _now(), REFUSED, note, dict(details)))


def set_active(
    style: str, version: str, models_dir: Path | None = None, *, note: str = "set by hand"
) -> None:
    """Point ``ACTIVE`` at a (validated) version, atomically, and record it as "set"."""
    folder = style_folder(style, models_dir)
    check_version_name(version)
    if not folder.is_dir():
        raise InvalidParameter("style", style, "a style with trained versions")
    with style_lock(folder):
        activate(style, version, folder, SET, note)


def activation_stack(entries: Sequence[HistoryEntry], active: str | None) -> list[str]:
    """The versions that were made active, as a stack whose top is the active one.

    Promotions (and "set") push; a rollback pops back to the version it
    returned to, so rolling back again walks further back instead of
    bouncing between two versions. With no history (the committed bundles)
    the only known-good version is the active one.
    """
    stack: list[str] = []
    for entry in entries:
        if entry.action == ROLLED_BACK and entry.version in stack:
            del stack[len(stack) - stack[::-1].index(entry.version) :]
        elif entry.action in ACTIVATING:
            stack.append(entry.version)
    if active is not None and (not stack or stack[-1] != active):
        stack.append(active)  # ACTIVE changed outside this module: trust it
    return stack


def roll_back(
    style: str, version: str | None = None, models_dir: Path | None = None
) -> tuple[str, str | None]:
    """Make the previously active version (or a named, once-active one) active again.

    Returns (now active, was active). Refused with `InvalidParameter`: a
    version that was never active (the promotion check refused it, or it
    predates the history), the active version itself, or no earlier version.
    The rollback is recorded, so a second rollback goes one further back.
    """
    folder = style_folder(style, models_dir)
    if version is not None:
        check_version_name(version)
    if not versions(style, folder.parent):
        raise InvalidParameter("style", style, "a style with trained versions")
    with style_lock(folder):
        entries = history(style, folder.parent)
        current = active_version(style, folder.parent)
        stack = activation_stack(entries, current)
        if version is None:
            if len(stack) < 2:
                raise InvalidParameter(
                    "version",
                    "previous",
                    f"{style} has no earlier version known to have been active "
                    f"(active: {current or 'none'}; "
                    + ("no promotion history yet)" if not entries else "history exhausted)"),
                )
            target = stack[-2]
        else:
            target = version
            once_active = {e.version for e in entries if e.action in ACTIVATING} | set(stack)
            if target == current:
                raise InvalidParameter("version", target, f"{target} is already active")
            if target not in once_active:
                refused = any(e.version == target and e.action == REFUSED for e in entries)
                why = (
                    "the promotion check refused it and it was never active"
                    if refused
                    else "it was never active"
                )
                known = ", ".join(v for v in sorted(once_active) if v != current) or "none"
                raise InvalidParameter(
                    "version",
                    target,
                    f"a version of {style} that was active before ({known})",
                    hint=why,
                )
        activate(style, target, folder, ROLLED_BACK, f"rolled back from {current}")
    return target, current


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def calibration_config(calibration: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``config.json`` entries of a triplet calibration (`triplet_calibration`): the
    offset its sampler adds (``triplet_bias``) and how it was measured; none without one."""
    if calibration is None:
        return {}
    return {
        TRIPLET_BIAS_KEY: calibration[TRIPLET_BIAS_KEY],
        "triplet_calibration": dict(calibration),
    }


def record_calibration(bundle: Bundle, calibration: Mapping[str, Any]) -> Bundle:
    """The bundle with its triplet calibration in ``config.json`` (`calibration_config`).
    Written to a new file and moved over the old, so a reader sees one or the other."""
    config = {**bundle.config_json, **calibration_config(calibration)}
    staged = bundle.path / ".config.json.new"
    _write_json(staged, config)
    staged.replace(bundle.path / "config.json")
    return load_bundle(bundle.path)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
