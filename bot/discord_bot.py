"""The Discord front end: a `commands.Bot` with one cog per feature.

Prefix commands (``!melody ...``) need the privileged *message content*
intent (enable it in the Developer Portal); slash commands (``/melody``) do
not. The token is read from ``DISCORD_TOKEN`` and never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import discord
from discord.ext import commands

from bot.commands import COMMANDS, bot_help
from bot.posts import post_store
from bot.replies import split_reply
from bot.service import LstmuseService
from bot.settings import BotSettings
from lstmuse_core.errors import shown_value

log = logging.getLogger(__name__)

# One cog a feature, listed in one place.
EXTENSIONS = ("bot.cogs.errors", "bot.cogs.melody", "bot.cogs.harmonize", "bot.cogs.admin")


class TableHelp(commands.HelpCommand):
    """``!help`` lists the commands, ``!help melody`` one command's options: from `bot.commands`."""

    async def _send(self, text: str) -> None:
        for part in split_reply(text):
            await self.get_destination().send(part)

    async def send_bot_help(self, mapping: Mapping[Any, Any]) -> None:
        await self._send(bot_help(self.context.clean_prefix))

    async def send_cog_help(self, cog: commands.Cog) -> None:
        await self._send(bot_help(self.context.clean_prefix))

    async def send_command_help(self, command: commands.Command[Any, ..., Any]) -> None:
        spec = COMMANDS.get(command.qualified_name)
        prefix = self.context.clean_prefix
        await self._send(spec.help_text(prefix) if spec else f"{prefix}{command.qualified_name}")

    def command_not_found(self, string: str) -> str:
        prefix = self.context.clean_prefix
        return f"No command called {shown_value(string)}; `{prefix}help` lists them."

    def subcommand_not_found(self, command: commands.Command[Any, ..., Any], string: str) -> str:
        return self.command_not_found(f"{command.qualified_name} {string}")


class LstmuseBot(commands.Bot):
    def __init__(
        self, settings: BotSettings, service: LstmuseService, intents: discord.Intents | None = None
    ) -> None:
        if intents is None:
            intents = discord.Intents.default()
            intents.message_content = True  # prefix commands read message text
        super().__init__(
            command_prefix=settings.command_prefix,
            intents=intents,
            description="LSTMuse writes melodies with an LSTM. Try !melody.",
            help_command=TableHelp(),
            # Replies echo what members typed: never let that ping anyone.
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.settings = settings
        self.service = service
        # What the buttons under each melody need, kept beside the jobs (see `bot.posts`).
        self.posts = post_store(service.jobs, settings.button_timeout_seconds)

    async def setup_hook(self) -> None:
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        for guild_id in self.settings.guilds:  # guild sync is instant; global takes up to an hour
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)

    async def on_ready(self) -> None:
        log.info(
            "logged in as %s (%s) in %d guilds",
            self.user,
            getattr(self.user, "id", "?"),
            len(self.guilds),
        )


def is_admin(settings: BotSettings, user: discord.abc.User) -> bool:
    """Configured user ids anywhere; configured role ids inside configured guilds only.

    The models are shared by every server the bot is in, and anyone can invite
    a public bot to a server they own: a Discord permission such as Manage
    Server, or a role in an unlisted guild, is never enough.
    """
    if user.id in settings.admin_users:
        return True
    if isinstance(user, discord.Member) and user.guild.id in settings.guilds:
        return bool(settings.admin_roles & {role.id for role in user.roles})
    return False


def run_discord(settings: BotSettings) -> None:
    from bot.runtime import build_service

    if settings.discord_token is None:
        raise SystemExit(
            "DISCORD_TOKEN is not set: create a bot in the Discord Developer Portal "
            "and put its token in the environment (or .env)"
        )
    bot = LstmuseBot(settings, build_service(settings))
    bot.run(settings.discord_token.get_secret_value(), log_handler=None)
