"""Rolling a style back to an earlier version (an admin command)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lstmuse_core.bundle import active_version, set_active, versions
from lstmuse_core.errors import InvalidParameter


def roll_back(
    style: str, version: str | None = None, models_dir: Path | None = None
) -> dict[str, Any]:
    """Make ``version`` (default: the one before the active one) active again."""
    known = versions(style, models_dir)
    if not known:
        raise InvalidParameter("style", style, "a style with trained versions")
    current = active_version(style, models_dir)
    if version is None:
        older = [v for v in known if current is None or int(v[1:]) < int(current[1:])]
        if not older:
            raise InvalidParameter(
                "version", "previous", f"{style} has no version older than {current}"
            )
        version = older[-1]
    set_active(style, version, models_dir)
    return {"style": style, "active_version": version, "was": current}
