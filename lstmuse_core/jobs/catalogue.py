"""The style catalogue: styles, active versions and their metrics, as JSON in Redis.

Workers publish it (at start and after every retrain); the bot reads it
without importing TensorFlow or even lstmuse_core's model code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CATALOGUE_KEY = "lstmuse:catalogue"


def build_catalogue(models_dir: Path | None = None) -> dict[str, Any]:
    """Every style with a bundle: description, active version, versions, held-out figures."""
    from lstmuse_core.bundle import (
        active_version,
        default_models_dir,
        load_bundle,
        trained_styles,
        versions,
    )
    from lstmuse_core.corpus import STYLES
    from lstmuse_core.errors import BundleError

    root = models_dir or default_models_dir()
    catalogue: dict[str, Any] = {}
    for style in trained_styles(root):
        entries = []
        for version in versions(style, root):
            try:
                bundle = load_bundle(root / style / version)
            except BundleError as error:
                entries.append({"version": version, "error": str(error)})
                continue
            test = bundle.metrics.get("test", {})
            entries.append(
                {
                    "version": version,
                    "preset": bundle.model_config.preset,
                    "bits_per_symbol": test.get("bits_per_symbol"),
                    "accuracy": test.get("accuracy"),
                    "ngram_bits_per_symbol": bundle.metrics.get("ngram", {}).get("bits_per_symbol"),
                    "trained_at": bundle.config_json.get("training", {}).get("trained_at"),
                    "songs": bundle.config_json.get("dataset", {}).get("songs_kept"),
                }
            )
        described = STYLES.get(style)
        catalogue[style] = {
            "description": described.description if described else "trained from uploaded files",
            "active_version": active_version(style, root),
            "versions": entries,
        }
    return catalogue


def publish_catalogue(client: Any, models_dir: Path | None = None) -> dict[str, Any]:
    catalogue = build_catalogue(models_dir)
    client.set(CATALOGUE_KEY, json.dumps(catalogue))
    return catalogue


def read_catalogue(client: Any) -> dict[str, Any]:
    """The last published catalogue ({} before any worker published one)."""
    raw = client.get(CATALOGUE_KEY)
    return dict(json.loads(raw)) if raw else {}
