"""``lstmuse-bot``: the Discord bot, or the console front end without a token.

lstmuse-bot             # Discord when DISCORD_TOKEN is set, else the console
lstmuse-bot --console   # the console even with a token
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path


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
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from bot.settings import get_bot_settings
    from lstmuse_core.settings import get_settings

    settings = get_bot_settings()
    if args.discord and settings.discord_token is None:
        parser.error(
            "DISCORD_TOKEN is not set: create a bot application in the Discord "
            "Developer Portal and put its token in the environment or .env"
        )
    if args.console or settings.discord_token is None:
        from bot.console import run_console
        from bot.runtime import build_service

        output = args.out or get_settings().output_dir
        logging.getLogger().setLevel(logging.WARNING)
        asyncio.run(run_console(build_service(settings, output), output))
        return 0
    from bot.discord_bot import run_discord

    run_discord(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
