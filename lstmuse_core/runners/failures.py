"""How a job ends when something goes wrong: the same words in the worker and the console.

A user error (`LstmuseError`) keeps its message; anything unexpected is
logged with the job's context and reported with `UNEXPECTED_FAILURE`, never
a traceback to the member. A cancel and the caller's own interrupts (the
worker's soft time limit, which it reports itself) pass through.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from lstmuse_core.errors import JobFailed, LstmuseError, caused_by
from lstmuse_core.jobs.queue import UNEXPECTED_FAILURE

log = logging.getLogger(__name__)


class JobCancelled(JobFailed):
    """The front end cancelled the job while it ran; it stopped and wrote nothing.

    The worker ends such a job REVOKED, like a job Celery revoked; the
    console reports its message.
    """


@contextmanager
def job_failures(
    job: str,
    *,
    user_error: str = "{error}",
    cancelled: str = "the job was cancelled",
    interrupts: tuple[type[BaseException], ...] = (),
) -> Iterator[None]:
    """Whatever the block raises leaves it as a `JobFailed` (or a cancel, or an interrupt).

    job: names the job in the log (``generate melody-3fa9...``); user_error:
    the member's message, ``{error}`` standing for the `LstmuseError`'s own;
    cancelled: the message of a `JobCancelled`, even one a library wrapped.
    """
    try:
        yield
    except Exception as error:
        if caused_by(error, interrupts):
            raise  # maybe re-raised by a library: the caller reports it
        if caused_by(error, (JobCancelled,)):
            raise JobCancelled(cancelled) from None
        if isinstance(error, LstmuseError):
            raise JobFailed(user_error.replace("{error}", str(error))) from error
        log.error("%s failed unexpectedly", job, exc_info=error)
        raise JobFailed(UNEXPECTED_FAILURE) from None
