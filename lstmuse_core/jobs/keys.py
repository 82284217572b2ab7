"""Redis keys shared by the bot and the worker.

Importing this module is free (no Celery, no Redis client): the bot builds
the same keys the worker reads.

- ``cancelled_key(job_id)``: the bot sets it (value ``"1"``, for
  `CANCEL_MARK_SECONDS`) when a member cancels or the bot stops waiting; a
  worker that picks the job up later does not run it, and a running retrain
  stops at its next epoch. Unlike Celery's in-memory revoked ids it survives
  a worker restart.
- ``result_key(job_id)``: the finished job's result, so a redelivered job
  returns it instead of running (and storing artifacts) a second time.
- ``attempts_key(job_id)``: how many times the job was delivered.
- ``queued_key(job_id)``: the bot sets it (for `QUEUED_MARK_SECONDS`) in the
  same Redis as the job's message, when it sends the job. A Redis restart
  that lost the queued message lost the mark too: a waiting bot that finds
  the mark gone and no result tells the member at once, instead of waiting
  out its timeout for a job that no longer exists.
- ``artifact_key(reference)``: one rendered or uploaded file (see `artifacts`).
- ``CATALOGUE_KEY``: the published style catalogue (see `catalogue`).
"""

from __future__ import annotations

JOB_PREFIX = "lstmuse:job:"
ARTIFACT_PREFIX = "lstmuse:artifact:"
CATALOGUE_KEY = "lstmuse:catalogue"
# How long a cancel mark lives: as long as a queued job could still be waiting.
CANCEL_MARK_SECONDS = 24 * 3600
# How long a queued mark lives: longer than the bot waits for any job (a retrain: hours).
QUEUED_MARK_SECONDS = 2 * 24 * 3600


def cancelled_key(job_id: str) -> str:
    return f"{JOB_PREFIX}{job_id}:cancelled"


def result_key(job_id: str) -> str:
    return f"{JOB_PREFIX}{job_id}:result"


def attempts_key(job_id: str) -> str:
    return f"{JOB_PREFIX}{job_id}:attempts"


def artifact_key(reference: str) -> str:
    """The Redis key of an artifact reference ``<job id>/<file name>`` (checked by the store)."""
    return ARTIFACT_PREFIX + reference


def queued_key(job_id: str) -> str:
    return f"{JOB_PREFIX}{job_id}:queued"
