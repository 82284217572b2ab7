"""The queue end to end: real Redis, a real worker process, a tiny real model."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from celery.result import AsyncResult
from tests_support import SCRATCH_REDIS_URL, wait_for_state

from lstmuse_core.errors import JobFailed
from lstmuse_core.jobs.artifacts import ArtifactError, LocalArtifactStore, RedisArtifactStore
from lstmuse_core.jobs.queue import retrain_payload
from lstmuse_core.jobs.results import MelodyResult, RetrainResult, RollbackResult
from lstmuse_core.request import MelodyRequest, RetrainRequest

pytestmark = pytest.mark.usefixtures("celery_worker_process")

REQUEST = {"style": "tinyfolk", "bars": 4, "random_seed": 9, "audio": "mp3", "image": "pianoroll"}


def send_generate(request: dict, job_id: str | None = None) -> AsyncResult:
    from worker.app import app

    return app.send_task(
        "lstmuse.generate", kwargs={"request": request}, task_id=job_id or str(uuid.uuid4())
    )


def job_result(job_id: str) -> AsyncResult:
    """The job's result on the worker's app (not on whichever app a test made current)."""
    from worker.app import app

    return AsyncResult(job_id, app=app)


def test_generate_round_trip(redis_db: redis.Redis) -> None:
    """A request goes through Redis and the worker; a valid `MelodyResult` names MIDI, MP3, PNG."""
    from pydub import AudioSegment

    from lstmuse_core.jobs.artifacts import store_from_settings
    from lstmuse_core.settings import get_settings

    result = MelodyResult.from_json(send_generate(REQUEST).get(timeout=120))
    assert result.style == "tinyfolk" and result.model_version == "v001"
    # The request as it ran: the style's own temperature, as no temperature was asked.
    assert result.request == MelodyRequest.from_json(REQUEST).replace(temperature=0.8)
    (melody,) = result.melodies
    assert melody.random_seed == 9 and melody.steps == 4 * melody.meter.bar_steps
    store = store_from_settings(get_settings(), redis_db)
    assert store.get(melody.files["midi"]).startswith(b"MThd")
    assert store.get(melody.files["image"]).startswith(b"\x89PNG")
    audio = AudioSegment.from_file(io.BytesIO(store.get(melody.files["audio"])), format="mp3")
    assert audio.duration_seconds > 4


def test_burst_completes_and_each_melody_depends_only_on_its_seed() -> None:
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


def test_harmonize_round_trip_and_a_refused_tune(redis_db: redis.Redis) -> None:
    """``lstmuse.harmonize`` on the generate queue: a 3/4 tune with a pickup comes back with
    its chords (the tonic last) and a MIDI file of its own notes, where they were; a tune
    its request refuses fails naming ``tune``."""
    import pretty_midi

    from lstmuse_core.jobs.artifacts import store_from_settings
    from lstmuse_core.jobs.queue import harmonize_payload
    from lstmuse_core.jobs.results import HarmonizeResult
    from lstmuse_core.music.meter import Meter
    from lstmuse_core.request import HarmonizeRequest
    from lstmuse_core.settings import get_settings
    from worker.app import app

    # D major, a one-quarter pickup: A | d f a | g e c | d2 (bar lines every 12 steps).
    symbols = ["r"] * 8 + ["69", "_", "_", "_"]
    for pitch in (74, 78, 81, 79, 76, 73):
        symbols += [str(pitch), "_", "_", "_"]
    symbols += ["74"] + ["_"] * 11
    request = HarmonizeRequest(
        symbols=tuple(symbols),
        meter=Meter(3, 4),
        key="D major",
        bpm=120.0,
        name="t.abc",
        audio="none",
        image="none",
    )
    sent = app.send_task("lstmuse.harmonize", kwargs=harmonize_payload(request))
    result = HarmonizeResult.from_json(sent.get(timeout=120))
    assert result.request == request and result.key == "D major"
    assert result.chords[0][0] >= 8 and result.chords[-1][2] == "D"  # none over the rest
    store = store_from_settings(get_settings(), redis_db)
    midi = pretty_midi.PrettyMIDI(io.BytesIO(store.get(result.files["midi"])))
    notes = midi.instruments[0].notes
    assert [n.pitch for n in notes] == [69, 74, 78, 81, 79, 76, 73, 74]
    assert notes[0].start == pytest.approx(1.0)  # two quarters of rest at 120 bpm
    refused = app.send_task(
        "lstmuse.harmonize", kwargs={"request": {**request.to_json(), "symbols": "_ 60"}}
    )
    with pytest.raises(JobFailed, match="tune='_' is not allowed"):
        refused.get(timeout=60)


def test_a_retrain_request_is_rebuilt_and_checked_by_its_type() -> None:
    """The worker reads ``{"request": ...}`` as a `RetrainRequest`: a refused field fails the
    job naming it, before anything trains."""
    from worker.app import app

    refused = app.send_task(
        "lstmuse.retrain", kwargs={"request": {"style": "tinyfolk", "epochs": 0}}
    )
    with pytest.raises(JobFailed, match="epochs=0"):
        refused.get(timeout=60)


def test_redelivered_job_returns_the_same_artifacts(redis_db: redis.Redis) -> None:
    """The same job id twice: one set of artifacts, the same result."""
    job_id = str(uuid.uuid4())
    first = send_generate(REQUEST, job_id).get(timeout=120)
    keys_before = sorted(redis_db.keys(f"lstmuse:artifact:{job_id}/*"))
    job_result(job_id).forget()
    second = send_generate({**REQUEST, "random_seed": 1}, job_id).get(timeout=120)
    assert second == first
    assert sorted(redis_db.keys(f"lstmuse:artifact:{job_id}/*")) == keys_before


def test_retrain_progress_promotion_and_refusal(erk5_folder, redis_db: redis.Redis) -> None:
    """Retrain publishes PROGRESS, promotes a good model and keeps it over a worse one."""
    from lstmuse_core.jobs.catalogue import read_catalogue
    from worker.app import app

    job = app.send_task(
        "lstmuse.retrain",
        kwargs=retrain_payload(
            RetrainRequest("tinyfolk", preset="tiny", epochs=8, force=True),
            dataset_dir=str(erk5_folder),
        ),
    )
    states = set()
    while not job.ready():
        states.add(job.state)
        if job.state == "PROGRESS" and "epoch" in (job.info or {}):
            assert {"loss_bits", "val_loss_bits", "eta_seconds"} <= set(job.info)
        time.sleep(0.2)
    summary = RetrainResult.from_json(job.get(timeout=10))
    assert "PROGRESS" in states
    assert summary.promoted and summary.version == "v002" and summary.epochs > 0
    assert read_catalogue(redis_db)["tinyfolk"].active_version == "v002"
    worse = app.send_task(
        "lstmuse.retrain",
        kwargs=retrain_payload(
            RetrainRequest("tinyfolk", preset="tiny", epochs=1),
            dataset_dir=str(erk5_folder),
        ),
    )
    refused = worse.get(timeout=300)
    assert not refused["promoted"] and "kept v002" in refused["note"]
    assert read_catalogue(redis_db)["tinyfolk"].active_version == "v002"


def test_killed_child_job_is_redelivered_and_completes(erk5_folder) -> None:
    """SIGKILL the worker child mid-retrain: the job runs again and finishes."""
    from worker.app import app

    job = app.send_task(
        "lstmuse.retrain",
        kwargs=retrain_payload(
            RetrainRequest("tinykill", preset="tiny", epochs=3, force=True),
            dataset_dir=str(erk5_folder),
        ),
    )
    wait_for_state(job, {"PROGRESS"}, 120)
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
        kwargs=retrain_payload(
            RetrainRequest("tinyslow", preset="seed", epochs=50),
            dataset_dir=str(erk5_folder),
        ),
        soft_time_limit=2,
        time_limit=10,
    )
    # The soft limit normally stops it; if it lands in code that swallows the
    # exception (corpus reading catches Exception), the hard kill must.
    pattern = r"time limit \((2|10) s\).*active model is unchanged"
    with pytest.raises(JobFailed, match=pattern):
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
        "from lstmuse_core.jobs.catalogue import catalogue_to_json, read_catalogue\n"
        f"client = redis.Redis.from_url({worker_env['LSTMUSE_REDIS_URL']!r})\n"
        "print(json.dumps(catalogue_to_json(read_catalogue(client))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert '"tinyfolk"' in done.stdout and '"active_version"' in done.stdout


# --- No job lost, none harmed by another (issue 11) --------------------------------------

# Long enough to render for a few seconds (two melodies of ~290 s of audio each).
SLOW_REQUEST = {**REQUEST, "bars": 48, "bpm": 40, "count": 2, "random_seed": 77}


def child_running(job_id: str) -> int:
    """The pid of the pool child running ``job_id`` (Celery's own view)."""
    from worker.app import app

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for tasks in (app.control.inspect(timeout=1).active() or {}).values():
            for task in tasks:
                if task["id"] == job_id and task.get("worker_pid"):
                    return int(task["worker_pid"])
    raise AssertionError(f"no worker child reports job {job_id} as active")


def test_killed_child_mid_render_job_completes_once(redis_db: redis.Redis) -> None:
    """SIGKILL the child rendering a melody: a new child finishes it; one result, one file set."""
    job = send_generate(SLOW_REQUEST)
    wait_for_state(job, {"STARTED", "PROGRESS"}, timeout=120)
    os.kill(child_running(job.id), signal.SIGKILL)
    result = job.get(timeout=60)  # visibility_timeout is 300 s: this is the redelivery
    assert [m["random_seed"] for m in result["melodies"]] == [77, 78]
    references = {ref for m in result["melodies"] for ref in m["files"].values()}
    assert len(references) == 6
    keys = {k.decode() for k in redis_db.keys(f"lstmuse:artifact:{job.id}/*")}
    assert keys == {f"lstmuse:artifact:{ref}" for ref in references}
    assert int(redis_db.get(f"lstmuse:job:{job.id}:attempts")) == 2
    job_result(job.id).forget()
    again = send_generate(SLOW_REQUEST, job.id).get(timeout=60)
    assert again == result  # the stored result, not a second run


def test_time_limits_end_a_melody_job_with_a_clear_failure() -> None:
    """A melody job past its time limits fails with the limit named, within seconds."""
    from worker.app import app

    job = app.send_task(
        "lstmuse.generate",
        kwargs={"request": {**SLOW_REQUEST, "random_seed": 78}},
        soft_time_limit=1,
        time_limit=3,
    )
    with pytest.raises(JobFailed, match=r"ran past its time limit \([13] s\)"):
        job.get(timeout=60)
    assert job.state == "FAILURE"
    follow_up = send_generate({**REQUEST, "audio": "none", "image": "none"})
    assert follow_up.get(timeout=120)["melodies"]  # the worker replaced the child


def test_cancelled_job_is_never_run(redis_db: redis.Redis, erk5_folder) -> None:
    """A job whose cancel key is set (the bot's cancel) ends REVOKED and makes no files."""
    from lstmuse_core.jobs.keys import cancelled_key
    from worker.app import app

    melody_id, retrain_id = str(uuid.uuid4()), str(uuid.uuid4())
    for job_id in (melody_id, retrain_id):
        # Only the key: Celery's in-memory revoked ids die with a worker restart.
        redis_db.set(cancelled_key(job_id), "1", ex=600)
    melody = send_generate(REQUEST, melody_id)
    retrain = app.send_task(
        "lstmuse.retrain",
        kwargs=retrain_payload(
            RetrainRequest("tinycancel", preset="tiny", epochs=1, force=True),
            dataset_dir=str(erk5_folder),
        ),
        task_id=retrain_id,
    )
    assert wait_for_state(melody, {"REVOKED", "SUCCESS", "FAILURE"}, 60) == "REVOKED"
    assert wait_for_state(retrain, {"REVOKED", "SUCCESS", "FAILURE"}, 60) == "REVOKED"
    time.sleep(1)
    assert redis_db.keys(f"lstmuse:artifact:{melody_id}/*") == []
    assert redis_db.get(f"lstmuse:job:{melody_id}:result") is None
    assert redis_db.get(f"lstmuse:job:{retrain_id}:result") is None


def test_bad_request_does_not_harm_the_one_beside_it() -> None:
    """A raw payload with a 300-letter style fails alone; the request sent with it completes."""
    bad = send_generate({**REQUEST, "style": "x" * 300})
    good = send_generate({**REQUEST, "random_seed": 12})
    assert good.get(timeout=60)["melodies"][0]["random_seed"] == 12
    with pytest.raises(JobFailed) as failure:
        bad.get(timeout=30)
    assert "Traceback" not in str(failure.value) and len(str(failure.value)) < 300


@pytest.fixture
def generation_only_worker(tiny_training, scratch_worker, tmp_path):
    """A worker serving only ``generate`` on a Redis DB of its own; nobody serves ``train``.

    Its models folder holds ``tinyfolk`` v001 then v002 (both made active), so
    a rollback has somewhere to go. Yields (app, models folder).
    """
    from lstmuse_core.model.bundle import set_active
    from worker.app import app as worker_app

    models = tmp_path / "models"
    for version in ("v001", "v002"):
        shutil.copytree(tiny_training.bundle.path, models / "tinyfolk" / version)
    set_active("tinyfolk", "v001", models)
    set_active("tinyfolk", "v002", models)
    with scratch_worker(["-Q", "generate", "-c", "1"], LSTMUSE_MODELS_DIR=str(models)) as app:
        app.conf.update(
            task_serializer="json",
            result_serializer="json",
            accept_content=["json"],
            task_routes=worker_app.conf.task_routes,  # the routing under test
        )
        yield app, models


def test_rollback_is_served_beside_a_busy_train_queue_and_honours_its_deadline(
    generation_only_worker, erk5_folder
) -> None:
    """With the train queue blocked a rollback runs; one past its deadline or expiry does not."""
    from lstmuse_core.model.bundle import active_version

    app, models = generation_only_worker
    retrain = app.send_task(
        "lstmuse.retrain",
        kwargs=retrain_payload(RetrainRequest("tinyfolk"), dataset_dir=str(erk5_folder)),
    )
    late = app.send_task(
        "lstmuse.rollback", kwargs={"style": "tinyfolk", "deadline": time.time() - 1}
    )
    expired = app.send_task(
        "lstmuse.rollback",
        kwargs={"style": "tinyfolk"},
        expires=datetime.now(UTC) - timedelta(seconds=1),
    )
    assert wait_for_state(late, {"REVOKED", "SUCCESS", "FAILURE"}, 60) == "REVOKED"
    assert wait_for_state(expired, {"REVOKED", "SUCCESS", "FAILURE"}, 60) == "REVOKED"
    assert active_version("tinyfolk", models) == "v002"
    served = RollbackResult.from_json(
        app.send_task(
            "lstmuse.rollback", kwargs={"style": "tinyfolk", "deadline": time.time() + 120}
        ).get(timeout=60)
    )
    assert (served.active_version, served.was) == ("v001", "v002")
    assert active_version("tinyfolk", models) == "v001"
    assert retrain.state == "PENDING"  # still queued: nothing serves train here


def test_worker_refuses_the_local_artifact_store_with_a_queue(worker_env) -> None:
    """LSTMUSE_ARTIFACT_STORE=local with a Redis queue: the worker exits and says why."""
    env = {
        **os.environ,
        **worker_env,
        "LSTMUSE_REDIS_URL": SCRATCH_REDIS_URL,
        "LSTMUSE_ARTIFACT_STORE": "local",
    }
    command = [sys.executable, "-m", "celery", "-A", "worker.app", "worker", "-Q", "generate"]
    try:
        done = subprocess.run(
            [*command, "-c", "1", "-n", f"refused-{uuid.uuid4().hex[:6]}@%h"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=Path(__file__).resolve().parents[2],
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the worker started with the local artifact store")
    assert done.returncode != 0
    assert "LSTMUSE_ARTIFACT_STORE=local cannot be used by a queue worker" in done.stderr


def test_a_worker_of_both_queues_is_refused_with_the_reason(worker_env) -> None:
    """A worker started for generate and train (or for no queue: all) exits and says why:
    each queue has its own redelivery timeout."""
    env = {**os.environ, **worker_env, "LSTMUSE_REDIS_URL": SCRATCH_REDIS_URL}
    command = [sys.executable, "-m", "celery", "-A", "worker.app", "worker", "-c", "1"]
    for queues in (["-Q", "generate,train"], []):
        done = subprocess.run(
            [*command, *queues, "-n", f"refused-{uuid.uuid4().hex[:6]}@%h"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert done.returncode != 0, queues
        assert "a worker serves one queue, not generate,train" in done.stderr, queues


def test_hard_time_limit_kill_is_a_clear_failure(scratch_worker):
    """A job that outlives its soft limit is killed at the hard one and fails saying so."""
    with scratch_worker(["-c", "1"], app_module="stubborn_app") as app:
        job = app.send_task("test.stubborn", args=[60], soft_time_limit=1, time_limit=3)
        with pytest.raises(JobFailed, match=r"ran past its time limit \(3 s\)"):
            job.get(timeout=30)
        after = app.send_task("test.stubborn", args=[0])
        assert after.get(timeout=30) == "finished"  # the child was replaced


def test_each_retrain_stages_uploads_in_its_own_folder(tmp_path, erk5_folder) -> None:
    """Two jobs of one style unpack into separate folders; each is removed when it ends."""
    from lstmuse_core.errors import InvalidParameter
    from lstmuse_core.runners.training import staged_uploads, unpack_uploads

    upload = [("erk5.abc", (erk5_folder / "erk5.abc").read_bytes())]
    with (
        staged_uploads("tinyfolk", upload, tmp_path, "job-a") as first,
        staged_uploads("tinyfolk", upload, tmp_path, "job-b") as second,
    ):
        assert first != second and first.parent == second.parent == tmp_path / "tinyfolk"
        assert [p.name for p in first.iterdir()] == [p.name for p in second.iterdir()]
    assert not first.exists() and not second.exists()
    with pytest.raises(InvalidParameter, match="job id"):
        unpack_uploads("tinyfolk", upload, tmp_path, "../escape")


def test_a_retrain_cancelled_while_it_runs_stops_and_writes_no_version(
    redis_db: redis.Redis, erk5_folder, worker_env: dict[str, str]
) -> None:
    """The bot's cancel (or its giving up) reaches a running retrain at its next epoch."""
    from lstmuse_core.jobs.keys import cancelled_key
    from worker.app import app

    job = app.send_task(
        "lstmuse.retrain",
        kwargs=retrain_payload(
            RetrainRequest("tinystopped", preset="tiny", epochs=200, force=True),
            dataset_dir=str(erk5_folder),
        ),
    )
    deadline = time.monotonic() + 120
    while "epoch" not in (job.info if isinstance(job.info, dict) else {}):
        assert time.monotonic() < deadline, f"no epoch reported; {job.state}"
        time.sleep(0.1)
    redis_db.set(cancelled_key(job.id), "1", ex=600)  # what `CeleryJobs.cancel` sets
    assert wait_for_state(job, {"REVOKED", "SUCCESS", "FAILURE"}, 120) == "REVOKED"
    assert not (Path(worker_env["LSTMUSE_MODELS_DIR"]) / "tinystopped").exists()
    assert redis_db.get(f"lstmuse:job:{job.id}:result") is None
