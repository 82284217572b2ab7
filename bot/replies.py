"""Long replies cut into Discord-sized messages, at line breaks where possible."""

from __future__ import annotations

MESSAGE_LIMIT = 2000  # characters in one Discord message


def split_reply(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """``text`` as messages of at most ``limit`` characters, split between lines.

    A single line longer than ``limit`` is cut hard; no message is empty.
    """
    messages: list[str] = []
    current = ""
    for line in text.splitlines() or [""]:
        while len(line) > limit:
            if current:
                messages.append(current)
                current = ""
            messages.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            messages.append(current)
            candidate = line
        current = candidate
    if current or not messages:
        messages.append(current or "(nothing to show)")
    return messages
