"""The queue's names: tasks, queues, routes, and the payload each task takes.

The bot sends tasks by these names (it never imports the worker's code) and
the worker registers its tasks under them, so a renamed task or queue is one
edit here. Payloads are small JSON objects built and read by the functions
below: each carries its typed request as ``{"request": <to_json()>}``;
nothing else crosses the queue. Importing this module is free (no Celery).

Queues: ``generate`` (melodies, harmonized tunes and rollbacks: jobs of seconds) and ``train``
(retraining: minutes to hours). Rollback is routed to ``generate`` so that it
never waits behind a retrain (see `worker.app`).
"""

from __future__ import annotations

import hashlib
from typing import Any, TypeVar

from lstmuse_core.errors import JobFailed, LstmuseError
from lstmuse_core.limits import MAX_RANDOM_SEED
from lstmuse_core.request import HarmonizeRequest, MelodyRequest, RetrainRequest

GENERATE_TASK = "lstmuse.generate"
RETRAIN_TASK = "lstmuse.retrain"
ROLLBACK_TASK = "lstmuse.rollback"
HARMONIZE_TASK = "lstmuse.harmonize"

GENERATE_QUEUE = "generate"
TRAIN_QUEUE = "train"
QUEUES = (GENERATE_QUEUE, TRAIN_QUEUE)

TASK_QUEUES = {
    GENERATE_TASK: GENERATE_QUEUE,
    RETRAIN_TASK: TRAIN_QUEUE,
    ROLLBACK_TASK: GENERATE_QUEUE,  # never behind a multi-hour retrain
    HARMONIZE_TASK: GENERATE_QUEUE,  # a tune is harmonized and rendered in seconds
}
# Celery's ``task_routes`` setting.
TASK_ROUTES = {task: {"queue": queue} for task, queue in TASK_QUEUES.items()}
# Celery settings both ends share: JSON only crosses the queue.
JSON_ONLY: dict[str, Any] = {
    "task_serializer": "json",
    "result_serializer": "json",
    "accept_content": ["json"],
}

# What a member reads when a job failed for a reason that is not theirs.
UNEXPECTED_FAILURE = "the job failed in the worker (the operators can see why in its log)"


def generate_payload(request: MelodyRequest) -> dict[str, Any]:
    """The keyword arguments of ``lstmuse.generate`` (the request, its random seed included)."""
    return {"request": request.to_json()}


def harmonize_payload(request: HarmonizeRequest) -> dict[str, Any]:
    """The keyword arguments of ``lstmuse.harmonize`` (the tune and its output options)."""
    return {"request": request.to_json()}


def retrain_payload(
    request: RetrainRequest,
    *,
    dataset_refs: list[str] | None = None,
    dataset_dir: str | None = None,
) -> dict[str, Any]:
    """The keyword arguments of ``lstmuse.retrain``.

    dataset_refs: uploaded files in the artifact store; dataset_dir: a folder
    on the worker's machine; neither: a built-in style's corpus.
    """
    payload: dict[str, Any] = {"request": request.to_json()}
    if dataset_refs:
        payload["dataset_refs"] = list(dataset_refs)
    if dataset_dir is not None:
        payload["dataset_dir"] = dataset_dir
    return payload


def rollback_payload(style: str, version: str | None, deadline: float) -> dict[str, Any]:
    """The keyword arguments of ``lstmuse.rollback``; ``deadline`` in Unix seconds."""
    return {"style": style, "version": version, "deadline": deadline}


Request = TypeVar("Request", MelodyRequest, RetrainRequest, HarmonizeRequest)


def request_from_payload(kind: type[Request], data: Any) -> Request:
    """A payload's ``request`` as ``kind``, checked by the type itself.

    A missing or refused request is the job's failure (`JobFailed`), with
    the reason a member can read.
    """
    if data is None:
        raise JobFailed("the job has no request")
    try:
        return kind.from_json(data)
    except LstmuseError as error:
        raise JobFailed(str(error)) from error
    except (TypeError, ValueError, AttributeError) as error:
        raise JobFailed(f"the job's request is malformed ({error})") from error


def melody_request_from_payload(job_id: str, data: Any) -> MelodyRequest:
    """``lstmuse.generate``'s request; one without a random seed gets one from the job id,
    so a job redelivered after its worker died makes the same melodies."""
    request = request_from_payload(MelodyRequest, data)
    if request.random_seed is None:
        digest = hashlib.sha256(job_id.encode()).digest()
        request = request.replace(
            random_seed=int.from_bytes(digest[:8], "big") % (MAX_RANDOM_SEED + 1)
        )
    return request
