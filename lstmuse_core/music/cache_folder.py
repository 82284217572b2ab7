"""The default folder of the preprocessing cache (parsed files, built datasets).

Its own module so that the CLI, which resolves every folder before any
command runs, finds it without importing the dataset builder: ``lstmuse
generate`` reads no corpus.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/lstmuse`` (``~/.cache/lstmuse``), the platform's cache folder.

    ``LSTMUSE_CACHE_DIR`` is read by the process's settings, and the CLI and
    the worker pass the folder in.
    """
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lstmuse"
