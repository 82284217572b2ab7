"""One error handler: a short reply for what users can fix, an apology for bugs."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from lstmuse_core.errors import LstmuseError

log = logging.getLogger(__name__)
APOLOGY = "Sorry, something went wrong on our side. It has been logged; please try again later."


def user_message(error: BaseException) -> str | None:
    """The reply for an error a user can fix, or None for a bug."""
    original = getattr(error, "original", None) or error
    if isinstance(original, LstmuseError):
        return f"Sorry: {original}"
    if isinstance(error, commands.CheckFailure | app_commands.CheckFailure):
        return "Sorry, only the server's LSTMuse admins can do that."
    if isinstance(error, commands.UserInputError):
        return f"Sorry: {error}"
    return None


class Errors(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        bot.tree.error(self.on_app_command_error)

    @commands.Cog.listener()
    async def on_command_error(
        self, ctx: commands.Context[commands.Bot], error: commands.CommandError
    ) -> None:
        if isinstance(error, commands.CommandNotFound):
            return
        message = user_message(error)
        if message is None:
            log.exception("command %s failed", ctx.command, exc_info=error)
            message = APOLOGY
        await ctx.reply(message, mention_author=False)

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        message = user_message(error)
        if message is None:
            log.exception("slash command %s failed", interaction.command, exc_info=error)
            message = APOLOGY
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Errors(bot))
