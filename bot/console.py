"""The console front end: the bot's commands at a prompt (or from a pipe).

    $ lstmuse-bot --console
    lstmuse> !melody style=folk temp=0.8 bars=8 key=D
    lstmuse> harmonize tunes/reel.abc instrument=fiddle
    lstmuse> styles
    lstmuse> quit

The same parser and service as on Discord; files are written to the output
folder (``LSTMUSE_OUTPUT_DIR``, default ``out/``). Without
``LSTMUSE_REDIS_URL`` jobs run in this process; with it they go through the
real queue and workers. The person at the console is an admin.

Each line starts at once, beside the jobs still waiting (`Console.start`): a
job that waits minutes never holds up the next command. A line that builds
on the last melody (reroll, variation, continue) waits for the melodies in
flight first, as a person at the prompt would.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import sys
from pathlib import Path
from typing import TextIO

from bot.commands import COMMANDS, command_options, console_help, find_command
from bot.options import parse_options, request_from_text, split_words
from bot.service import LstmuseService, MelodyPost, one_tune, read_tune
from lstmuse_core.errors import InvalidParameter, LstmuseError
from lstmuse_core.options import HARMONIZE_OPTIONS, option_fields
from lstmuse_core.request import HarmonizeRequest, RetrainRequest

log = logging.getLogger(__name__)
CONSOLE_USER = 0
HELP = console_help()
# Commands that build on the last melody made.
FOLLOW_UPS = ("reroll", "variation", "continue")


class Console:
    def __init__(self, service: LstmuseService, output_dir: Path, out: TextIO = sys.stdout) -> None:
        self.service = service
        self.output_dir = output_dir
        self.out = out
        self.last: MelodyPost | None = None
        self.running: set[asyncio.Task[bool]] = set()

    async def start(self, line: str) -> bool:
        """Start a command line without waiting for its job; False when the user wants to leave."""
        command = line.strip().lstrip("!/").partition(" ")[0].lower()
        if command in ("quit", "exit"):
            return False
        spec = find_command(command)
        if spec is not None and spec.name in FOLLOW_UPS:
            await self.finish()
        task = asyncio.create_task(self.handle(line))
        self.running.add(task)
        task.add_done_callback(self.running.discard)
        return True

    async def finish(self) -> None:
        """Wait for every command still running."""
        while self.running:
            await asyncio.gather(*self.running)

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def status(self, text: str) -> None:
        self.say(f"  .. {text}")

    async def handle(self, line: str) -> bool:
        """Run one command line; False when the user wants to leave."""
        command, _, rest = line.strip().lstrip("!/").partition(" ")
        command = command.lower()
        if not command:
            return True
        if command in ("quit", "exit"):
            return False
        try:
            await self._dispatch(command, rest)
        except LstmuseError as error:
            self.say(f"Sorry: {error}")
        except Exception:
            log.exception("command %r failed", line)
            self.say("Sorry, something went wrong on our side; it has been logged.")
        return True

    async def _dispatch(self, typed: str, rest: str) -> None:
        """Run the table's command called ``typed`` (or an alias); anything else prints HELP."""
        service = self.service
        spec = find_command(typed)
        command = spec.name if spec else ""
        if command == "melody":
            await self._melodies(request_from_text(rest))
        elif command == "harmonize":
            await self._harmonize(rest)
        elif command in FOLLOW_UPS:
            if self.last is None:
                self.say("Make a melody first.")
                return
            make = {
                "reroll": service.reroll,
                "variation": service.variation,
                "continue": service.continuation,
            }[command]
            await self._melodies(make(self.last))
        elif command == "styles":
            self.say(await service.styles())
        elif command == "queue":
            self.say(await service.queue(CONSOLE_USER))
        elif command == "cancel":
            self.say(await service.cancel(CONSOLE_USER))
        elif command == "retrain":
            options = parse_options(rest)
            files = [Path(p) for p in split_words(options.pop("files", ""))]
            request = RetrainRequest.from_options(options)
            uploads = []
            for path in files:
                if not path.is_file():
                    raise InvalidParameter("files", str(path), "paths of music files or zips")
                uploads.append((path.name, path.read_bytes()))
            self.say(await service.retrain(request, uploads=uploads, status=self.status))
        elif command == "models":
            options = command_options(COMMANDS["models"], split_words(rest))
            self.say(await service.models(options.get("style")))
        elif command == "rollback":
            options = command_options(COMMANDS["rollback"], split_words(rest))
            self.say(await service.rollback(options["style"], options.get("version")))
        elif command == "help" and find_command(rest.strip().lstrip("!/")):
            asked = find_command(rest.strip().lstrip("!/"))
            assert asked is not None
            self.say(asked.help_text(prefix="").replace("**", "").replace("`", ""))
        else:
            self.say(HELP)

    async def _melodies(self, request: object) -> None:
        from lstmuse_core.request import MelodyRequest

        assert isinstance(request, MelodyRequest)
        posts = await self.service.melody(CONSOLE_USER, request, self.status)
        for post in posts:
            paths = self._write(post.files)
            self.say(f"Melody: {post.caption()}")
            self.say("  files: " + ", ".join(paths))
            for problem in post.problems:
                self.say(f"  note: {problem}")
            self.last = post

    async def _harmonize(self, rest: str) -> None:
        """``harmonize PATH [options]``: a local file, read as an attachment is."""
        words = split_words(rest)
        if not words or "=" in words[0]:
            one_tune([])  # refuses: no file
        path, typed = Path(words[0]), parse_options(" ".join(shlex.quote(w) for w in words[1:]))
        request = HarmonizeRequest.from_options(typed)
        if not path.is_file():
            raise InvalidParameter("tune", str(path), "the path of a file to harmonize")
        request = await read_tune(
            request,
            path.name,
            path.stat().st_size,
            lambda: asyncio.to_thread(path.read_bytes),
            option_fields(HARMONIZE_OPTIONS, typed),
        )
        post = await self.service.harmonize(CONSOLE_USER, request, self.status)
        self.say(post.text(markdown=False))
        self.say("  files: " + ", ".join(self._write(post.files)))

    def _write(self, files: list[tuple[str, bytes]]) -> list[str]:
        """Write ``files`` into the output folder; their paths."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, data in files:
            path = self.output_dir / name
            path.write_bytes(data)
            paths.append(str(path))
        return paths


async def run_console(
    service: LstmuseService, output_dir: Path, source: TextIO = sys.stdin
) -> None:
    console = Console(service, output_dir)
    interactive = source.isatty()
    if interactive:
        console.say("LSTMuse console. Type `help` for the commands, `quit` to leave.")
    while True:
        if interactive:
            print("lstmuse> ", end="", flush=True)
        line = await asyncio.to_thread(source.readline)
        if not line or not await console.start(line):
            break
    await console.finish()
