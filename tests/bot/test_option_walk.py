"""Every row of the option tables, through every front end: a new row is offered everywhere.

Each option's example goes in through the text command, the slash command,
the console and the command line, and each must build the same request as
the row's own conversion does; ``!help`` and ``lstmuse ... --help`` must
show it. The service records the request instead of queueing it: what is
tested is the front ends, not the jobs.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import discord.ext.test as dpytest
import pytest
from dpytest_support import sent_messages
from interactions_support import install, slash

from bot.commands import COMMANDS, console_help
from bot.console import Console
from bot.discord_bot import LstmuseBot
from lstmuse_core.cli import build_parser, main, melody_request
from lstmuse_core.options import MELODY_OPTIONS, RETRAIN_OPTIONS, OptionSpec
from lstmuse_core.request import MelodyRequest, RetrainRequest

RETRAIN_STYLE = "folk"  # retrain's one required option, given with every other row


class RecordedRequests:
    """Stands in for the service's queueing methods: keeps each request, queues nothing."""

    def __init__(self) -> None:
        self.requests: list[Any] = []

    async def melody(self, user_id: int, request: MelodyRequest, status: Any = None) -> list:
        self.requests.append(request)
        return []

    async def retrain(self, request: RetrainRequest, **_: Any) -> str:
        self.requests.append(request)
        return "recorded"


@pytest.fixture
def recorded(discord_bot: LstmuseBot, monkeypatch: pytest.MonkeyPatch) -> RecordedRequests:
    record = RecordedRequests()
    monkeypatch.setattr(discord_bot.service, "melody", record.melody)
    monkeypatch.setattr(discord_bot.service, "retrain", record.retrain)
    member = dpytest.get_config().members[0]
    discord_bot.settings.admin_user_ids = str(member.id)  # retrain is for admins
    return record


def _melody(spec: OptionSpec) -> MelodyRequest:
    """The request the row's own conversion of its example makes."""
    return MelodyRequest(**{spec.field: spec.value(spec.example)})


def _retrain(spec: OptionSpec) -> RetrainRequest:
    return RetrainRequest(**{"style": RETRAIN_STYLE, spec.field: spec.value(spec.example)})


def _slash_value(spec: OptionSpec) -> Any:
    """The example as Discord sends a parameter of the row's kind."""
    return {"whole number": int, "number": float, "yes/no": lambda text: text == "yes"}.get(
        spec.kind, str
    )(spec.example)


def _one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("spec", MELODY_OPTIONS, ids=lambda spec: spec.name)
async def test_every_melody_option_reaches_every_front_end(
    spec: OptionSpec,
    discord_bot: LstmuseBot,
    recorded: RecordedRequests,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """The example of each melody option: text, slash, console and CLI ask alike; help shows it."""
    expected = _melody(spec)

    await dpytest.message(f"!melody {spec.typed()}")
    sent_messages()

    config = dpytest.get_config()
    fake = install(monkeypatch, discord_bot, config.channels[0])
    if spec.common:
        slash(discord_bot, config.members[0], config.channels[0], "melody", **{
            spec.name: _slash_value(spec)
        })  # fmt: skip
    else:
        slash(discord_bot, config.members[0], config.channels[0], "melody", options=spec.typed())
    await fake.wait_for(lambda _: len(recorded.requests) == 2)

    console = Console(discord_bot.service, tmp_path, out=io.StringIO())
    await console.handle(f"melody {spec.typed()}")

    cli_requests = []
    for flag in spec.flags:
        args = build_parser().parse_args(["generate", flag, spec.example])
        cli_requests.append(melody_request(args, args.style or MelodyRequest.style))

    assert recorded.requests == [expected] * 3
    assert cli_requests == [expected] * len(spec.flags)

    await dpytest.message("!help melody")
    assert f"- {spec.usage(markdown=True)}" in "\n".join(m.content for m in sent_messages())
    assert spec.usage() in console_help()
    monkeypatch.setenv("COLUMNS", "1000")  # argparse: one line per flag
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    shown = _one_line(capsys.readouterr().out)
    assert ", ".join(f"{flag} {spec.name.upper()}" for flag in spec.flags) in shown or (
        spec.choices and all(flag in shown for flag in spec.flags)
    )
    assert _one_line(spec.help.split(" (")[0].split(";")[0]) in shown
    assert f"default: {spec.default}" in shown


@pytest.mark.parametrize("spec", RETRAIN_OPTIONS, ids=lambda spec: spec.name)
async def test_every_retrain_option_reaches_every_front_end(
    spec: OptionSpec,
    discord_bot: LstmuseBot,
    recorded: RecordedRequests,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Each retrain option: text, slash and console alike; `lstmuse train` and help take it."""
    expected = _retrain(spec)
    typed = {"style": RETRAIN_STYLE, spec.name: spec.example}
    words = " ".join(f"{name}={value}" for name, value in typed.items())

    await dpytest.message(f"!retrain {words}")
    sent_messages()

    config = dpytest.get_config()
    fake = install(monkeypatch, discord_bot, config.channels[0])
    slash(discord_bot, config.members[0], config.channels[0], "retrain", **{
        "style": RETRAIN_STYLE, spec.name: _slash_value(spec)
    })  # fmt: skip
    await fake.wait_for(lambda _: len(recorded.requests) == 2)

    await Console(discord_bot.service, tmp_path, out=io.StringIO()).handle(f"retrain {words}")
    assert recorded.requests == [expected] * 3

    # `lstmuse train` runs the trainer directly, within its own wider capacity
    # (lstmuse_core.limits), under the same names.
    flag_value = [] if spec.kind == "yes/no" else [spec.example]
    style = [] if spec.name == "style" else ["--style", RETRAIN_STYLE]
    args = build_parser().parse_args(["train", *style, f"--{spec.name}", *flag_value])
    assert getattr(args, spec.field) == getattr(expected, spec.field)

    await dpytest.message("!help retrain")
    assert f"- {spec.usage(markdown=True)}" in "\n".join(m.content for m in sent_messages())
    assert spec.usage() in console_help()


def test_every_table_row_belongs_to_a_command() -> None:
    """The walk above covers the commands that offer the tables: melody and retrain."""
    assert COMMANDS["melody"].options == MELODY_OPTIONS
    assert COMMANDS["retrain"].options == RETRAIN_OPTIONS
