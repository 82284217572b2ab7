"""``lstmuse-bot``: the Discord bot, or the console front end without a token.

lstmuse-bot             # Discord when DISCORD_TOKEN is set, else the console
lstmuse-bot --console   # the console even with a token

The console is the local operator's: it has no cooldown and no per-member job
limit (those protect a Discord server from its members) unless
``LSTMUSE_COOLDOWN_SECONDS`` or ``LSTMUSE_MAX_JOBS_PER_USER`` set them.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lstmuse_core.tensorflow_logs import quiet_tensorflow_logs

if TYPE_CHECKING:
    from bot.settings import BotSettings


def console_settings(settings: BotSettings) -> BotSettings:
    """``settings`` for the console: no cooldown and no per-member job limit by default.

    A value the environment (or ``.env``) sets explicitly is kept; the queue
    cap stays, and bounds the operator's jobs instead.
    """
    update: dict[str, float | int] = {}
    if "cooldown_seconds" not in settings.model_fields_set:
        update["cooldown_seconds"] = 0.0
    if "max_jobs_per_user" not in settings.model_fields_set:
        update["max_jobs_per_user"] = settings.queue_cap
    return settings.model_copy(update=update)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lstmuse-bot", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--console", action="store_true", help="use the console front end")
    mode.add_argument(
        "--discord",
        action="store_true",
        help="run on Discord; fails at once if DISCORD_TOKEN is missing",
    )
    parser.add_argument("--out", type=Path, help="folder for the console's files")
    args = parser.parse_args(argv)
    quiet_tensorflow_logs()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from bot.settings import get_bot_settings

    settings = get_bot_settings()
    if args.discord and settings.discord_token is None:
        parser.error(
            "DISCORD_TOKEN is not set: create a bot application in the Discord "
            "Developer Portal and put its token in the environment or .env"
        )
    if args.console or settings.discord_token is None:
        from bot.console import run_console
        from bot.runtime import build_service

        output = args.out or settings.output_dir
        logging.getLogger().setLevel(logging.WARNING)
        asyncio.run(run_console(build_service(console_settings(settings)), output))
        return 0
    from bot.discord_bot import run_discord

    run_discord(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
