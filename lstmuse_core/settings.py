"""Settings from the environment, read once per process into a typed object.

Every variable has the ``LSTMUSE_`` prefix (``DISCORD_TOKEN`` is the bot's
own); `.env.example` lists them all with their defaults. Secrets are
`SecretStr`, so they never show up in a log line or a repr.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration shared by the worker, the console and the bot."""

    model_config = SettingsConfigDict(
        env_prefix="LSTMUSE_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    redis_url: str | None = Field(
        default=None,
        description="Redis for the queue, results and artifacts; unset: run jobs in-process",
    )
    models_dir: Path | None = Field(
        default=None, description="model bundles (default: trained_models/)"
    )
    cache_dir: Path | None = Field(
        default=None, description="preprocessing cache (~/.cache/lstmuse)"
    )
    uploads_dir: Path = Field(default=Path("uploads"), description="admins' uploaded datasets")
    output_dir: Path = Field(default=Path("out"), description="where the console writes files")
    soundfont: Path | None = Field(
        default=None, description="a General MIDI .sf2 (default: FluidR3)"
    )
    artifact_store: str = Field(
        default="redis", description="'redis' (TTL keys) or 'local' (a folder)"
    )
    artifact_dir: Path = Field(default=Path("artifacts"), description="folder for the local store")
    artifact_ttl_seconds: int = Field(
        default=24 * 3600, ge=60, description="how long artifacts live"
    )
    artifact_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, description="per melody")
    generate_soft_time_limit: int = Field(default=60, ge=1, description="seconds, per melody job")
    generate_time_limit: int = Field(
        default=90, ge=2, description="seconds, then the child is killed"
    )
    train_soft_time_limit: int = Field(default=3 * 3600, ge=1, description="seconds, per retrain")
    train_time_limit: int = Field(default=3 * 3600 + 300, ge=2, description="seconds, hard")
    generate_visibility_timeout: int = Field(
        default=20,
        ge=5,
        description="seconds before a vanished generate worker's jobs are redelivered",
    )
    train_visibility_timeout: int = Field(
        default=4 * 3600,
        ge=10,
        description="seconds before a vanished train worker's retrain is redelivered",
    )
    max_attempts: int = Field(default=3, ge=1, description="deliveries of one job before giving up")
    result_expires_seconds: int = Field(default=24 * 3600, ge=60, description="task results kept")
    max_memory_per_child_mib: int = Field(
        default=1536,
        ge=64,
        description="a worker child using more is replaced after its job (MiB)",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
