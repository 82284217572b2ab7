"""Admin commands: retrain a style (optionally from attached files), list models, roll back.

Admins are the configured user ids (anywhere) and members with a configured
role inside a configured guild (see `bot.discord_bot.is_admin`); a Discord
permission is never enough. Anyone else gets a polite refusal, nothing is
downloaded and nothing is queued.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import suggestions
from bot.cogs.melody import StatusMessage
from bot.commands import COMMANDS, apply_to_slash, command_options
from bot.discord_bot import is_admin
from bot.options import parse_options
from bot.replies import split_reply
from bot.service import LstmuseService
from lstmuse_core.errors import InvalidParameter, LstmuseError
from lstmuse_core.jobs.catalogue import Catalogue
from lstmuse_core.music.uploads import UploadLimits
from lstmuse_core.request import RetrainRequest

MAX_ATTACHMENTS = 10
RETRAIN, MODELS, ROLLBACK = COMMANDS["retrain"], COMMANDS["models"], COMMANDS["rollback"]


def _admin_check() -> Any:
    async def predicate(ctx: commands.Context[commands.Bot]) -> bool:
        return is_admin(ctx.bot.settings, ctx.author)  # type: ignore[attr-defined]

    return commands.check(predicate)


def _admin_app_check() -> Any:
    async def predicate(interaction: discord.Interaction) -> bool:
        return is_admin(interaction.client.settings, interaction.user)  # type: ignore[attr-defined]

    return app_commands.check(predicate)


async def read_uploads(attachments: list[discord.Attachment]) -> list[tuple[str, bytes]]:
    """Attachment bytes, refusing too many or too large before downloading them."""
    limits = UploadLimits()
    if len(attachments) > MAX_ATTACHMENTS:
        raise InvalidParameter("attachments", len(attachments), f"at most {MAX_ATTACHMENTS} files")
    total = sum(attachment.size for attachment in attachments)
    if total > limits.max_total_bytes:
        raise InvalidParameter(
            "attachments", f"{total} bytes", f"at most {limits.max_total_bytes} bytes in all"
        )
    return [(a.filename, await a.read()) for a in attachments]


class Admin(commands.Cog):
    """Retraining and model versions (admins only)."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self.service: LstmuseService = bot.service  # type: ignore[attr-defined]

    async def _retrain(
        self,
        status: StatusMessage,
        options: dict[str, str],
        attachments: list[discord.Attachment],
    ) -> None:
        """Validate, then download the attachments, then queue; every outcome edits ``status``."""
        try:
            request = RetrainRequest.from_options(options)
            uploads = await read_uploads(attachments)
            await status.update(
                await self.service.retrain(request, uploads=uploads, status=status.update)
            )
        except LstmuseError as error:
            await status.update(f"Sorry: {error}")

    @commands.command(name=RETRAIN.name, help=RETRAIN.help_text(), brief=RETRAIN.summary)
    @_admin_check()
    async def retrain_text(self, ctx: commands.Context[commands.Bot], *, options: str = "") -> None:
        """Retrain a style (admins; the help text is the command table's: `bot.commands`)."""
        status = StatusMessage(lambda text: ctx.reply(text, mention_author=False))
        await self._retrain(status, parse_options(options), list(ctx.message.attachments))

    @app_commands.command(name=RETRAIN.name, description=RETRAIN.summary)
    @_admin_app_check()
    async def retrain_slash(
        self,
        interaction: discord.Interaction,
        style: str,
        epochs: int | None = None,
        minutes: float | None = None,
        preset: str = "default",
        force: bool = False,
        files: discord.Attachment | None = None,
    ) -> None:
        """/retrain: every option is a parameter; the music files are one attachment."""
        await interaction.response.defer(thinking=True)
        status = StatusMessage(
            lambda text: interaction.followup.send(text, wait=True),
            fallback=getattr(interaction.channel, "send", None),  # after the token's 15 min
        )
        options = {"style": style, "preset": preset, "force": "yes" if force else "no"}
        for name, value in (("epochs", epochs), ("minutes", minutes)):
            if value is not None:
                options[name] = str(value)
        await self._retrain(status, options, [files] if files else [])

    @commands.hybrid_command(name=MODELS.name, help=MODELS.help_text(), description=MODELS.summary)
    @_admin_check()
    async def models(self, ctx: commands.Context[commands.Bot], style: str | None = None) -> None:
        """List a style's model versions and their held-out figures (admins)."""
        options = command_options(MODELS, [style] if style else [])
        for text in split_reply(await self.service.models(options.get("style"))):
            await ctx.send(text)

    @commands.hybrid_command(
        name=ROLLBACK.name, help=ROLLBACK.help_text(), description=ROLLBACK.summary
    )
    @_admin_check()
    async def rollback(
        self, ctx: commands.Context[commands.Bot], style: str, version: str | None = None
    ) -> None:
        """Make an earlier model version active again (admins)."""
        options = command_options(ROLLBACK, [word for word in (style, version) if word])
        await ctx.send(await self.service.rollback(options["style"], options.get("version")))

    async def _catalogue(self) -> Catalogue:
        """The published catalogue, or none while the queue is unreachable (suggest nothing)."""
        try:
            return await self.service.jobs.catalogue()
        except LstmuseError:
            return {}

    @retrain_slash.autocomplete("style")
    @models.autocomplete("style")
    @rollback.autocomplete("style")
    async def _suggest_style(
        self, interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        styles = suggestions.styles(await self._catalogue(), typed)
        return [app_commands.Choice(name=style, value=style) for style in styles]

    @rollback.autocomplete("version")
    async def _suggest_version(
        self, interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        style = interaction.namespace.style
        versions = suggestions.versions(await self._catalogue(), style, typed)
        return [app_commands.Choice(name=version, value=version) for version in versions]


apply_to_slash(Admin.retrain_slash, RETRAIN, files="MIDI/MusicXML/ABC/kern files or a zip of them")
apply_to_slash(Admin.models.app_command, MODELS)
apply_to_slash(Admin.rollback.app_command, ROLLBACK)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Admin(bot))
