"""The queue end to end: real Redis, a real worker process, a tiny real model."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from celery.result import AsyncResult

from lstmuse_core.errors import JobFailed
from worker.artifacts import ArtifactError, LocalArtifactStore, RedisArtifactStore

pytestmark = pytest.mark.usefixtures("celery_worker_process")

REQUEST = {"style": "tinyfolk", "bars": 4, "random_seed": 9, "audio": "mp3", "image": "pianoroll"}


def send_generate(request: dict, job_id: str | None = None) -> AsyncResult:
    from worker.app import app

    return app.send_task(
        "lstmuse.generate", kwargs={"request": request}, task_id=job_id or str(uuid.uuid4())
    )


def test_generate_round_trip(redis_db: redis.Redis) -> None:
    """A request goes through Redis and the worker; MIDI, MP3 and PNG come back."""
    from pydub import AudioSegment

    from worker.artifacts import store_from_settings

    result = send_generate(REQUEST).get(timeout=120)
    assert result["style"] == "tinyfolk" and result["model_version"] == "v001"
    (melody,) = result["melodies"]
    assert melody["random_seed"] == 9 and melody["steps"] == 64
    store = store_from_settings(redis_db)
    assert store.get(melody["files"]["midi"]).startswith(b"MThd")
    assert store.get(melody["files"]["image"]).startswith(b"\x89PNG")
    audio = AudioSegment.from_file(io.BytesIO(store.get(melody["files"]["audio"])), format="mp3")
    assert audio.duration_seconds > 4


def test_requests_together_are_one_batch_and_reproducible() -> None:
    """A burst of requests all complete; each equals the same request sent alone."""
    burst = [
        send_generate({**REQUEST, "random_seed": seed, "audio": "none", "image": "none"})
        for seed in range(12)
    ]
    results = [r.get(timeout=180) for r in burst]
    alone = send_generate({**REQUEST, "random_seed": 5, "audio": "none", "image": "none"})
    assert alone.get(timeout=60)["melodies"][0]["symbols"] == results[5]["melodies"][0]["symbols"]
    assert len({r["melodies"][0]["symbols"] for r in results}) > 6


def test_bad_request_fails_with_its_reason() -> None:
    """A bad value fails that job with a message naming the parameter."""
    result = send_generate({**REQUEST, "temperature": 9})
    with pytest.raises(JobFailed, match="temperature=9"):
        result.get(timeout=60)
    unknown = send_generate({**REQUEST, "style": "nosuch"})
    with pytest.raises(JobFailed, match="style='nosuch'"):
        unknown.get(timeout=60)


def test_redelivered_job_returns_the_same_artifacts(redis_db: redis.Redis) -> None:
    """The same job id twice: one set of artifacts, the same result."""
    job_id = str(uuid.uuid4())
    first = send_generate(REQUEST, job_id).get(timeout=120)
    keys_before = sorted(redis_db.keys(f"lstmuse:artifact:{job_id}/*"))
    AsyncResult(job_id).forget()
    second = send_generate({**REQUEST, "random_seed": 1}, job_id).get(timeout=120)
    assert second == first
    assert sorted(redis_db.keys(f"lstmuse:artifact:{job_id}/*")) == keys_before


def test_retrain_progress_promotion_and_refusal(erk5_folder, redis_db: redis.Redis) -> None:
    """Retrain publishes PROGRESS, promotes a good model and keeps it over a worse one."""
    from worker.app import app
    from worker.catalogue import read_catalogue

    job = app.send_task(
        "lstmuse.retrain",
        kwargs={
            "style": "tinyfolk",
            "preset": "tiny",
            "epochs": 8,
            "force": True,
            "dataset_dir": str(erk5_folder),
        },
    )
    states = set()
    while not job.ready():
        states.add(job.state)
        if job.state == "PROGRESS" and "epoch" in (job.info or {}):
            assert {"loss_bits", "val_loss_bits", "eta_seconds"} <= set(job.info)
        time.sleep(0.2)
    summary = job.get(timeout=10)
    assert "PROGRESS" in states
    assert summary["promoted"] and summary["version"] == "v002"
    assert read_catalogue(redis_db)["tinyfolk"]["active_version"] == "v002"
    worse = app.send_task(
        "lstmuse.retrain",
        kwargs={
            "style": "tinyfolk",
            "preset": "tiny",
            "epochs": 1,
            "dataset_dir": str(erk5_folder),
        },
    )
    refused = worse.get(timeout=300)
    assert not refused["promoted"] and "kept v002" in refused["note"]
    assert read_catalogue(redis_db)["tinyfolk"]["active_version"] == "v002"


def test_killed_child_job_is_redelivered_and_completes(erk5_folder) -> None:
    """SIGKILL the worker child mid-retrain: the job runs again and finishes."""
    from worker.app import app

    job = app.send_task(
        "lstmuse.retrain",
        kwargs={
            "style": "tinykill",
            "preset": "tiny",
            "epochs": 3,
            "force": True,
            "dataset_dir": str(erk5_folder),
        },
    )
    deadline = time.monotonic() + 120
    while job.state != "PROGRESS" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.state == "PROGRESS"
    (active,) = [
        t for tasks in app.control.inspect().active().values() for t in tasks if t["id"] == job.id
    ]
    os.kill(active["worker_pid"], signal.SIGKILL)
    summary = job.get(timeout=300)
    assert summary["version"] == "v001" and summary["promoted"]


def test_time_limit_is_a_clear_failure(erk5_folder, worker_env) -> None:
    """A retrain over its time limit fails with the limit named; nothing is promoted."""
    from worker.app import app

    job = app.send_task(
        "lstmuse.retrain",
        kwargs={
            "style": "tinyslow",
            "preset": "seed",
            "epochs": 50,
            "dataset_dir": str(erk5_folder),
        },
        soft_time_limit=2,
        time_limit=30,
    )
    with pytest.raises(JobFailed, match=r"time limit \(2 s\).*active model is unchanged"):
        job.get(timeout=120)
    assert not (Path(worker_env["LSTMUSE_MODELS_DIR"]) / "tinyslow" / "ACTIVE").exists()


def test_artifacts_expire(redis_db: redis.Redis, tmp_path) -> None:
    """Artifacts vanish after their TTL, in Redis and in the local folder; size is capped."""
    stores = [
        RedisArtifactStore(redis_db, ttl_seconds=1, max_bytes=100),
        LocalArtifactStore(tmp_path, ttl_seconds=1, max_bytes=100),
    ]
    for store in stores:
        reference = store.put("job-1", "melody.mid", b"MThd")
        assert store.get(reference) == b"MThd"
        with pytest.raises(ArtifactError, match="over the limit"):
            store.put("job-1", "big.mid", b"x" * 101)
        with pytest.raises(ArtifactError, match="invalid"):
            store.get("../../etc/passwd")
    time.sleep(2.1)
    for store in stores:
        with pytest.raises(ArtifactError, match="expired"):
            store.get("job-1/melody.mid")


def test_bot_side_reads_the_catalogue_without_tensorflow(worker_env) -> None:
    """A process where TensorFlow and Keras cannot be imported reads the catalogue."""
    code = (
        "import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None\n"
        "import redis, json\n"
        "from worker.catalogue import read_catalogue\n"
        f"print(json.dumps(read_catalogue(redis.Redis.from_url({worker_env['LSTMUSE_REDIS_URL']!r}))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert '"tinyfolk"' in done.stdout and '"active_version"' in done.stdout
