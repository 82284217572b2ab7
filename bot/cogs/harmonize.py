"""Chords for a member's tune: ``!harmonize`` and ``/harmonize`` with an attached file."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.errors import APOLOGY
from bot.cogs.melody import StatusMessage, send_with_files, upload_limit
from bot.commands import COMMANDS, apply_to_slash
from bot.options import options_from_slash, parse_options
from bot.service import LstmuseService, one_tune, read_tune
from lstmuse_core.errors import LstmuseError
from lstmuse_core.options import HARMONIZE_OPTIONS, option_fields
from lstmuse_core.request import HarmonizeRequest

log = logging.getLogger(__name__)
HARMONIZE = COMMANDS["harmonize"]


class Harmonize(commands.Cog):
    """Chords for your tune."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self.service: LstmuseService = bot.service  # type: ignore[attr-defined]

    async def harmonize_and_post(
        self,
        user_id: int,
        typed: dict[str, str],
        files: Sequence[discord.Attachment],
        status: StatusMessage,
        send: Callable[..., Awaitable[Any]],
        upload_limit: int,
    ) -> None:
        """Read the first attached file (size checked before it is downloaded), queue it,
        post its files with the chord chart; every refusal edits the status message.

        typed: the member's options; upload_limit: the most bytes of files one
        message may carry where the tune is posted.
        """
        try:
            request = HarmonizeRequest.from_options(typed)
            note = one_tune([attachment.filename for attachment in files])
            tune = files[0]
            await status.update(f"Reading your tune {tune.filename}...{note}")
            request = await read_tune(
                request,
                tune.filename,
                tune.size,
                tune.read,
                option_fields(HARMONIZE_OPTIONS, typed),
            )
            post = await self.service.harmonize(user_id, request, status.update)
        except LstmuseError as error:
            await status.update(f"Sorry: {error}")
            return
        except Exception:
            log.exception("harmonize for %s failed", user_id)
            await status.update(APOLOGY)
            return
        await send_with_files(send, post.files, upload_limit, content=post.text()[:2000])
        await status.update(f"Done: {post.request.name} harmonized below.{note}")

    @commands.command(name=HARMONIZE.name, help=HARMONIZE.help_text(), brief=HARMONIZE.summary)
    async def harmonize_text(
        self, ctx: commands.Context[commands.Bot], *, options: str = ""
    ) -> None:
        """Harmonize the attached tune (the help text is the command table's)."""
        typed = parse_options(options)
        status = StatusMessage(lambda text: ctx.reply(text, mention_author=False))
        await self.harmonize_and_post(
            ctx.author.id, typed, ctx.message.attachments, status, ctx.send, upload_limit(ctx)
        )

    @app_commands.command(name=HARMONIZE.name, description=HARMONIZE.summary)
    async def harmonize_slash(
        self,
        interaction: discord.Interaction,
        tune: discord.Attachment,
        instrument: str | None = None,
        bpm: float | None = None,
        options: str | None = None,
    ) -> None:
        """/harmonize: the tune's file, the common options as parameters, the rest in options."""
        typed = options_from_slash({"instrument": instrument, "bpm": bpm}, options)
        await interaction.response.defer(thinking=True)  # within Discord's 3 s
        status = StatusMessage(lambda text: interaction.followup.send(text, wait=True))
        await self.harmonize_and_post(
            interaction.user.id,
            typed,
            [tune],
            status,
            lambda **kw: interaction.followup.send(**kw),
            interaction.filesize_limit,  # Discord's own figure for this channel, DMs included
        )


apply_to_slash(
    Harmonize.harmonize_slash,
    HARMONIZE,
    tune="the tune: a MIDI, MusicXML or ABC file",
    options="any other option as name=value, e.g. audio=ogg export=abc",
)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Harmonize(bot))
