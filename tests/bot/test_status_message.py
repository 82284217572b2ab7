"""The status message a long job edits, when Discord stops accepting edits."""

from __future__ import annotations

from types import SimpleNamespace

import discord
import pytest

from bot.cogs.melody import StatusMessage


class Message:
    def __init__(self, text: str, editable: bool = True) -> None:
        self.texts = [text]
        self.editable = editable

    async def edit(self, content: str) -> None:
        if not self.editable:  # an interaction token expires after 15 minutes
            raise discord.HTTPException(SimpleNamespace(status=401, reason="Unauthorized"), "")
        self.texts.append(content)


async def test_status_goes_on_in_a_new_message_when_edits_fail() -> None:
    """A follow-up that can no longer be edited: later updates go to the fallback message."""
    follow_up = Message("Queued", editable=False)
    channel_messages: list[Message] = []

    async def follow_up_send(text: str) -> Message:
        return follow_up

    async def channel_send(text: str) -> Message:
        channel_messages.append(Message(text))
        return channel_messages[-1]

    status = StatusMessage(follow_up_send, fallback=channel_send)
    await status.update("Queued")
    await status.update("epoch 1/30")
    await status.update("epoch 2/30")
    assert follow_up.texts == ["Queued"]
    assert [m.texts for m in channel_messages] == [["epoch 1/30", "epoch 2/30"]]


async def test_without_a_fallback_the_failure_is_raised() -> None:
    """No fallback: the HTTP error reaches the caller (and its error handler)."""

    async def send(text: str) -> Message:
        return Message(text, editable=False)

    status = StatusMessage(send)
    await status.update("Queued")
    with pytest.raises(discord.HTTPException):
        await status.update("epoch 1/30")
