"""Redis keys of one job, shared by the bot and the worker.

Importing this module is free (no Celery, no Redis client, no lstmuse_core):
the bot builds the same keys the worker reads.

- ``cancelled_key(job_id)``: the bot sets it (value ``"1"``, TTL = the result
  expiry) when a member cancels or the bot stops waiting; a worker that picks
  the job up later does not run it. Unlike Celery's in-memory revoked ids it
  survives a worker restart.
- ``result_key(job_id)``: the finished job's result, so a redelivered job
  returns it instead of running (and storing artifacts) a second time.
- ``attempts_key(job_id)``: how many times the job was delivered.
"""

from __future__ import annotations

JOB_PREFIX = "lstmuse:job:"


def cancelled_key(job_id: str) -> str:
    return f"{JOB_PREFIX}{job_id}:cancelled"


def result_key(job_id: str) -> str:
    return f"{JOB_PREFIX}{job_id}:result"


def attempts_key(job_id: str) -> str:
    return f"{JOB_PREFIX}{job_id}:attempts"
