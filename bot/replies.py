"""Long replies cut into Discord-sized messages: text at line breaks, files by upload limit."""

from __future__ import annotations

from collections.abc import Sequence

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


def group_files(
    files: Sequence[tuple[str, bytes]], upload_limit: int
) -> tuple[list[list[tuple[str, bytes]]], list[tuple[str, int]]]:
    """``files`` (name, contents) as messages of at most ``upload_limit`` bytes each, in order.

    The limit is the destination's (a server's grows with its boosts; DMs
    have Discord's default), so a melody is posted whole wherever it fits in
    one message. A file over the limit on its own is left out: returned as
    (name, bytes) for the reply to say so.
    """
    messages: list[list[tuple[str, bytes]]] = []
    left_out: list[tuple[str, int]] = []
    size = upload_limit + 1  # no message started yet
    for name, data in files:
        if len(data) > upload_limit:
            left_out.append((name, len(data)))
        elif size + len(data) > upload_limit:
            messages.append([(name, data)])
            size = len(data)
        else:
            messages[-1].append((name, data))
            size += len(data)
    return messages, left_out
