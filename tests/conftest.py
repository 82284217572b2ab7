"""Shared fixtures: isolated caches, a tiny model, real Redis and a real worker.

The tiny model learns real folk songs (ESAC erk5, 27 songs) in seconds; the
core, the worker and the bot tests all use it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from tests_support import REDIS_URL, SCRATCH_REDIS_URL

from lstmuse_core.model.train import StyleTrainingResult, train_style
from lstmuse_core.music.corpus import music21_corpus_root


@pytest.fixture(autouse=True)
def _isolated_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep caches out of the user's home; the committed models stay readable.

    The library's default cache is the platform's (``XDG_CACHE_HOME``); processes
    started by a test read ``LSTMUSE_CACHE_DIR`` through their settings.
    """
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("LSTMUSE_CACHE_DIR", str(tmp_path / "cache" / "lstmuse"))


@pytest.fixture(scope="session")
def erk5_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("erk5")
    shutil.copy(music21_corpus_root() / "essenFolksong" / "erk5.abc", folder / "erk5.abc")
    return folder


@pytest.fixture(scope="session")
def tiny_training(
    erk5_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> StyleTrainingResult:
    models = tmp_path_factory.mktemp("models")
    return train_style(
        "tinyfolk",
        preset_name="tiny",
        max_epochs=8,
        input_dir=erk5_folder,
        models_dir=models,
        cache_dir=tmp_path_factory.mktemp("cache"),
        seed=3,
    )


@pytest.fixture(scope="session")
def redis_db() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"no Redis at {REDIS_URL}: start one (.ci/ensure-redis)")
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture(scope="session")
def worker_env(
    tiny_training: StyleTrainingResult, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """Settings of the worker under test (and of the app objects in this process).

    Set in this process's environment for the session and restored afterwards,
    with the cached settings objects cleared both times.
    """
    env = {
        "LSTMUSE_REDIS_URL": REDIS_URL,
        "LSTMUSE_MODELS_DIR": str(tiny_training.bundle.path.parent.parent),
        "LSTMUSE_CACHE_DIR": str(tmp_path_factory.mktemp("worker-cache")),
        "LSTMUSE_UPLOADS_DIR": str(tmp_path_factory.mktemp("uploads")),
        "LSTMUSE_ARTIFACT_TTL_SECONDS": "600",
        # Longer than any test's job, and than the redelivery the kill tests wait for:
        # a killed child's job must come back through reject_on_worker_lost, not this
        # (the test of a killed worker starts its own with the production timeout).
        "LSTMUSE_GENERATE_VISIBILITY_TIMEOUT": "300",
    }
    from bot.settings import get_bot_settings
    from lstmuse_core.settings import get_settings

    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        get_bot_settings.cache_clear()
        yield env
    get_settings.cache_clear()
    get_bot_settings.cache_clear()


@pytest.fixture(scope="session")
def celery_worker_process(
    worker_env: dict[str, str], redis_db: redis.Redis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen[bytes]]:
    """``celery -A worker.app worker`` as separate processes, one a queue (prefork):
    ``generate`` with 2 children (yielded), ``train`` with 1."""
    from worker.app import app

    logs = tmp_path_factory.mktemp("worker-log")
    with (
        start_worker_process(app, ["-Q", "train", "-c", "1"], worker_env, logs / "train.log"),
        start_worker_process(
            app, ["-Q", "generate", "-c", "2"], worker_env, logs / "generate.log"
        ) as process,
    ):
        yield process


@pytest.fixture
def scratch_worker(worker_env: dict[str, str], tmp_path: Path) -> Any:
    """`start_scratch_worker` with the session worker's settings and this test's folder."""

    def start(options: list[str], app_module: str = "worker.app", **env: str) -> Any:
        return start_scratch_worker(worker_env, tmp_path, options, app_module, env)

    return start


@contextmanager
def start_scratch_worker(
    worker_env: dict[str, str],
    folder: Path,
    options: list[str],
    app_module: str,
    env: dict[str, str],
) -> Iterator[Any]:
    """A worker of a test's own on the scratch Redis database, flushed before and after;
    yields a Celery app on that database. ``app_module`` may be one of the test apps in
    ``tests/worker`` (their folder is on the worker's path); ``env`` adds settings."""
    from celery import Celery

    scratch = redis.Redis.from_url(SCRATCH_REDIS_URL)
    scratch.flushdb()
    app = Celery("lstmuse-test", broker=SCRATCH_REDIS_URL, backend=SCRATCH_REDIS_URL)
    test_apps = Path(__file__).resolve().parent / "worker"
    worker_settings = {
        **worker_env,
        "LSTMUSE_REDIS_URL": SCRATCH_REDIS_URL,
        "PYTHONPATH": os.pathsep.join([str(test_apps), os.environ.get("PYTHONPATH", "")]),
        **env,
    }
    try:
        with start_worker_process(
            app, options, worker_settings, folder / "worker.log", app_module=app_module
        ):
            yield app
    finally:
        scratch.flushdb()


@pytest.fixture(scope="session")
def worker_process_starter() -> Any:
    """`start_worker_process`, for tests that need a worker of their own."""
    return start_worker_process


@contextmanager
def start_worker_process(
    app: Any, options: list[str], env: dict[str, str], log: Path, app_module: str = "worker.app"
) -> Iterator[subprocess.Popen[bytes]]:
    """A prefork worker with the production flags plus ``options``; ready when it answers.

    ``app`` is a Celery app on the worker's broker (to ping it); the worker is
    stopped when the block ends.
    """
    handle = log.open("wb")
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    command = [sys.executable, "-m", "celery", "-A", app_module, "worker", "-P", "prefork"]
    process = subprocess.Popen(
        [*command, "--prefetch-multiplier", "1", "-l", "info", "-n", name, *options],
        env={**os.environ, **env},
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        deadline = time.monotonic() + 90
        hostname = name.replace("%h", socket.gethostname())
        while not app.control.ping(destination=[hostname], timeout=0.5):
            if process.poll() is not None:
                pytest.fail(f"the worker exited: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"the worker did not answer: {log.read_text()[-2000:]}")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        handle.close()


@pytest.fixture(scope="session")
def folk_dataset(tmp_path_factory: pytest.TempPathFactory):
    """The whole folk style (ESAC erk, 1,781 songs), read once per session."""
    from lstmuse_core.music.dataset import build_dataset

    return build_dataset("folk", cache_dir=tmp_path_factory.mktemp("folk-cache"))
