"""Start-up and memory of the processes that generate: the CLI, the console, a worker child.

Side by side with another checkout (the previous release, which read the
weights through Keras and TensorFlow), in one run: this checkout with the
interpreter that runs the script, the other with ``--before-python`` (default
the same). Run it from a virtualenv of what ``pip install ".[dev]"`` resolves
to now; the previous release also needed SciPy, which numba imports, when
installed, each time it loads a compiled function (0.15-0.3 s and ~20 MB):

* ``lstmuse generate --style folk --bars 8`` (MIDI + MP3 + piano roll) as a
  musician runs it: wall time and the child's peak memory (``ru_maxrss`` from
  ``wait4``), once numba's on-disk cache is warm (one untimed run first);
* the console (``lstmuse-bot --console``, jobs in-process): seconds from
  start to the first reply with files to ``!melody style=folk bars=8``;
* a generation worker (``-Q generate -c 1``) after ``--jobs`` requests
  (MIDI + MP3 + piano roll each): its child's resident memory (``VmRSS``) and
  peak (``VmHWM``);
* what ``pip install ".[worker]"`` (the generation image's virtualenv) and
  ``".[trainer]"`` install, in MB, summed over the files of the installed
  distributions they resolve to in this virtualenv.

Each checkout runs its own code (``cwd`` and ``PYTHONPATH`` are its folder)
and its own committed models. Medians of ``--runs``; the ratio is before /
now. Uses Redis database 12 of ``--redis`` for the workers (flushed).

    git worktree add /tmp/lstmuse-before 4e56a2f
    python bench/startup_bench.py --before-tree /tmp/lstmuse-before \
        [--before-python /path/to/a/venv-with-scipy/bin/python]
"""

from __future__ import annotations

import argparse
import functools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Callable
from pathlib import Path

import redis
from celery import Celery
from packaging.requirements import Requirement

from lstmuse_core.jobs.queue import GENERATE_QUEUE, GENERATE_TASK, JSON_ONLY

ROOT = Path(__file__).resolve().parents[1]
MELODY = {"style": "folk", "bars": 8}


def environment(tree: Path, **extra: str) -> dict[str, str]:
    """This process's environment, pointed at ``tree``'s code and committed models."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LSTMUSE_")}
    return {
        **env,
        "PYTHONPATH": str(tree),
        "LSTMUSE_MODELS_DIR": str(tree / "trained_models"),
        "DISCORD_TOKEN": "",
        **extra,
    }


def cli_run(tree: Path, python: str) -> tuple[float, float]:
    """One ``lstmuse generate``: (wall seconds, peak resident MB of the process)."""
    with tempfile.TemporaryDirectory() as out:
        command = [python, "-m", "lstmuse_core.cli", "generate", "--style", "folk"]
        command += ["--bars", "8", "--out", out]
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=tree, env=environment(tree), stdout=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0 or len(list(Path(out).iterdir())) != 3:
            raise RuntimeError(f"lstmuse generate failed in {tree}")
    return seconds, usage.ru_maxrss * 1024 / 1e6  # KiB on Linux -> MB


def console_first_reply(tree: Path, python: str) -> float:
    """Seconds from starting the console to its first melody reply."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            [python, "-m", "bot", "--console", "--out", out],
            cwd=tree,
            env=environment(tree, PYTHONUNBUFFERED="1"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write("!melody style=folk bars=8\n")
        process.stdin.flush()
        seconds = None
        for line in process.stdout:
            if "Melody:" in line:
                seconds = time.perf_counter() - started
                break
        process.stdin.write("quit\n")
        process.stdin.close()
        process.wait(timeout=60)
    if seconds is None:
        raise RuntimeError(f"the console of {tree} gave no melody")
    return seconds


def _console_row(tree: Path, python: str) -> tuple[float]:
    return (console_first_reply(tree, python),)


def worker_child_memory(
    tree: Path, python: str, redis_url: str, jobs: int
) -> tuple[float, float, float]:
    """A ``-Q generate -c 1`` worker after ``jobs`` melodies: (child VmRSS MB, child VmHWM
    MB, seconds for the jobs)."""
    redis.Redis.from_url(redis_url).flushdb()
    name = f"bench-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    env = environment(
        tree,
        LSTMUSE_REDIS_URL=redis_url,
        OPENBLAS_NUM_THREADS="1",
        LSTMUSE_MAX_MEMORY_PER_CHILD_MIB="8192",  # measure the child, do not replace it
    )
    command = [python, "-m", "celery", "-A", "worker.app", "worker", "-Q"]
    command += [GENERATE_QUEUE, "-c", "1", "--prefetch-multiplier", "1", "-n", name]
    app = Celery("startup-bench", broker=redis_url, backend=redis_url, set_as_current=False)
    app.conf.update(**JSON_ONLY)
    with tempfile.TemporaryFile() as log:
        worker = subprocess.Popen(command, cwd=tree, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 180
            while not app.control.ping(destination=[name], timeout=0.5):
                if worker.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"worker of {tree} did not start: {log.read()[-2000:]!r}")
            started = time.perf_counter()
            results = [
                app.send_task(
                    GENERATE_TASK,
                    kwargs={"request": {**MELODY, "random_seed": seed}},
                    queue=GENERATE_QUEUE,
                )
                for seed in range(jobs)
            ]
            for result in results:
                result.get(timeout=600)
            seconds = time.perf_counter() - started
            (child,) = app.control.inspect(destination=[name], timeout=5).stats()[name]["pool"][
                "processes"
            ]
            memory = {
                line.split(":")[0]: int(line.split()[1]) * 1024 / 1e6  # kB -> MB
                for line in Path(f"/proc/{child}/status").read_text().splitlines()
                if line.startswith(("VmRSS", "VmHWM"))
            }
        finally:
            worker.terminate()
            worker.wait(timeout=60)
            redis.Redis.from_url(redis_url).flushdb()
    return memory["VmRSS"], memory["VmHWM"], seconds


def installed_mb(extra: str) -> float:
    """MB of installed files of the project's dependencies plus ``extra``'s, resolved here."""
    from importlib import metadata

    def key(name: str) -> str:
        return name.lower().replace("_", "-").replace(".", "-")

    installed = {key(d.metadata["Name"]): d for d in metadata.distributions()}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found: set[str] = set()

    def add(requirement: Requirement, extras: set[str]) -> None:
        if requirement.marker and not any(
            requirement.marker.evaluate({"extra": e}) for e in extras | {""}
        ):
            return
        if key(requirement.name) == "lstmuse":
            for name in requirement.extras:
                for text in project["optional-dependencies"][name]:
                    add(Requirement(text), set())
            return
        if key(requirement.name) in found or key(requirement.name) not in installed:
            return
        found.add(key(requirement.name))
        for text in installed[key(requirement.name)].requires or []:
            add(Requirement(text), set(requirement.extras))

    for text in project["dependencies"]:
        add(Requirement(text), set())
    add(Requirement(f"lstmuse[{extra}]"), set())
    files = (f for name in found for f in installed[name].files or [])
    return sum(Path(f.locate()).stat().st_size for f in files if Path(f.locate()).is_file()) / 1e6


def medians(runs: int, measure: Callable[[], tuple[float, ...]]) -> tuple[float, ...]:
    rows = [measure() for _ in range(runs)]
    return tuple(statistics.median(column) for column in zip(*rows, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before-tree", type=Path, required=True)
    parser.add_argument(
        "--before-python", default=sys.executable, help="the interpreter of --before-tree"
    )
    parser.add_argument("--runs", type=int, default=5, help="CLI and console runs per checkout")
    parser.add_argument("--jobs", type=int, default=100, help="worker jobs per checkout")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    args = parser.parse_args()
    trees = {
        "before": (args.before_tree.resolve(), args.before_python),
        "now": (ROOT, sys.executable),
    }
    redis_url = f"{args.redis.rstrip('/')}/12"
    figures: dict[str, dict[str, float]] = {}
    for label, (tree, python) in trees.items():
        print(f"{label}: {tree} ({python})", flush=True)
        cli_run(tree, python)  # fills numba's on-disk cache of this checkout
        cli_seconds, cli_mb = medians(args.runs, functools.partial(cli_run, tree, python))
        console = medians(args.runs, functools.partial(_console_row, tree, python))[0]
        rss, peak, jobs_seconds = worker_child_memory(tree, python, redis_url, args.jobs)
        figures[label] = {
            "CLI generate, wall s": cli_seconds,
            "CLI generate, peak MB": cli_mb,
            "console, first reply s": console,
            f"worker child after {args.jobs} jobs, RSS MB": rss,
            f"worker child after {args.jobs} jobs, peak MB": peak,
            f"worker, {args.jobs} jobs s": jobs_seconds,
        }
    targets = {
        "CLI generate, wall s": "at most 1.0",
        "CLI generate, peak MB": "at most 250",
        "console, first reply s": "at most 3",
        f"worker child after {args.jobs} jobs, RSS MB": "at most 300",
    }
    print(
        f'\ninstalled packages: ".[worker]" (generation) {installed_mb("worker"):.0f} MB, '
        f'".[trainer]" (with TensorFlow) {installed_mb("trainer"):.0f} MB'
    )
    print(f"\nmedians of {args.runs} runs (CLI, console); folk, 8 bars, MIDI + MP3 + piano roll")
    print("| what | before | now | before / now | target |\n| --- | ---: | ---: | ---: | --- |")
    for what in figures["now"]:
        before, now = figures["before"][what], figures["now"][what]
        print(
            f"| {what} | {before:.2f} | {now:.2f} | {before / now:.2f}x | {targets.get(what, '')} |"
        )


if __name__ == "__main__":
    main()
