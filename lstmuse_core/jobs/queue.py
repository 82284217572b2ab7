"""The queue's names: tasks, queues, routes, and the payload each task takes.

The bot sends tasks by these names (it never imports the worker's code) and
the worker registers its tasks under them, so a renamed task or queue is one
edit here. Payloads are small JSON objects built by the functions below;
nothing else crosses the queue. Importing this module is free (no Celery).

Queues: ``generate`` (melodies and rollbacks: jobs of seconds) and ``train``
(retraining: minutes to hours). Rollback is routed to ``generate`` so that it
never waits behind a retrain (see `worker.app`).
"""

from __future__ import annotations

from typing import Any

from lstmuse_core.request import MelodyRequest, RetrainRequest

GENERATE_TASK = "lstmuse.generate"
RETRAIN_TASK = "lstmuse.retrain"
ROLLBACK_TASK = "lstmuse.rollback"

GENERATE_QUEUE = "generate"
TRAIN_QUEUE = "train"
QUEUES = (GENERATE_QUEUE, TRAIN_QUEUE)

TASK_QUEUES = {
    GENERATE_TASK: GENERATE_QUEUE,
    RETRAIN_TASK: TRAIN_QUEUE,
    ROLLBACK_TASK: GENERATE_QUEUE,  # never behind a multi-hour retrain
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
    payload = request.to_json()
    if dataset_refs:
        payload["dataset_refs"] = list(dataset_refs)
    if dataset_dir is not None:
        payload["dataset_dir"] = dataset_dir
    return payload


def rollback_payload(style: str, version: str | None, deadline: float) -> dict[str, Any]:
    """The keyword arguments of ``lstmuse.rollback``; ``deadline`` in Unix seconds."""
    return {"style": style, "version": version, "deadline": deadline}
