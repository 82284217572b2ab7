"""One error hierarchy for the whole project.

Front ends (CLI, console, Discord) turn an `LstmuseError` into a short,
friendly reply; anything else is a bug, logged with context and answered
with an apology.
"""

from __future__ import annotations

from typing import Any


class LstmuseError(Exception):
    """Base class of every error a user can cause or fix."""


class InvalidParameter(LstmuseError, ValueError):
    """A parameter has a value outside what is allowed.

    The message always names the parameter, the value and what is allowed,
    e.g. ``temperature=7 is not allowed: use a number from 0.1 to 2.0``.
    """

    def __init__(self, parameter: str, value: Any, allowed: str, hint: str = "") -> None:
        self.parameter = parameter
        self.value = value
        self.allowed = allowed
        self.hint = hint
        message = f"{parameter}={shown_value(value)} is not allowed: {allowed}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


def caused_by(error: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    """Whether ``error`` or an exception it was raised from or during is one of ``kinds``.

    A time limit raised into a library (say, mid-import) often comes back as
    that library's own error, with the limit as its cause.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, kinds):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


MAX_SHOWN_CHARS = 40


def shown_value(value: Any, limit: int = MAX_SHOWN_CHARS) -> str:
    """A user's value as replies echo it: its repr, cut to ``limit`` characters.

    Replies go back to a chat channel; a long value (a pasted essay, a wall of
    mentions) would flood it or push a message over Discord's limits.
    """
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class SeedMelodyError(InvalidParameter):
    """A seed melody token could not be read; names the token and its position."""

    def __init__(self, token: str, position: int, allowed: str) -> None:
        self.token = token
        self.position = position
        super().__init__("seed", token, allowed, hint=f"token {position} of the seed melody")


class CorpusError(LstmuseError):
    """A corpus or dataset cannot be found or read as a whole."""


class BundleError(LstmuseError):
    """A model bundle is missing, incomplete or inconsistent."""


class MissingToolError(LstmuseError):
    """An external tool (ffmpeg, libfluidsynth, lilypond, a SoundFont) is absent."""

    def __init__(self, tool: str, install_hint: str) -> None:
        self.tool = tool
        self.install_hint = install_hint
        super().__init__(f"{tool} is not available: {install_hint}")


class RenderError(LstmuseError):
    """An output could not be rendered (too large, tool failed, ...)."""


class JobFailed(LstmuseError):
    """A queued job ended without a result; the message is meant for the user.

    One plain message argument, so it survives Celery's JSON serialisation.
    """
