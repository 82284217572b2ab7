"""The generation runner: an interrupt stops the job, even when a library re-raised it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lstmuse_core.errors import JobFailed, caused_by
from lstmuse_core.jobs.artifacts import LocalArtifactStore
from lstmuse_core.jobs.progress import Progress
from lstmuse_core.jobs.queue import UNEXPECTED_FAILURE
from lstmuse_core.request import MelodyRequest
from lstmuse_core.runners import generation
from lstmuse_core.runners.generation import run_generate_job
from lstmuse_core.settings import Settings


class TimeLimit(Exception):  # Celery's SoftTimeLimitExceeded is a plain Exception too
    pass


REQUEST = MelodyRequest(style="folk", random_seed=1)


def test_caused_by_walks_causes_and_contexts() -> None:
    """An error raised from (or while handling) a limit is caused by it; others are not."""
    try:
        try:
            raise TimeLimit()
        except TimeLimit as limit:
            raise TypeError("inspect failed mid-import") from limit
    except TypeError as error:
        assert caused_by(error, (TimeLimit,))
    assert not caused_by(ValueError("plain"), (TimeLimit,))


def test_a_limit_re_raised_by_a_library_stops_the_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit, wrapped in a library's TypeError, propagates; a plain bug fails the job."""
    store = LocalArtifactStore(tmp_path, 60, 1024 * 1024)
    settings = Settings(models_dir=tmp_path)

    def interrupted_load(*_: object) -> None:
        try:
            raise TimeLimit()
        except TimeLimit as limit:
            raise TypeError("a library's own error") from limit

    monkeypatch.setattr(generation, "load_generator", interrupted_load)
    with pytest.raises(TypeError):
        run_generate_job("melody-1", REQUEST, store, settings, interrupts=(TimeLimit,))

    def buggy_load(*_: object) -> None:
        raise TypeError("a bug")

    monkeypatch.setattr(generation, "load_generator", buggy_load)
    with pytest.raises(JobFailed) as failed:
        run_generate_job("melody-1", REQUEST, store, settings, interrupts=(TimeLimit,))
    assert str(failed.value) == UNEXPECTED_FAILURE


def test_a_user_error_keeps_its_message_and_the_stage_is_published(tmp_path: Path) -> None:
    """An unknown style fails the job naming the style, after the job said it was generating."""
    store = LocalArtifactStore(tmp_path, 60, 1024 * 1024)
    published: list[Progress] = []
    with pytest.raises(JobFailed, match="style='nosuch'"):
        run_generate_job(
            "melody-1",
            MelodyRequest(style="nosuch", random_seed=1),
            store,
            Settings(models_dir=tmp_path),
            published.append,
        )
    assert published == [Progress("generating")]
