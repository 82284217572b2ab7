"""docker-compose.yml, the Dockerfile and .env.example agree with the project."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import yaml

from bot.settings import BotSettings
from lstmuse_core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _env_example() -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    return dict(pairs)


def test_env_example_lists_every_setting() -> None:
    """Each setting of the worker, console and bot, and each variable docker-compose.yml
    reads, has a line in .env.example."""
    names = {f"LSTMUSE_{n.upper()}" for n in Settings.model_fields} | {
        f"LSTMUSE_{n.upper()}" for n in BotSettings.model_fields if n != "discord_token"
    }
    compose_reads = set(re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.yml").read_text()))
    assert compose_reads == {"REDIS_MAXMEMORY"}
    assert names | compose_reads | {"DISCORD_TOKEN"} == set(_env_example())


def test_keep_running_starts_a_failed_process_again_and_stops_on_term(tmp_path) -> None:
    """.ci/keep-running (make stack's worker supervisor) restarts a process that exits with
    an error, and stops it and itself on SIGTERM."""
    import signal
    import subprocess
    import time

    runs = tmp_path / "runs"
    loop = subprocess.Popen(
        [ROOT / ".ci" / "keep-running", tmp_path / "log", "sh", "-c", f"echo run >> {runs}; exit 3"]
    )
    deadline = time.monotonic() + 10
    while not runs.exists() or len(runs.read_text().split()) < 2:
        assert time.monotonic() < deadline, "it was not started again"
        time.sleep(0.1)
    assert "exited with status 3" in (tmp_path / "log").read_text()
    loop.send_signal(signal.SIGTERM)
    assert loop.wait(timeout=5) == 0


def test_compose_services_commands_volumes_and_environment() -> None:
    """Every service's command exists in the project; volumes and variables are declared."""
    compose = _compose()
    services = compose["services"]
    assert {"redis", "bot", "worker-generate", "worker-train-cpu", "worker-train-gpu"} <= set(
        services
    )
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    env_names = set(_env_example()) | {"OPENBLAS_NUM_THREADS"}  # a library's own setting
    for name, service in services.items():
        command = service.get("command", [])
        if command[:3] == ["celery", "-A", "worker.app"]:
            assert (ROOT / "worker" / "app.py").is_file()
            queue = command[command.index("-Q") + 1]
            assert set(queue.split(",")) <= {"generate", "train"}, name
        elif command and command[0].startswith("lstmuse"):
            assert command[0] in scripts, name
        for variable in service.get("environment", {}):
            assert variable in env_names, (name, variable)
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), (name, source)
            else:
                assert source in compose["volumes"], (name, source)
        if "env_file" in service:
            assert service["env_file"] == ".env"
    redis = services["redis"]
    assert "--appendonly" in redis["command"] and redis["healthcheck"]["test"][-1] == "ping"
    for profile in ("gpu", "cpu"):  # each profile serves both queues
        queues = {
            queue
            for service in services.values()
            if profile in service.get("profiles", [profile]) and "-Q" in service.get("command", [])
            for queue in service["command"][service["command"].index("-Q") + 1].split(",")
        }
        assert queues == {"generate", "train"}, profile
    for name, service in services.items():  # the GPU goes to training, never to generation
        devices = service.get("deploy", {}).get("resources", {}).get("reservations", {})
        if devices:
            (gpu,) = devices["devices"]
            assert gpu["driver"] == "nvidia" and "gpu" in gpu["capabilities"], name
            assert service["command"][service["command"].index("-Q") + 1] == "train", name
            assert service["build"]["target"] == "trainer-gpu", name
    assert "deploy" in services["worker-train-gpu"]


def test_dockerfile_is_multi_stage_non_root_and_copies_what_exists() -> None:
    """Build and runtime stages are separate, COPY sources exist, processes are not root."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\S+)", dockerfile, re.MULTILINE)
    assert {"bot", "worker"} <= set(stages) and len(stages) >= 4
    for source in re.findall(r"^COPY (?!--from)(\S+)", dockerfile, re.MULTILINE):
        assert (ROOT / source).exists(), source
    runtime = dockerfile.split("AS runtime-base", 1)[1]
    assert "build-essential" not in runtime
    images = re.split(r"^FROM ", runtime, flags=re.MULTILINE)[1:]
    for image in images:  # every image that runs something runs it unprivileged
        if "\nCMD " in image:
            assert "\nUSER lstmuse" in image, image.split("\n", 1)[0]
    assert {"bot", "worker", "trainer", "trainer-gpu"} <= set(stages)
    for service in _compose()["services"].values():
        target = service.get("build", {}).get("target")
        assert target is None or target in stages


# What generation must run without (it reads the bundles' weights.npz with NumPy).
HEAVY = {"tensorflow", "tensorflow-cpu", "keras", "jax", "torch"}


def _extra_packages(extra: str) -> set[str]:
    """The packages an extra of pyproject.toml names, through the project's own extras."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    packages: set[str] = set()
    for requirement in extras[extra]:
        own = re.fullmatch(r"lstmuse\[(.+)\]", requirement)
        if own:
            for name in own.group(1).split(","):
                packages |= _extra_packages(name)
        else:
            packages.add(re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower())
    return packages


def _image_extras() -> dict[str, str]:
    """Each Dockerfile stage that has a virtualenv -> the extra installed into it."""
    bodies = re.split(r"^FROM \S+ AS ", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)
    extras: dict[str, str] = {}
    for body in bodies[1:]:  # in file order: a build stage comes before its image
        stage = body.split(maxsplit=1)[0]
        installed = re.search(r'pip install "\.\[([\w-]+)\]"', body)
        copied = re.search(r"^COPY --from=(\S+) /opt/venv", body, re.MULTILINE)
        if installed:
            extras[stage] = installed.group(1)
        elif copied:
            extras[stage] = extras[copied.group(1)]
    return extras


def test_generation_images_carry_no_tensorflow_and_training_images_do() -> None:
    """The image of every service serving ``generate`` (and the bot's) installs an extra
    without TensorFlow, Keras, JAX or torch; the train services' images have Keras and a
    backend; ``.[dev]`` has TensorFlow, which the tests train with."""
    extras = _image_extras()
    assert extras["worker"] == "worker" and extras["bot"] == "bot"
    checked = set()
    for name, service in _compose()["services"].items():
        command = service.get("command", [])
        if "build" not in service:
            continue
        packages = _extra_packages(extras[service["build"]["target"]])
        queues = command[command.index("-Q") + 1].split(",") if "-Q" in command else []
        if "train" in queues:
            assert "keras" in packages and packages & {"tensorflow-cpu", "torch"}, name
        else:
            assert not packages & HEAVY, (name, sorted(packages & HEAVY))
        checked.add(name)
    assert {"bot", "worker-generate", "worker-train-cpu", "worker-train-gpu"} <= checked
    assert not _extra_packages("worker") & HEAVY
    assert {"keras", "tensorflow-cpu", "celery", "pyfluidsynth"} <= _extra_packages("trainer")
    assert {"keras", "tensorflow-cpu", "discord.py", "pytest"} <= _extra_packages("dev")


def test_only_the_bot_sees_the_token_and_redis_never_drops_jobs() -> None:
    """DISCORD_TOKEN reaches the bot alone; Redis is capped and may evict only expiring keys."""
    services = _compose()["services"]
    for name, service in services.items():
        environment = service.get("environment", {})
        if name != "bot" and service.get("env_file"):
            assert environment.get("DISCORD_TOKEN") == "", name  # overrides the one in .env
    assert "DISCORD_TOKEN" not in services["bot"].get("environment", {})
    command = services["redis"]["command"]
    assert "--maxmemory" in command
    assert command[command.index("--maxmemory-policy") + 1].startswith("volatile-")


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    """.env, the virtualenv and the git history never reach an image."""
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".env", ".venv", ".git", "uploads", "artifacts"} <= set(ignored)


def test_compose_worker_commands_start_and_serve_their_queues(worker_env, tmp_path) -> None:
    """Each worker command of the `cpu` profile, run here as compose would, serves its queues."""
    import socket
    import subprocess
    import sys
    import time

    from celery import Celery
    from tests_support import SCRATCH_REDIS_URL

    from worker.app import redelivery_options

    services = _compose()["services"]
    app = Celery(broker=SCRATCH_REDIS_URL, set_as_current=False)
    checked = []
    for name, service in services.items():
        command = service.get("command", [])
        if command[:3] != ["celery", "-A", "worker.app"] or "cpu" not in service.get(
            "profiles", []
        ):
            continue
        environment = {**service.get("environment", {}), "LSTMUSE_REDIS_URL": SCRATCH_REDIS_URL}
        log = (tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", *command],
            env={**os.environ, **worker_env, **environment},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        hostname = command[command.index("-n") + 1].replace("%h", socket.gethostname())
        try:
            deadline = time.monotonic() + 90
            while not app.control.ping(destination=[hostname], timeout=0.5):
                assert process.poll() is None, (tmp_path / f"{name}.log").read_text()[-2000:]
                assert time.monotonic() < deadline, name
            inspect = app.control.inspect(destination=[hostname], timeout=2)
            queues = {queue["name"] for queue in inspect.active_queues()[hostname]}
            stats = inspect.stats()[hostname]
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()
        assert queues == set(command[command.index("-Q") + 1].split(",")), name
        # Its queue's redelivery (one queue a worker: see `redelivery_options`).
        (queue,) = queues
        assert stats["broker"]["transport_options"] == redelivery_options(queue, Settings())
        assert stats["pool"]["max-concurrency"] == int(command[command.index("-c") + 1]), name
        assert stats["prefetch_count"] == int(command[command.index("-c") + 1]), name  # x 1
        checked.append(name)
    assert sorted(checked) == ["worker-generate", "worker-train-cpu"]


def test_packaging_metadata_has_no_deprecated_license_table() -> None:
    """`license` is an SPDX expression (a TOML table warns and stops building in 2027),
    built by a setuptools that reads it (77 or later)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "MIT"
    assert pyproject["build-system"]["requires"] == ["setuptools>=77"]
    assert not any(c.startswith("License ::") for c in pyproject["project"].get("classifiers", []))
