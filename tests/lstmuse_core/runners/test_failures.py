"""How every runner's job ends when something goes wrong: one set of words."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from lstmuse_core.errors import InvalidParameter, JobFailed
from lstmuse_core.jobs.queue import UNEXPECTED_FAILURE
from lstmuse_core.runners.failures import JobCancelled, job_failures
from lstmuse_core.runners.rollback import run_rollback_job
from lstmuse_core.settings import Settings


class TimeLimit(Exception):
    pass


def test_a_user_error_keeps_its_message_in_the_jobs_words() -> None:
    """An `LstmuseError` becomes a `JobFailed` with its message where ``{error}`` stands."""
    with (
        pytest.raises(JobFailed) as failed,
        job_failures("retrain r-1", user_error="retraining folk failed: {error}; unchanged"),
    ):
        raise InvalidParameter("epochs", 0, "1-1000")
    assert (
        str(failed.value)
        == f"retraining folk failed: {InvalidParameter('epochs', 0, '1-1000')}; unchanged"
    )


def test_a_bug_is_logged_with_the_job_and_answered_generically(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Anything else: the log names the job and keeps the traceback; the member reads
    `UNEXPECTED_FAILURE`, not the bug."""
    with (
        caplog.at_level(logging.ERROR),
        pytest.raises(JobFailed) as failed,
        job_failures("generate melody-7"),
    ):
        raise KeyError("secret internals")
    assert str(failed.value) == UNEXPECTED_FAILURE and "secret" not in str(failed.value)
    (record,) = caplog.records
    assert "generate melody-7" in record.getMessage() and record.exc_info is not None


def test_interrupts_pass_and_a_wrapped_cancel_stays_a_cancel() -> None:
    """The caller's interrupt (even wrapped by a library) passes as it was; a cancel a library
    wrapped comes out as a `JobCancelled` with the job's words."""
    with pytest.raises(TypeError), job_failures("retrain r-1", interrupts=(TimeLimit,)):
        try:
            raise TimeLimit()
        except TimeLimit as limit:
            raise TypeError("a library's own error") from limit
    with (
        pytest.raises(JobCancelled) as cancelled,
        job_failures("retrain r-1", cancelled="retraining folk was cancelled"),
    ):
        try:
            raise JobCancelled("from the epoch callback")
        except JobCancelled as cancel:
            raise RuntimeError("a training loop's own error") from cancel
    assert str(cancelled.value) == "retraining folk was cancelled"


def test_a_refused_rollback_fails_the_job_with_the_reason(tmp_path: Path) -> None:
    """The rollback runner turns a refusal into a `JobFailed` with its reason, like the worker."""
    with pytest.raises(JobFailed) as failed:
        run_rollback_job("rollback-1", "folk", None, Settings(models_dir=tmp_path))
    assert type(failed.value) is JobFailed
    assert "a style with trained versions" in str(failed.value)
