"""Versioned model bundles: ``trained_models/<style>/<version>/`` + ``ACTIVE``.

A bundle alone rebuilds and runs the model: ``model.keras`` (Keras 3 format),
``vocab.json`` (symbols in index order), ``config.json`` (model and training
hyper-parameters, dataset, split seed) and ``metrics.json`` (held-out loss,
accuracy, sample statistics). Versions are written to a temporary folder and
renamed into place; ``ACTIVE`` is replaced atomically afterwards, so a reader
never sees half a bundle and a crash mid-write leaves the active model as it was.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from lstmuse_core.encoding import Vocabulary
from lstmuse_core.errors import BundleError, InvalidParameter
from lstmuse_core.model import ModelConfig

BUNDLE_FILES = ("model.keras", "vocab.json", "config.json", "metrics.json")
ACTIVE_FILE = "ACTIVE"
_VERSION = re.compile(r"^v(\d{3,})$")
_STYLE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def default_models_dir() -> Path:
    """``$LSTMUSE_MODELS_DIR``, else ``trained_models/`` next to the package."""
    configured = os.environ.get("LSTMUSE_MODELS_DIR")
    return (
        Path(configured)
        if configured
        else Path(__file__).resolve().parent.parent / "trained_models"
    )


def check_style_name(name: str) -> str:
    """Style names become folder names: lower-case letters, digits, '-' and '_' only."""
    if not _STYLE_NAME.match(name):
        raise InvalidParameter(
            "style", name, "1-32 lower-case letters, digits, '-' or '_', starting with a letter"
        )
    return name


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
    def metrics(self) -> dict[str, Any]:
        return dict(json.loads((self.path / "metrics.json").read_text(encoding="utf-8")))

    def load_model(self) -> Any:
        import keras

        try:
            model = keras.saving.load_model(self.path / "model.keras", compile=False)
        except Exception as error:
            raise BundleError(f"{self.path}/model.keras cannot be loaded: {error}") from error
        vocab_size = len(self.vocabulary)
        if model.output_shape[-1] != vocab_size:
            raise BundleError(
                f"{self.path}: the model predicts {model.output_shape[-1]} symbols "
                f"but vocab.json has {vocab_size}"
            )
        return model


def load_bundle(path: Path) -> Bundle:
    """Open and validate a bundle folder; the error names what is wrong."""
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
    for key in ("model", "style", "vocab_size"):
        if key not in config:
            raise BundleError(f"model bundle {str(path)!r}: config.json lacks {key!r}")
    if config["vocab_size"] != len(vocabulary):
        raise BundleError(
            f"model bundle {str(path)!r}: config.json says {config['vocab_size']} "
            f"symbols, vocab.json has {len(vocabulary)}"
        )
    try:
        bundle.model_config  # noqa: B018
    except (TypeError, InvalidParameter) as error:
        raise BundleError(f"model bundle {str(path)!r}: bad model config: {error}") from error
    return bundle


def versions(style: str, models_dir: Path | None = None) -> list[str]:
    """The style's bundle versions, oldest first."""
    folder = (models_dir or default_models_dir()) / style
    if not folder.is_dir():
        return []
    found = [p.name for p in folder.iterdir() if p.is_dir() and _VERSION.match(p.name)]
    return sorted(found, key=lambda v: int(v[1:]))


def active_version(style: str, models_dir: Path | None = None) -> str | None:
    marker = (models_dir or default_models_dir()) / style / ACTIVE_FILE
    try:
        return marker.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def trained_styles(models_dir: Path | None = None) -> list[str]:
    """Styles with an active bundle."""
    root = models_dir or default_models_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / ACTIVE_FILE).is_file())


def bundle_folder(
    style_or_path: str | Path, models_dir: Path | None = None, version: str | None = None
) -> Path:
    """The folder of a style's active (or given) version, or a bundle folder path.

    Only names are checked here; `load_bundle` reads and validates the files.
    """
    candidate = Path(style_or_path)
    if candidate.is_dir() and (candidate / "config.json").exists():
        return candidate
    style = str(style_or_path)
    root = models_dir or default_models_dir()
    chosen = version or active_version(style, root)
    if chosen is None:
        known = trained_styles(root)
        raise InvalidParameter(
            "style", style, f"trained styles are {', '.join(known) or 'none yet'}"
        )
    if chosen not in versions(style, root):
        raise InvalidParameter(
            "version", chosen, f"versions of {style} are {', '.join(versions(style, root))}"
        )
    return root / style / chosen


def resolve_bundle(
    style_or_path: str | Path, models_dir: Path | None = None, version: str | None = None
) -> Bundle:
    """A style name (its active or a given version) or a bundle folder path, validated."""
    return load_bundle(bundle_folder(style_or_path, models_dir, version))


def write_bundle(
    style: str,
    model: Any,
    vocabulary: Vocabulary,
    config: dict[str, Any],
    metrics: dict[str, Any],
    models_dir: Path | None = None,
) -> Bundle:
    """Write a new version atomically (not yet active) and return it."""
    check_style_name(style)
    folder = (models_dir or default_models_dir()) / style
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=folder))
    staging.chmod(0o755)  # mkdtemp makes it private; workers of other users read bundles
    try:
        model.save(staging / "model.keras")
        vocabulary.save(staging / "vocab.json")
        full_config = {**config, "style": style, "vocab_size": len(vocabulary)}
        _write_json(staging / "config.json", full_config)
        _write_json(staging / "metrics.json", metrics)
        load_bundle(staging)
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


def set_active(style: str, version: str, models_dir: Path | None = None) -> None:
    """Point ``ACTIVE`` at a (validated) version, atomically."""
    root = models_dir or default_models_dir()
    if version not in versions(style, root):
        raise InvalidParameter(
            "version",
            version,
            f"versions of {style} are {', '.join(versions(style, root)) or 'none'}",
        )
    load_bundle(root / style / version)
    marker = root / style / ACTIVE_FILE
    temporary = marker.with_name(f".{ACTIVE_FILE}.{os.getpid()}.tmp")
    temporary.write_text(version + "\n", encoding="utf-8")
    temporary.replace(marker)


def promote(
    bundle: Bundle, *, force: bool = False, models_dir: Path | None = None
) -> tuple[bool, str]:
    """Make ``bundle`` active unless (not forced) its held-out loss is worse.

    Returns whether it was promoted and why, in words for the admin.
    """
    root = models_dir or bundle.path.parent.parent
    current = active_version(bundle.style, root)
    new_bits = bundle.metrics.get("test", {}).get("bits_per_symbol")
    if current is not None and not force:
        old = load_bundle(root / bundle.style / current)
        old_bits = old.metrics.get("test", {}).get("bits_per_symbol")
        if old_bits is not None and new_bits is not None and new_bits > old_bits:
            return False, (
                f"kept {current}: its held-out loss {old_bits:.3f} bits/symbol is "
                f"better than {bundle.version}'s {new_bits:.3f} (use force to promote)"
            )
    set_active(bundle.style, bundle.version, root)
    was = f" (was {current})" if current else ""
    return True, f"{bundle.version} is now active{was}"


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
