"""Every process that only generates runs without TensorFlow, Keras, JAX or torch.

The CLI, the console and a generation worker child each make a melody with
MIDI, MP3 and a piano roll; what the process had imported is read from its own
``sys.modules`` once the work is done (not from its output). The compiled
sampler reads the bundle's ``weights.npz`` (`lstmuse_core.model.weights`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMITTED_MODELS = ROOT / "trained_models"
HEAVY = ("tensorflow", "keras", "jax", "torch")

# Runs an entry point's main() with argv, then writes the top-level packages it imported.
_RUN_AND_REPORT = """
import json, sys
from {module} import main
sys.argv = {argv!r}
try:
    code = main()
finally:
    with open({report!r}, "w") as handle:
        json.dump(sorted({{name.split(".")[0] for name in sys.modules}}), handle)
raise SystemExit(code)
"""


def run_reporting_imports(
    module: str, argv: list[str], tmp_path: Path, env: dict[str, str], stdin: str = ""
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``module.main`` in a fresh interpreter; its result and the packages it imported.

    Only ``env``'s settings reach it (none a worker session exported): without a
    Redis URL the console runs its jobs in its own process, the one under test.
    """
    report = tmp_path / "imported.json"
    code = _RUN_AND_REPORT.format(module=module, argv=argv, report=str(report))
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("LSTMUSE_")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=stdin,
        capture_output=True,
        text=True,
        env={**inherited, **env},
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done, set(json.loads(report.read_text()))


def test_cli_generate_imports_no_tensorflow(tmp_path: Path) -> None:
    """``lstmuse generate`` on the committed folk bundle writes MIDI, MP3 and PNG without
    importing TensorFlow, Keras, JAX or torch."""
    out = tmp_path / "out"
    argv = ["lstmuse", "generate", "--style", "folk", "--bars", "8", "--random-seed", "5"]
    argv += ["--models-dir", str(COMMITTED_MODELS), "--out", str(out)]
    _, imported = run_reporting_imports("lstmuse_core.cli", argv, tmp_path, {})
    assert sorted(p.suffix for p in out.iterdir()) == [".mid", ".mp3", ".png"]
    assert "numba" in imported  # the report is the sampling process's own
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))


def test_console_melody_imports_no_tensorflow(tiny_training, tmp_path: Path) -> None:
    """The console (embedded mode) answers a melody command without TensorFlow or Keras."""
    out = tmp_path / "out"
    env = {"LSTMUSE_MODELS_DIR": str(tiny_training.bundle.path.parent.parent), "DISCORD_TOKEN": ""}
    done, imported = run_reporting_imports(
        "bot.__main__",
        ["lstmuse-bot", "--console", "--out", str(out)],
        tmp_path,
        env,
        stdin="!melody style=tinyfolk bars=2 random_seed=4\nquit\n",
    )
    assert "Melody:" in done.stdout
    assert sorted(p.suffix for p in out.glob("tinyfolk-4-*")) == [".mid", ".mp3", ".png"]
    assert "numba" in imported
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))


def test_generation_worker_child_imports_no_tensorflow(tiny_training, scratch_worker) -> None:
    """A child of a ``-Q generate`` worker, after a real job (MIDI, MP3, PNG), holds no
    TensorFlow, Keras, JAX or torch module (asked of the child itself)."""
    with scratch_worker(["-Q", "generate", "-c", "1"], app_module="modules_app") as app:
        request = {"style": "tinyfolk", "bars": 4, "random_seed": 9, "audio": "mp3"}
        job = app.send_task(
            "lstmuse.generate",
            kwargs={"request": {**request, "image": "pianoroll"}},
            queue="generate",
        )
        (melody,) = job.get(timeout=120)["melodies"]
        assert set(melody["files"]) == {"midi", "audio", "image"}
        child = app.send_task("test.imported_packages", queue="generate").get(timeout=60)
    assert child["generators_loaded"] == 1  # the child that ran the job
    imported = set(child["packages"])
    assert "numba" in imported
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))
