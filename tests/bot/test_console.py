"""The console front end: in-process jobs, and the full local stack through Redis."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.console import Console
from bot.jobs import InProcessJobs
from bot.runtime import build_service
from bot.settings import BotSettings
from lstmuse_core.errors import JobFailed
from lstmuse_core.jobs.progress import Progress
from lstmuse_core.jobs.queue import UNEXPECTED_FAILURE
from lstmuse_core.jobs.results import MelodyResult, RetrainResult
from lstmuse_core.model.train import StyleTrainingResult
from lstmuse_core.request import MelodyRequest, RetrainRequest
from lstmuse_core.settings import Settings


def _console(
    tiny_training: StyleTrainingResult, folder: Path, **settings: object
) -> tuple[Console, io.StringIO]:
    """An embedded-mode console on the tiny test model, writing into ``folder``."""
    models = tiny_training.bundle.path.parent.parent
    bot_settings = BotSettings(discord_token=None, models_dir=models, **settings)  # type: ignore[arg-type]
    output = io.StringIO()
    return Console(build_service(bot_settings), folder, out=output), output


async def test_console_in_process(tiny_training: StyleTrainingResult, tmp_path: Path) -> None:
    """Embedded mode: a melody command writes MIDI, MP3 and PNG (or the ABC asked for);
    errors are one line."""
    console, output = _console(tiny_training, tmp_path, cooldown_seconds=0)
    assert await console.handle("!melody style=tinyfolk bars=2 random_seed=4 key=G mode=major")
    assert await console.handle("variation")
    assert await console.handle("melody temp=5")
    assert await console.handle("!melody style=tinyfolk random_seed=5 export=abc audio=none")
    assert not await console.handle("quit")
    text = output.getvalue()
    (midi,) = tmp_path.glob("tinyfolk-4-t0_8-*.mid")  # style, seed, temperature, job id
    assert sorted(p.name for p in tmp_path.glob(midi.stem + ".*")) == [
        midi.stem + suffix for suffix in (".mid", ".mp3", ".png")
    ]
    assert "key G major" in text and "random seed 4" in text
    (tune,) = tmp_path.glob("tinyfolk-5-t0_8-*.abc")
    assert sorted(p.suffix for p in tmp_path.glob(tune.stem + ".*")) == [".abc", ".mid", ".png"]
    assert tune.read_text(encoding="utf-8").startswith("%abc-2.1\nX:1\n")
    assert text.count("Melody:") == 3
    assert "Sorry: temperature=5.0 is not allowed" in text
    assert not list(tmp_path.glob(".*")), "the store left copies in the output folder"


def _run_console(lines: str, env: dict[str, str], out: Path) -> subprocess.CompletedProcess[str]:
    """``lstmuse-bot --console`` as a separate process, fed ``lines`` on stdin."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "--console", "--out", str(out)],
        input=lines,
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_local_stack_answers_through_redis_and_a_worker(
    celery_worker_process, worker_env, tmp_path: Path
) -> None:
    """lstmuse-bot --console with LSTMUSE_REDIS_URL goes through the queue and the worker."""
    env = {**os.environ, **worker_env, "LSTMUSE_COOLDOWN_SECONDS": "0"}
    done = _run_console("styles\nmelody style=tinyfolk bars=2 random_seed=8\n", env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "**tinyfolk**" in done.stdout
    assert "random seed 8" in done.stdout
    (midi,) = tmp_path.glob("tinyfolk-8-t0_8-*.mid")  # the style's own temperature
    assert midi.read_bytes().startswith(b"MThd")
    code = "import sys; import bot.jobs, bot.service; print('tensorflow' in sys.modules)"
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env
        ).stdout.strip()
        == "False"
    )


async def test_console_refuses_before_queueing(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """An unknown style or a non-number is refused by name, nothing is queued, no apology."""
    console, output = _console(tiny_training, tmp_path, cooldown_seconds=60)
    for line in (
        "melody style=nosuch",
        "retrain style=tinyfolk epochs=lots",
        "retrain style=tinyfolk epochs=0",
        "rollback style=../../etc",
        "melody style=tinyfolk bars=1 random_seed=3 audio=none image=none",
    ):
        assert await console.handle(line)
    text = output.getvalue()
    assert "Sorry: style='nosuch' is not allowed: one of tinyfolk" in text
    assert "Sorry: epochs='lots' is not allowed: a whole number" in text
    assert "Sorry: epochs=0 is not allowed" in text
    assert "Sorry: style='../../etc' is not allowed" in text
    assert text.count("Queued") == 1 and "wait" not in text  # the refusals cost no cooldown
    assert "something went wrong" not in text
    assert "random seed 3" in text


# TensorFlow's start-up lines (see lstmuse_core.tensorflow_logs): none may reach the user.
TENSORFLOW_NOISE = ("oneDNN", "cpu_feature_guard", "absl::InitializeLog", "port.cc")


def test_piped_melodies_get_no_cooldown_and_no_tensorflow_lines(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """Four piped melody lines in lstmuse-bot --console: four melodies, no wait, quiet stderr."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("LSTMUSE_REDIS_URL", "LSTMUSE_COOLDOWN_SECONDS", "TF_CPP_MIN_LOG_LEVEL")
        and not key.startswith("LSTMUSE_MAX_JOBS")
    }
    env["LSTMUSE_MODELS_DIR"] = str(tiny_training.bundle.path.parent.parent)
    line = "!melody style=tinyfolk bars=1 audio=none image=none random_seed={}\n"
    done = _run_console("".join(line.format(seed) for seed in (1, 2, 3, 4)), env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Melody:") == 4, done.stdout
    assert "wait" not in done.stdout and "Sorry" not in done.stdout
    assert [n for n in TENSORFLOW_NOISE if n in done.stderr] == [], done.stderr


def test_console_settings_lift_member_limits_unless_set(monkeypatch) -> None:
    """The console drops the cooldown and job limit by default, keeps explicit values."""
    from bot.__main__ import console_settings

    monkeypatch.delenv("LSTMUSE_COOLDOWN_SECONDS", raising=False)
    monkeypatch.delenv("LSTMUSE_MAX_JOBS_PER_USER", raising=False)
    default = console_settings(BotSettings(discord_token=None))
    assert default.cooldown_seconds == 0 and default.max_jobs_per_user == default.queue_cap
    monkeypatch.setenv("LSTMUSE_COOLDOWN_SECONDS", "30")
    explicit = console_settings(BotSettings(discord_token=None, max_jobs_per_user=2))
    assert explicit.cooldown_seconds == 30 and explicit.max_jobs_per_user == 2


# A jig in G with a one-eighth pickup, as a member might keep one in a file.
JIG_ABC = """X:1
T:Test jig
M:6/8
L:1/8
Q:3/8=100
K:G
D|GAB d2B|c2A B2G|ABG FGA|G3 G2:|
"""


async def test_console_harmonizes_a_local_abc_file(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """`harmonize PATH`: the file is read as an attachment is, harmonized in-process, its
    chord chart and key, meter, pickup and tempo printed, its files written; no file, or
    one that is not there, is refused by name."""
    tune = tmp_path / "jig.abc"
    tune.write_text(JIG_ABC, encoding="utf-8")
    out = tmp_path / "out"
    console, output = _console(tiny_training, out, cooldown_seconds=0)
    assert await console.handle(f"harmonize {tune} audio=none export=abc")
    assert await console.handle("harmonize")
    assert await console.handle("harmonize nothere.abc")
    text = output.getvalue()
    assert "Harmonized: tune jig.abc, key G major" in text, text
    assert "tempo dotted quarter = 100 (150 bpm)" in text
    assert "4 bars of 6/8 after a 1-eighth pickup" in text
    assert "backing guitar (the MIDI's 2nd track)" in text  # where the melody alone is
    (chart,) = [line for line in text.splitlines() if line.startswith("| ")]
    assert chart.count("|") == 5 and chart.endswith(" G |"), chart  # the tonic last
    (abc,) = out.glob("jig-harmonized-*.abc")
    assert sorted(p.suffix for p in out.glob(abc.stem + ".*")) == [".abc", ".mid", ".png"]
    assert '"G"' in abc.read_text(encoding="utf-8")  # the chords written as symbols
    assert "Sorry: tune='nothing attached' is not allowed: one attached file" in text
    assert "Sorry: tune='nothere.abc' is not allowed: the path of a file to harmonize" in text


async def test_console_help_for_one_command(tmp_path: Path) -> None:
    """`help melody` shows that command's options with ranges and an example, not the list."""
    output = io.StringIO()
    service = build_service(BotSettings(discord_token=None))
    console = Console(service, tmp_path, out=output)
    assert await console.handle("help melody")
    text = output.getvalue()
    assert text.startswith("melody: generate melodies")
    assert "temp" in text and "0.1-2" in text and "Example: melody " in text
    assert "rollback" not in text


async def test_a_retrain_cancelled_while_it_runs_stops_at_its_next_epoch(
    erk5_folder: Path, tmp_path: Path
) -> None:
    """Embedded mode: a running retrain that is cancelled (or given up on) writes no version;
    it read its corpus through the settings' preprocessing cache, as the worker does."""
    settings = Settings(
        models_dir=tmp_path / "models", uploads_dir=tmp_path, cache_dir=tmp_path / "cache"
    )
    jobs = InProcessJobs(settings)
    music = await jobs.upload("retrain-1", "erk5.abc", (erk5_folder / "erk5.abc").read_bytes(), 600)
    request = RetrainRequest("tinystopped", preset="tiny", epochs=200, force=True)
    await jobs.submit_retrain("retrain-1", request, [music])
    stages: list[str] = []
    epochs: list[int] = []

    async def on_stage(state: str, progress: Progress | None) -> None:
        assert state == "PROGRESS" and progress is not None
        stages.append(progress.stage)
        if progress.epoch is not None:
            epochs.append(progress.epoch.epoch)
            await jobs.cancel("retrain-1")

    with pytest.raises(JobFailed, match="retraining tinystopped was cancelled"):
        await jobs.wait("retrain-1", RetrainResult, on_stage, timeout=300)
    assert len(epochs) == 1 and not (tmp_path / "models" / "tinystopped").exists()
    assert stages[-1] == "training"
    assert any((tmp_path / "cache").rglob("*")), "the retrain ignored the cache folder"


async def test_an_unexpected_error_in_a_job_reads_as_in_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Embedded mode: a bug in a job is logged and answered with the worker's own words."""
    from lstmuse_core.runners import generation

    def broken_load(*_: object) -> None:
        raise TypeError("a bug")

    monkeypatch.setattr(generation, "load_generator", broken_load)
    jobs = InProcessJobs(Settings(models_dir=tmp_path))
    await jobs.submit_melody("melody-1", MelodyRequest(style="folk", random_seed=1))
    with pytest.raises(JobFailed) as failed:
        await jobs.wait("melody-1", MelodyResult, None, timeout=300)
    assert str(failed.value) == UNEXPECTED_FAILURE


async def _until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_job_lost_in_a_redis_restart_is_answered_at_once_and_the_console_serves_on(
    tiny_training: StyleTrainingResult, tmp_path: Path
) -> None:
    """Redis without persistence restarts while a melody is queued (no worker runs): the
    console says it was lost within seconds, and answered `styles` while the melody waited."""
    import redis
    from redis_servers import RedisServer

    from lstmuse_core.runners.catalogue import publish_catalogue

    models = tiny_training.bundle.path.parent.parent
    with RedisServer(tmp_path / "redis", persistent=False) as server:
        publish_catalogue(redis.Redis.from_url(server.url()), models)
        settings = BotSettings(
            discord_token=None, redis_url=server.url(), models_dir=models, cooldown_seconds=0
        )
        output = io.StringIO()
        console = Console(build_service(settings), tmp_path, out=output)
        assert await console.start("!melody style=tinyfolk bars=2")
        await _until(lambda: "Queued" in output.getvalue())
        assert await console.start("styles")
        await _until(lambda: "**tinyfolk**" in output.getvalue())
        assert console.running and "Melody:" not in output.getvalue()  # the melody waits
        await asyncio.to_thread(server.restart)
        restarted = time.monotonic()
        await asyncio.wait_for(console.finish(), timeout=30)
        answered_after = time.monotonic() - restarted
    assert "Sorry: the job was lost in a queue restart, please try again" in output.getvalue()
    assert answered_after < 10
