"""Building the style catalogue from the model bundles, and publishing it for the bot.

The worker publishes it at start and after every retrain or rollback; the
console's in-process jobs build it on demand. The catalogue's types, JSON
form and reader are the contract's (`lstmuse_core.jobs.catalogue`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lstmuse_core.errors import BundleError
from lstmuse_core.jobs.catalogue import (
    Catalogue,
    ModelVersion,
    StyleEntry,
    catalogue_to_json,
)
from lstmuse_core.jobs.keys import CATALOGUE_KEY
from lstmuse_core.model.bundle import (
    active_version,
    default_models_dir,
    load_bundle,
    trained_styles,
    versions,
)
from lstmuse_core.music.corpus import STYLES
from lstmuse_core.music.meter import Meter


def build_catalogue(models_dir: Path | None = None) -> Catalogue:
    """Every style with a bundle: description, active version, versions, held-out figures."""
    root = models_dir or default_models_dir()
    catalogue: Catalogue = {}
    for style in trained_styles(root):
        entries = []
        for version in versions(style, root):
            try:
                bundle = load_bundle(root / style / version)
            except BundleError as error:
                entries.append(ModelVersion(version, error=str(error)))
                continue
            test = bundle.metrics.get("test", {})
            entries.append(
                ModelVersion(
                    version,
                    preset=bundle.model_config.preset,
                    bits_per_symbol=test.get("bits_per_symbol"),
                    accuracy=test.get("accuracy"),
                    ngram_bits_per_symbol=bundle.metrics.get("ngram", {}).get("bits_per_symbol"),
                    trained_at=bundle.config_json.get("training", {}).get("trained_at"),
                    songs=bundle.config_json.get("dataset", {}).get("songs_kept"),
                    meters=_commonest(bundle.conditioning.meters),
                    modes=_commonest(bundle.conditioning.modes),
                )
            )
        described = STYLES.get(style)
        catalogue[style] = StyleEntry(
            described.description if described else "trained from uploaded files",
            active_version(style, root),
            tuple(entries),
        )
    return catalogue


def _commonest(counts: Mapping[Meter, int] | Mapping[str, int]) -> tuple[str, ...]:
    """The meters' or modes' names, commonest first, as the catalogue publishes them."""
    return tuple(str(name) for name in sorted(counts, key=lambda name: -counts[name]))


def publish_catalogue(client: Any, models_dir: Path | None = None) -> Catalogue:
    """Build the catalogue and store it under `CATALOGUE_KEY` (``client``: a ``redis.Redis``)."""
    catalogue = build_catalogue(models_dir)
    client.set(CATALOGUE_KEY, json.dumps(catalogue_to_json(catalogue)))
    return catalogue
