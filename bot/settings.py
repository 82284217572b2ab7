"""The bot's settings: ``DISCORD_TOKEN`` plus ``LSTMUSE_*`` variables (see .env.example).

The token is a `SecretStr`: it never appears in a log line, a repr or a reply.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class BotSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LSTMUSE_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    discord_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("DISCORD_TOKEN", "LSTMUSE_DISCORD_TOKEN"),
        description="the bot's token (Discord mode); never logged",
    )
    redis_url: str | None = Field(default=None, description="unset: jobs run in-process")
    command_prefix: str = Field(default="!", description="prefix of text commands")
    admin_user_ids: str = Field(default="", description="comma-separated Discord user ids")
    admin_role_ids: str = Field(default="", description="comma-separated Discord role ids")
    guild_ids: str = Field(default="", description="guilds to sync slash commands to at once")
    max_jobs_per_user: int = Field(default=2, ge=1, description="jobs in flight per member")
    cooldown_seconds: float = Field(default=5.0, ge=0, description="between a member's requests")
    queue_cap: int = Field(default=200, ge=1, description="jobs waiting in all")
    job_timeout_seconds: float = Field(default=300.0, ge=1, description="wait for a result")
    train_job_timeout_seconds: float = Field(
        default=4 * 3600.0, ge=1, description="wait for a retrain to finish"
    )
    broker_timeout_seconds: float = Field(default=3.0, gt=0, description="Redis unreachable after")
    button_timeout_seconds: float = Field(
        default=3600.0, ge=10, description="buttons work this long"
    )

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
