"""Crashes and restarts: a whole worker killed, a retrain beside a short redelivery, and
Redis restarted under a working worker. Each test runs its own redis-server and workers."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
import uuid
from pathlib import Path

import redis
from celery import Celery
from redis_servers import RedisServer
from tests_support import wait_for_state

from lstmuse_core.jobs.keys import CATALOGUE_KEY, attempts_key, cancelled_key
from lstmuse_core.jobs.queue import JSON_ONLY, TASK_ROUTES, retrain_payload
from lstmuse_core.music.corpus import music21_corpus_root
from lstmuse_core.request import RetrainRequest
from lstmuse_core.settings import Settings

REQUEST = {"style": "tinyfolk", "bars": 8, "audio": "mp3", "image": "none"}


def client_app(url: str) -> Celery:
    """A sender on ``url`` with the contract's routes, as the bot sends."""
    app = Celery(f"lstmuse-test-{uuid.uuid4().hex[:6]}", broker=url, backend=url)
    app.conf.update(**JSON_ONLY, task_routes=TASK_ROUTES)
    return app


def children_of(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def test_a_killed_worker_s_melody_jobs_are_answered_soon_and_once(
    worker_env, worker_process_starter, tmp_path: Path
) -> None:
    """SIGKILL a generate worker (main process, then its children) with jobs in hand: a new
    worker answers every job within 30 s of the kill (the held ones after the 20 s
    redelivery), and each job's files are written once."""
    with RedisServer(tmp_path / "redis", persistent=False) as server:
        app = client_app(server.url())
        env = {**worker_env, "LSTMUSE_REDIS_URL": server.url()}
        production = Settings.model_fields["generate_visibility_timeout"].default
        env["LSTMUSE_GENERATE_VISIBILITY_TIMEOUT"] = str(production)
        store = redis.Redis.from_url(server.url())
        with worker_process_starter(
            app, ["-Q", "generate", "-c", "2"], env, tmp_path / "a.log"
        ) as first:
            jobs = [
                app.send_task("lstmuse.generate", kwargs={"request": {**REQUEST, "random_seed": s}})
                for s in range(24)
            ]
            deadline = time.monotonic() + 120
            while sum(job.state == "SUCCESS" for job in jobs) < 3:
                assert time.monotonic() < deadline, "the first worker answered nothing"
                time.sleep(0.05)
            children = children_of(first.pid)
            os.kill(first.pid, signal.SIGKILL)  # an OOM kill of the main process
            for child in children:  # the host went down with it
                os.kill(child, signal.SIGKILL)
            killed_at = time.monotonic()
            first.wait()
        in_hand = store.hlen("unacked")
        assert in_hand >= 1, "the killed worker held no job"
        scratch = Path(tempfile.gettempdir()) / f"lstmuse-worker-{first.pid}"
        assert scratch.is_dir()  # its temporary folder, left behind
        with worker_process_starter(app, ["-Q", "generate", "-c", "2"], env, tmp_path / "b.log"):
            assert not scratch.exists(), "the new worker did not remove the dead one's folder"
            answered_after = 0.0
            for job in jobs:
                result = job.get(timeout=max(1.0, killed_at + 30 - time.monotonic()))
                answered_after = max(answered_after, time.monotonic() - killed_at)
                (melody,) = result["melodies"]
                files = {key.decode() for key in store.keys(f"lstmuse:artifact:{job.id}/*")}
                assert files == {f"lstmuse:artifact:{ref}" for ref in melody["files"].values()}
                assert int(store.get(attempts_key(job.id))) <= 2
        print(f"{in_hand} held jobs; every job answered {answered_after:.1f} s after the kill")
        assert answered_after < 30


def test_a_melody_job_longer_than_the_visibility_timeout_is_delivered_once(
    worker_env, worker_process_starter, tmp_path: Path
) -> None:
    """A melody job running 12 s under a 5 s visibility timeout (its heartbeat keeps the
    delivery fresh) is neither put back nor started beside itself by a second child."""
    with RedisServer(tmp_path / "redis", persistent=False) as server:
        app = client_app(server.url())
        env = {
            **worker_env,
            "LSTMUSE_REDIS_URL": server.url(),
            "LSTMUSE_GENERATE_VISIBILITY_TIMEOUT": "5",
            "PYTHONPATH": os.pathsep.join(
                [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
            ),
        }
        store = redis.Redis.from_url(server.url())
        log = tmp_path / "worker.log"
        with worker_process_starter(
            app, ["-Q", "generate", "-c", "2"], env, log, app_module="slow_melody_app"
        ):
            started = time.monotonic()
            job = app.send_task("lstmuse.generate", kwargs={"request": {**REQUEST, "bars": 2}})
            result = job.get(timeout=120)
            ran_for = time.monotonic() - started
            time.sleep(2)  # a redelivery restored at the very end would be received by now
        assert ran_for > 2 * 5, f"the job took only {ran_for:.1f} s"
        assert result["melodies"]
        assert int(store.get(attempts_key(job.id))) == 1
        assert log.read_text().count(f"Task lstmuse.generate[{job.id}] received") == 1
        assert store.hlen("unacked") == 0


def test_a_running_retrain_is_not_redelivered_by_a_short_generate_sweep(
    worker_env, worker_process_starter, tmp_path: Path
) -> None:
    """Beside a generate worker that redelivers after 3 s, a retrain running for longer is
    neither put back on its queue nor started a second time. The retrain reads a book of
    313 songs (ESAC altdeu10): reading and a tiny network's epochs on it outlast the 10 s
    watched, where erk5's 27 songs stopped early, sometimes within them."""
    songs = tmp_path / "songs"
    songs.mkdir()
    shutil.copy(music21_corpus_root() / "essenFolksong" / "altdeu10.abc", songs)
    with RedisServer(tmp_path / "redis", persistent=False) as server:
        app = client_app(server.url())
        env = {**worker_env, "LSTMUSE_REDIS_URL": server.url()}
        env["LSTMUSE_MODELS_DIR"] = str(tmp_path / "models")
        store = redis.Redis.from_url(server.url())
        short = {**env, "LSTMUSE_GENERATE_VISIBILITY_TIMEOUT": "5"}
        with (
            worker_process_starter(app, ["-Q", "generate", "-c", "1"], short, tmp_path / "g.log"),
            worker_process_starter(app, ["-Q", "train", "-c", "1"], env, tmp_path / "t.log"),
        ):
            retrain = app.send_task(
                "lstmuse.retrain",
                kwargs=retrain_payload(
                    RetrainRequest("tinyonce", preset="tiny", epochs=200, force=True),
                    dataset_dir=str(songs),
                ),
            )
            wait_for_state(retrain, {"STARTED", "PROGRESS"}, 120)
            watched_until = time.monotonic() + 10  # two of the generate worker's timeouts
            while time.monotonic() < watched_until:
                assert store.llen("train") == 0, "the running retrain was put back"
                assert store.hlen("unacked_train") == 1 and store.hlen("unacked") == 0
                assert retrain.state in ("STARTED", "PROGRESS")
                time.sleep(0.5)
            assert int(store.get(attempts_key(retrain.id))) == 1
            store.set(cancelled_key(retrain.id), 1, ex=600)  # end it at its next epoch
            wait_for_state(retrain, {"REVOKED"}, 60)
        assert int(store.get(attempts_key(retrain.id))) == 1


def test_a_worker_serves_after_each_of_ten_redis_restarts(
    worker_env, worker_process_starter, tmp_path: Path
) -> None:
    """Restart redis-server 10 times under a working generate worker: after each, a new
    job is answered by the same worker process, within 30 s of Redis's return."""
    with RedisServer(tmp_path / "redis", persistent=False) as server:
        app = client_app(server.url())
        env = {**worker_env, "LSTMUSE_REDIS_URL": server.url()}
        request = {**REQUEST, "audio": "none", "bars": 2}
        log = tmp_path / "worker.log"
        with worker_process_starter(app, ["-Q", "generate", "-c", "1"], env, log) as worker:
            app.send_task("lstmuse.generate", kwargs={"request": request}).get(timeout=60)
            slowest = 0.0
            for restart in range(10):
                server.restart()
                back = time.monotonic()
                job = app.send_task("lstmuse.generate", kwargs={"request": request})
                assert job.get(timeout=30)["melodies"], restart
                slowest = max(slowest, time.monotonic() - back)
                assert worker.poll() is None, log.read_text()[-2000:]
            catalogue_back = time.monotonic() + 10  # the bot refuses every style without it
            while not redis.Redis.from_url(server.url()).exists(CATALOGUE_KEY):
                assert time.monotonic() < catalogue_back, "the catalogue was not published again"
                time.sleep(0.2)
        print(f"slowest answer after a Redis restart: {slowest:.1f} s")
        assert "Unrecoverable error" not in log.read_text()


async def test_a_melody_queued_across_a_persistent_redis_restart_is_answered(
    worker_env, worker_process_starter, tmp_path: Path
) -> None:
    """Redis with its append-only file restarts while a melody is queued: the bot's wait is
    not told it was lost, and a worker started afterwards answers it."""
    import asyncio

    from bot.jobs import CeleryJobs
    from lstmuse_core.jobs.results import MelodyResult
    from lstmuse_core.request import MelodyRequest

    with RedisServer(tmp_path / "redis", persistent=True) as server:
        jobs = CeleryJobs(server.url())
        request = MelodyRequest(style="tinyfolk", bars=2, random_seed=3)
        await jobs.submit_melody("melody-kept", request)
        waiting = asyncio.create_task(jobs.wait("melody-kept", MelodyResult, None, 120))
        await asyncio.sleep(0.5)
        await asyncio.to_thread(server.restart)
        restarted = time.monotonic()
        env = {**worker_env, "LSTMUSE_REDIS_URL": server.url()}
        app = client_app(server.url())
        log = tmp_path / "worker.log"
        with worker_process_starter(app, ["-Q", "generate", "-c", "1"], env, log):
            result = await asyncio.wait_for(waiting, timeout=90)
        print(f"answered {time.monotonic() - restarted:.1f} s after the restart (worker start)")
    assert result.melodies[0].random_seed == 3
