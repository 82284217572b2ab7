"""The one name check for styles and model versions, wherever a name comes from.

Style and version names become folder names under the models directory, so
every front end (Discord, console, queue payloads) and every task passes them
through here before they reach the file system. Only the CLI accepts a bundle
*path*, and it says so explicitly (`lstmuse_core.model.bundle.bundle_from_path`).
Importing this module is free (no music21, no Keras): the bot uses it.
"""

from __future__ import annotations

import re

from lstmuse_core.errors import InvalidParameter

_STYLE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_VERSION_NAME = re.compile(r"v(\d{3,6})")

STYLE_NAME_RULE = "1-32 lower-case letters, digits, '-' or '_', starting with a letter"
VERSION_NAME_RULE = "a version name such as v001"


def check_style_name(name: object, parameter: str = "style") -> str:
    """``name`` if it is a valid style name, else `InvalidParameter` naming ``parameter``."""
    if not isinstance(name, str) or not _STYLE_NAME.fullmatch(name):
        raise InvalidParameter(parameter, name, STYLE_NAME_RULE)
    return name


def check_version_name(version: object, parameter: str = "version") -> str:
    """``version`` if it looks like ``v001``, else `InvalidParameter` naming ``parameter``."""
    if not isinstance(version, str) or not _VERSION_NAME.fullmatch(version):
        raise InvalidParameter(parameter, version, VERSION_NAME_RULE)
    return version


def is_version_name(text: str) -> bool:
    return _VERSION_NAME.fullmatch(text) is not None


def fold_style_name(text: object, parameter: str = "style") -> str:
    """A style name as a person types it (``"Irish"``, ``" folk "``) -> the checked name.

    Style names are case-insensitive: front ends fold what people type here,
    at the edge, and everything downstream sees the lower-case name.
    """
    folded = text.strip().lower() if isinstance(text, str) else text
    try:
        return check_style_name(folded, parameter)
    except InvalidParameter:
        raise InvalidParameter(parameter, text, STYLE_NAME_RULE) from None
