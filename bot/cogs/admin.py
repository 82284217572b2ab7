"""Admin commands: retrain a style (optionally from attached files), list models, roll back.

Admins are the configured user ids and role ids, or members with the Manage
Server permission. Anyone else gets a polite refusal and nothing is queued.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.melody import StatusMessage
from bot.discord_bot import is_admin
from bot.options import parse_options
from bot.service import LstmuseService
from lstmuse_core.errors import InvalidParameter, LstmuseError
from lstmuse_core.uploads import UploadLimits

MAX_ATTACHMENTS = 10


def _admin_check() -> Any:
    async def predicate(ctx: commands.Context) -> bool:
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
    for attachment in attachments:
        if attachment.size > limits.max_total_bytes:
            raise InvalidParameter(
                "attachment",
                attachment.filename,
                f"files of at most {limits.max_total_bytes} bytes",
            )
    return [(a.filename, await a.read()) for a in attachments]


class Admin(commands.Cog):
    """Retraining and model versions (admins only)."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self.service: LstmuseService = bot.service  # type: ignore[attr-defined]

    async def _retrain(
        self, status: StatusMessage, options: dict[str, str], uploads: list[tuple[str, bytes]]
    ) -> str:
        unknown = set(options) - {"style", "epochs", "preset", "force"}
        if unknown:
            name = sorted(unknown)[0]
            raise InvalidParameter(name, options[name], "style, epochs, preset, force")
        if "style" not in options:
            raise InvalidParameter("style", "", "a style name, e.g. !retrain style=folk epochs=30")
        try:
            epochs = int(options["epochs"]) if "epochs" in options else None
        except ValueError:
            raise InvalidParameter("epochs", options["epochs"], "a whole number") from None
        force = options.get("force", "no").lower() in ("yes", "true", "1", "on")
        return await self.service.retrain(
            options["style"].lower(),
            epochs=epochs,
            preset=options.get("preset", "default"),
            force=force,
            uploads=uploads,
            status=status.update,
        )

    @commands.command(name="retrain")
    @_admin_check()
    async def retrain_text(self, ctx: commands.Context, *, options: str = "") -> None:
        """Retrain a style (admins): !retrain style=folk [epochs=30] [preset=default] [force=yes]

        Attach MIDI/MusicXML/ABC/kern files or a zip of them to train the style from them.
        """
        status = StatusMessage(lambda text: ctx.reply(text, mention_author=False))
        uploads = await read_uploads(list(ctx.message.attachments))
        try:
            await status.update(await self._retrain(status, parse_options(options), uploads))
        except LstmuseError as error:
            await status.update(f"Sorry: {error}")

    @app_commands.command(name="retrain", description="Retrain a style (admins)")
    @_admin_app_check()
    async def retrain_slash(
        self,
        interaction: discord.Interaction,
        style: str,
        epochs: int | None = None,
        preset: str = "default",
        force: bool = False,
        files: discord.Attachment | None = None,
    ) -> None:
        await interaction.response.defer(thinking=True)
        status = StatusMessage(lambda text: interaction.followup.send(text, wait=True))
        options = {"style": style, "preset": preset, "force": "yes" if force else "no"}
        if epochs is not None:
            options["epochs"] = str(epochs)
        uploads = await read_uploads([files] if files else [])
        try:
            await status.update(await self._retrain(status, options, uploads))
        except LstmuseError as error:
            await status.update(f"Sorry: {error}")

    @commands.hybrid_command(name="models")
    @_admin_check()
    async def models(self, ctx: commands.Context, style: str | None = None) -> None:
        """List a style's model versions and their held-out figures (admins)."""
        await ctx.send(await self.service.models(style))

    @commands.hybrid_command(name="rollback")
    @_admin_check()
    async def rollback(self, ctx: commands.Context, style: str, version: str | None = None) -> None:
        """Make an earlier model version active again (admins): !rollback folk [v001]"""
        await ctx.send(
            await self.service.rollback(
                style.removeprefix("style="), version.removeprefix("version=") if version else None
            )
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Admin(bot))
