"""A real Redis database and a real Celery worker process, with a tiny model."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from lstmuse_core.train import StyleTrainingResult

REDIS_URL = os.environ.get("LSTMUSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


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
) -> dict[str, str]:
    """Settings of the worker under test (and of the app objects in this process)."""
    env = {
        "LSTMUSE_REDIS_URL": REDIS_URL,
        "LSTMUSE_MODELS_DIR": str(tiny_training.bundle.path.parent.parent),
        "LSTMUSE_CACHE_DIR": str(tmp_path_factory.mktemp("worker-cache")),
        "LSTMUSE_UPLOADS_DIR": str(tmp_path_factory.mktemp("uploads")),
        "LSTMUSE_ARTIFACT_TTL_SECONDS": "600",
        "LSTMUSE_VISIBILITY_TIMEOUT": "20",
        "LSTMUSE_BATCH_INTERVAL_SECONDS": "0.2",
    }
    os.environ.update(env)
    from lstmuse_core.settings import get_settings

    get_settings.cache_clear()
    return env


@pytest.fixture(scope="session")
def celery_worker_process(
    worker_env: dict[str, str], redis_db: redis.Redis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen[bytes]]:
    """``celery -A worker.app worker`` as a separate process (prefork, 2 children)."""
    log = tmp_path_factory.mktemp("worker-log") / "worker.log"
    handle = log.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker.app",
            "worker",
            "-Q",
            "generate,train",
            "-c",
            "2",
            "-P",
            "prefork",
            "--prefetch-multiplier",
            "8",
            "-l",
            "info",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        env={**os.environ, **worker_env},
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
    )
    from worker.app import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            break
        if process.poll() is not None:
            pytest.fail(f"the worker exited: {log.read_text()[-2000:]}")
    else:
        process.kill()
        pytest.fail(f"the worker did not answer: {log.read_text()[-2000:]}")
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    handle.close()
