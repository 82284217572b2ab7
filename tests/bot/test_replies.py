"""Replies cut to Discord's sizes: text by characters, files by the upload limit."""

from __future__ import annotations

from bot.replies import group_files, split_reply


def test_long_text_is_split_between_lines() -> None:
    """No message over the limit; lines stay whole where they fit."""
    messages = split_reply("\n".join(["a" * 30] * 10), limit=100)
    assert all(len(message) <= 100 for message in messages)
    assert "".join(messages).count("a" * 30) == 10


def test_files_fill_messages_up_to_the_upload_limit_in_order() -> None:
    """Files share a message while they fit; the next one starts a new message."""
    files = [("a.mid", b"m" * 100), ("a.mp3", b"s" * 600), ("a.png", b"p" * 300)]
    messages, left_out = group_files(files, upload_limit=1000)
    assert [[name for name, _ in message] for message in messages] == [["a.mid", "a.mp3", "a.png"]]
    messages, left_out = group_files(files, upload_limit=700)
    assert [[name for name, _ in message] for message in messages] == [
        ["a.mid", "a.mp3"],
        ["a.png"],
    ]
    assert left_out == []


def test_a_file_over_the_upload_limit_is_left_out_by_name() -> None:
    """A file larger than the limit on its own is named with its size, the rest still posted."""
    files = [("a.mid", b"m" * 100), ("a.wav", b"w" * 5000), ("a.png", b"p" * 300)]
    messages, left_out = group_files(files, upload_limit=1000)
    assert [[name for name, _ in message] for message in messages] == [["a.mid", "a.png"]]
    assert left_out == [("a.wav", 5000)]
