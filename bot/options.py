"""Typed chat options -> `MelodyRequest`: ``style=folk temp=0.8 seed="60 _ 62 _" bars=8``.

Quotes (also the curly ones phones type), spaces around ``=``, any case and
unknown names are handled here, apart from the code that talks to Discord;
every rejection names the option and gives an example.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.request import MelodyRequest

EXAMPLE = '!melody style=folk temp=0.8 seed="C4 D4 E4:2" bars=8 key=D instrument=flute'
_CURLY = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})


def split_words(text: str) -> list[str]:
    """The words of a typed command line, as every command reads them.

    Quotes keep spaces (straight or the curly ones phones type) and
    ``temp = 0.8`` is ``temp=0.8``; unbalanced quotes are refused by name.
    """
    cleaned = text.translate(_CURLY)
    # Allow "temp = 0.8": glue a lone "=" to its neighbours before splitting.
    try:
        return shlex.split(cleaned.replace(" = ", "=").replace("= ", "=").replace(" =", "="))
    except ValueError:
        raise InvalidParameter("options", text, "balanced quotes", hint=f"e.g. {EXAMPLE}") from None


def parse_options(text: str) -> dict[str, str]:
    """``name=value`` pairs of a command line; a word without ``=`` is an error."""
    options: dict[str, str] = {}
    for word in split_words(text):
        name, equals, value = word.partition("=")
        name = name.strip().lower()  # a name of only spaces (or \x1f) is no name
        if not equals or not name:
            raise InvalidParameter("options", word, "name=value pairs", hint=f"e.g. {EXAMPLE}")
        options[name] = value.strip()
    return options


def request_from_text(text: str, **defaults: object) -> MelodyRequest:
    """Parse and validate a typed ``!melody`` line (without the command name)."""
    return MelodyRequest.from_options(parse_options(text), **defaults)


def options_from_slash(parameters: Mapping[str, object], free_text: str | None) -> dict[str, str]:
    """/melody's typed parameters (None: left empty) over its free-text ``options:`` field.

    The free text is read first, so a typed parameter wins over the same
    option written in it; the result is what `MelodyRequest.from_options` takes.
    """
    return {
        **parse_options(free_text or ""),
        **{name: str(value) for name, value in parameters.items() if value is not None},
    }
