"""The bot process's one settings object: the core's settings plus the bot's own.

``DISCORD_TOKEN`` plus ``LSTMUSE_*`` variables (see .env.example), read once by
`get_bot_settings`. It extends `lstmuse_core.settings.Settings`, so the
console's in-process jobs take the models, uploads and SoundFont paths from
this same object. The token is a `SecretStr`: it never appears in a log line,
a repr or a reply.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr, field_validator

from lstmuse_core.settings import Settings


class BotSettings(Settings):
    discord_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("DISCORD_TOKEN", "LSTMUSE_DISCORD_TOKEN"),
        description="the bot's token (Discord mode); never logged",
    )
    command_prefix: str = Field(default="!", description="prefix of text commands")
    admin_user_ids: str = Field(
        default="", description="comma-separated Discord user ids: admins in every guild and DMs"
    )
    admin_role_ids: str = Field(
        default="", description="comma-separated role ids: admins only inside LSTMUSE_GUILD_IDS"
    )
    guild_ids: str = Field(
        default="",
        description="your guilds: admin roles count only here; slash commands sync here at once",
    )
    max_jobs_per_user: int = Field(default=2, ge=1, description="jobs in flight per member")
    cooldown_seconds: float = Field(default=5.0, ge=0, description="between a member's requests")
    queue_cap: int = Field(default=200, ge=1, description="jobs waiting in all")
    job_timeout_seconds: float = Field(default=300.0, ge=1, description="wait for a result")
    train_job_timeout_seconds: float = Field(
        default=4 * 3600.0, ge=1, description="wait for a retrain to finish"
    )
    broker_timeout_seconds: float = Field(default=3.0, gt=0, description="Redis unreachable after")
    button_timeout_seconds: float = Field(
        default=7 * 24 * 3600.0, ge=10, description="buttons work this long, restarts included"
    )

    @field_validator("admin_user_ids", "admin_role_ids", "guild_ids")
    @classmethod
    def _check_ids(cls, text: str) -> str:
        """A typo in an id list fails at start, not on the first admin command."""
        for part in text.replace(" ", "").split(","):
            if part and not (part.isascii() and part.isdigit()):
                raise ValueError(f"{part!r} is not a Discord id (ids are numbers, comma-separated)")
        return text

    @staticmethod
    def _ids(text: str) -> set[int]:
        return {int(part) for part in text.replace(" ", "").split(",") if part}

    @property
    def admin_users(self) -> set[int]:
        return self._ids(self.admin_user_ids)

    @property
    def admin_roles(self) -> set[int]:
        return self._ids(self.admin_role_ids)

    @property
    def guilds(self) -> set[int]:
        return self._ids(self.guild_ids)


@lru_cache(maxsize=1)
def get_bot_settings() -> BotSettings:
    return BotSettings()
