"""Settings are read once per process, at its edge; the library takes explicit paths."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lstmuse_core.model.bundle import default_models_dir
from lstmuse_core.music.cache_folder import default_cache_dir
from lstmuse_core.music.render.audio import resolve_soundfont

ROOT = Path(__file__).resolve().parents[2]


def test_library_defaults_ignore_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LSTMUSE_* variables change nothing in the library: only a process's settings read them."""
    monkeypatch.setenv("LSTMUSE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("LSTMUSE_CACHE_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("LSTMUSE_SOUNDFONT", str(tmp_path / "missing.sf2"))
    assert default_models_dir() == ROOT / "trained_models"
    assert not default_cache_dir().is_relative_to(tmp_path / "elsewhere")
    assert resolve_soundfont(None).is_file()


def test_only_settings_modules_read_lstmuse_variables() -> None:
    """No module outside the settings classes reads an LSTMUSE_ variable from os.environ."""
    readers = []
    for path in sorted(
        [*ROOT.glob("lstmuse_core/**/*.py"), *ROOT.glob("bot/**/*.py"), *ROOT.glob("worker/*.py")]
    ):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and str(node.value).startswith("LSTMUSE_"):
                parent_calls = [
                    call
                    for call in ast.walk(tree)
                    if isinstance(call, ast.Call | ast.Subscript) and node in ast.walk(call)
                ]
                if any("environ" in ast.unparse(call) for call in parent_calls):
                    readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert readers == []


async def test_the_consoles_jobs_use_the_cores_paths_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LSTMUSE_MODELS_DIR, read once into the bot's settings, is where the console's
    in-process jobs look for models (the committed styles are elsewhere)."""
    from bot.runtime import build_service
    from bot.settings import BotSettings

    # The worker tests' session fixture points these at its tiny models: unset them here.
    for name in ("LSTMUSE_REDIS_URL", "LSTMUSE_MODELS_DIR"):
        monkeypatch.delenv(name, raising=False)
    committed = await build_service(BotSettings(discord_token=None)).styles()
    assert "**folk**" in committed
    monkeypatch.setenv("LSTMUSE_MODELS_DIR", str(tmp_path / "no-models-here"))
    service = build_service(BotSettings(discord_token=None))
    assert (await service.styles()).startswith("No styles are available yet")
