"""Shared fixtures: every test gets its own cache and model folders."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep caches out of the user's home; the committed models stay readable."""
    monkeypatch.setenv("LSTMUSE_CACHE_DIR", str(tmp_path / "cache"))
