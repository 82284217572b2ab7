"""The job contract's boundaries: the bot never imports the worker, the model or the
renderer, and the worker serves exactly the contract's tasks on the contract's queues."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests_support import SCRATCH_REDIS_URL

import bot
from bot.service import MelodyPost
from lstmuse_core.jobs import GeneratedMelody, MelodyRequest
from lstmuse_core.jobs.queue import QUEUES, TASK_QUEUES
from lstmuse_core.music.meter import Meter

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "keras", "music21", "worker")
# What a bot in queue mode never loads: the sampler's compiler, the model, the
# renderer and the job runners are the worker's (each name: a module and its children).
BOT_SERVICE_FREE_OF = (
    "numba",
    "lstmuse_core.model",
    "lstmuse_core.music.render",
    "lstmuse_core.runners",
    "music21",
    "keras",
    "tensorflow",
    "worker",
)
CONTRACT_FREE_OF = (
    *BOT_SERVICE_FREE_OF,
    "celery",
    "kombu",
    "discord",
    "bot",
)
# Prints the loaded modules that are, or are inside, one of the names in ``heavy``.
LOADED = (
    "print(json.dumps(sorted(m for m in sys.modules if sys.modules[m] is not None and any("
    "m == name or m.startswith(name + '.') for name in heavy))))\n"
)


def bot_modules() -> list[str]:
    return sorted(
        module.name for module in pkgutil.walk_packages(bot.__path__, prefix=f"{bot.__name__}.")
    )


def test_every_bot_module_imports_without_the_worker_or_tensorflow() -> None:
    """Each bot module imports with ``worker`` unimportable, and loads no TensorFlow or Keras."""
    modules = bot_modules()
    assert {"bot.jobs", "bot.service", "bot.runtime", "bot.console"} <= set(modules)
    code = (
        "import importlib, json, sys\n"
        "sys.modules['worker'] = None  # any 'import worker...' raises ImportError\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}"
        " and sys.modules[m] is not None)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == []
    # Imports inside functions run only when called: read them from the source too.
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert name.split(".")[0] not in HEAVY, f"{path.name}:{node.lineno} imports {name}"


def test_the_contract_imports_without_celery_discord_or_the_model() -> None:
    """``lstmuse_core.jobs`` and every module in it load no Celery, discord, numba, model,
    renderer, runner, Keras or music21."""
    code = (
        "import importlib, json, pkgutil, sys\n"
        "import lstmuse_core.jobs as jobs\n"
        "for module in pkgutil.iter_modules(jobs.__path__):\n"
        "    importlib.import_module(f'lstmuse_core.jobs.{module.name}')\n"
        f"heavy = {CONTRACT_FREE_OF!r}\n" + LOADED
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_the_bots_service_starts_without_the_model_renderer_or_worker() -> None:
    """The service the Discord and console front ends build in queue mode, used once, has
    loaded no numba, model, renderer, runner, music21, Keras, TensorFlow or worker."""
    code = (
        "import asyncio, json, sys\n"
        "sys.modules['worker'] = None  # any 'import worker...' raises ImportError\n"
        "import bot.console, bot.discord_bot\n"
        "from bot.runtime import build_service\n"
        "from bot.settings import BotSettings\n"
        f"settings = BotSettings(discord_token=None, redis_url={SCRATCH_REDIS_URL!r})\n"
        "service = build_service(settings)\n"
        "print(asyncio.run(service.styles()))\n"
        f"heavy = {BOT_SERVICE_FREE_OF!r}\n" + LOADED
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith(("No styles", "**Styles**"))  # it read the catalogue
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_worker_serves_the_contracts_tasks_on_its_queues() -> None:
    """Every contract task is registered under its name and routed to its queue, no others."""
    import worker.tasks  # noqa: F401  (registers the tasks)
    from worker.app import app

    ours = {name for name in app.tasks if not name.startswith("celery.")}
    assert ours == set(TASK_QUEUES)
    for name, queue in TASK_QUEUES.items():
        assert app.amqp.router.route({}, name)["queue"].name == queue
    assert {queue.name for queue in app.conf.task_queues} == set(QUEUES)


def post(steps: int, meter_text: str, bpm: float, seed: tuple[str, ...] = ()) -> MelodyPost:
    """A post of a melody of ``steps`` 16th notes (the ``seed`` included)."""
    symbols = (
        seed
        + ("60", "_", "_", "_") * ((steps - len(seed)) // 4)
        + ("_",) * ((steps - len(seed)) % 4)
    )
    request = MelodyRequest(
        style="folk",
        bpm=bpm,
        meter=Meter.parse(meter_text),
        seed_melody=seed,
        random_seed=5,
        temperature=0.8,  # resolved, as in every result
    )
    melody = GeneratedMelody(
        symbols, 5, "C major", Meter.parse(meter_text), {"midi": "job-1/m.mid"}
    )
    return MelodyPost(request, "folk", "v001", melody)


@pytest.mark.parametrize(
    ("steps", "meter", "bpm", "seed", "expected"),
    [
        (96, "3/4", 75, (), "8 bars of 3/4 (19 s)"),
        (120, "3/4", 75, ("60", "_") * 12, "8 bars of 3/4 after a 2-bar seed (24 s)"),
        (120, "4/4", 120, (), "7.5 bars of 4/4 (15 s)"),
        (12, "6/8", 60, (), "1 bar of 6/8 (3 s)"),
        (36, "6/8", 60, ("60", "_", "_") * 2, "2 bars of 6/8 after the bar of a 1-beat seed (9 s)"),
    ],
)
def test_length_fact_counts_bars_of_the_meter_after_the_seed_and_seconds(
    steps: int, meter: str, bpm: float, seed: tuple[str, ...], expected: str
) -> None:
    """The embed's Length: bars of the actual meter (after the seed, if any), then seconds."""
    made = post(steps, meter, bpm, seed)
    assert made.facts["Length"] == expected
    assert made.caption().count("length " + expected) == 1
