"""The names of the files a request makes: safe on every file system, unique per request.

The renderer writes ``<stem>.mid``, ``<stem>.mp3``...; the worker stores them
and the bot names what it posts from the same stem rule. Importing this
module is free (no numba, no music21, no renderer): the bot uses it.
"""

from __future__ import annotations

import re
import secrets

from lstmuse_core.errors import InvalidParameter

_STEM = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SHORT_ID = re.compile(r"[a-z0-9]{1,8}")


def validate_stem(stem: str) -> str:
    """Return ``stem`` if it is a safe file name stem: 1-64 of ``A-Z a-z 0-9 _ -``."""
    if not isinstance(stem, str) or not _STEM.fullmatch(stem):
        raise InvalidParameter(
            "stem", stem, "1-64 letters, digits, '_' or '-' (it names the files)"
        )
    return stem


def melody_file_stem(style: str, random_seed: int, temperature: float, short_id: str) -> str:
    """The file name stem of one request's melodies, e.g. ``folk-12-t0_8-3fa9c2``.

    Style, random seed, temperature (its '.' written '_': stems allow only
    ``A-Z a-z 0-9 _ -``) and a short id drawn per request, so two requests
    with the same seed never share a name. ``short_id``: 1-8 lower-case
    letters or digits. At most 59 characters, leaving room for the ``-N``
    that `lstmuse_core.compose.render_composed` adds per melody within
    `validate_stem`'s 64.
    """
    if not isinstance(short_id, str) or not _SHORT_ID.fullmatch(short_id):
        raise InvalidParameter("short_id", short_id, "1-8 lower-case letters or digits")
    temperature_text = f"{temperature:.3g}".replace(".", "_")
    return validate_stem(f"{style[:32]}-{random_seed}-t{temperature_text}-{short_id}")


def new_short_id() -> str:
    """Six random hex digits: the per-request part of `melody_file_stem`."""
    return secrets.token_hex(3)


def tune_file_stem(name: str, short_id: str) -> str:
    """The file name stem of a harmonized tune, from its file's name: ``reel-harmonized-3fa9c2``.

    ``name``: the member's file name; what a stem does not allow becomes
    ``_`` and it keeps at most 32 characters; ``short_id`` as in `melody_file_stem`.
    """
    if not isinstance(short_id, str) or not _SHORT_ID.fullmatch(short_id):
        raise InvalidParameter("short_id", short_id, "1-8 lower-case letters or digits")
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", name.rsplit(".", 1)[0]).strip("_")[:32] or "tune"
    return validate_stem(f"{base}-harmonized-{short_id}")
