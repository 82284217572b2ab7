"""The job contract between the front ends (bot, console) and the queue's workers.

Celery-free, discord-free and cheap to import (no numba, Keras, TensorFlow,
music21 or renderer), so both ends import it:

- `queue`: task and queue names, routes, and each task's payload (its typed
  request as JSON), built and read;
- `keys`: the Redis keys both ends read and write (cancel marks and how long
  they live, stored results, attempts, artifacts, the catalogue);
- `progress`: a running job's typed `Progress` and its JSON form;
- `results`: typed results with their JSON form (`MelodyResult`,
  `RetrainResult`, `RollbackResult`, `HarmonizeResult`); the requests are
  `lstmuse_core.request.MelodyRequest`, `RetrainRequest` and `HarmonizeRequest`;
- `artifacts`: where rendered and uploaded files go (Redis or a folder);
- `catalogue`: the published styles and model versions, and their reader.

What a job does is in `lstmuse_core.runners`, which the worker's tasks and
the console's in-process mode share. The dependency direction is
``bot -> lstmuse_core.jobs <- worker -> lstmuse_core.runners``; the bot never
imports ``worker``, and in queue mode never imports the runners.
"""

from __future__ import annotations

from lstmuse_core.jobs.json_form import MalformedResult
from lstmuse_core.jobs.progress import EpochProgress, Progress
from lstmuse_core.jobs.queue import (
    GENERATE_QUEUE,
    GENERATE_TASK,
    HARMONIZE_TASK,
    RETRAIN_TASK,
    ROLLBACK_TASK,
    TASK_ROUTES,
    TRAIN_QUEUE,
)
from lstmuse_core.jobs.results import (
    GeneratedMelody,
    HarmonizeResult,
    JobResult,
    MelodyResult,
    RetrainResult,
    RollbackResult,
)
from lstmuse_core.request import HarmonizeRequest, MelodyRequest, RetrainRequest

__all__ = [
    "GENERATE_QUEUE",
    "GENERATE_TASK",
    "HARMONIZE_TASK",
    "RETRAIN_TASK",
    "ROLLBACK_TASK",
    "TASK_ROUTES",
    "TRAIN_QUEUE",
    "EpochProgress",
    "GeneratedMelody",
    "HarmonizeRequest",
    "HarmonizeResult",
    "JobResult",
    "MalformedResult",
    "MelodyRequest",
    "MelodyResult",
    "Progress",
    "RetrainRequest",
    "RetrainResult",
    "RollbackResult",
]
