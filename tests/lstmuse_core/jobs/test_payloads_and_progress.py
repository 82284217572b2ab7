"""What crosses the queue besides results: typed requests in payloads, and progress."""

from __future__ import annotations

import json

import pytest

from lstmuse_core.errors import JobFailed
from lstmuse_core.jobs.json_form import MalformedResult
from lstmuse_core.jobs.progress import EpochProgress, Progress
from lstmuse_core.jobs.queue import (
    generate_payload,
    melody_request_from_payload,
    request_from_payload,
    retrain_payload,
)
from lstmuse_core.request import MelodyRequest, RetrainRequest

EPOCH = EpochProgress(3, 8, 2.5, 2.75, 2.625, 90.0, "CPU (2 cores)")


def test_a_retrain_travels_as_its_typed_request() -> None:
    """The retrain payload carries ``{"request": ...}`` that JSON turns back into the request."""
    request = RetrainRequest("folk", preset="tiny", epochs=30, minutes=2.5, force=True)
    payload = json.loads(json.dumps(retrain_payload(request, dataset_refs=["job-1/upload001.abc"])))
    assert payload["dataset_refs"] == ["job-1/upload001.abc"]
    assert request_from_payload(RetrainRequest, payload["request"]) == request


def test_a_refused_retrain_request_fails_the_job_naming_the_field() -> None:
    """A bad or unknown field, or no request at all, is the job's failure with the reason."""
    with pytest.raises(JobFailed, match="epochs"):
        request_from_payload(RetrainRequest, {"style": "folk", "epochs": 0})
    with pytest.raises(JobFailed, match="colour"):
        request_from_payload(RetrainRequest, {"style": "folk", "colour": "blue"})
    with pytest.raises(JobFailed, match="no request"):
        request_from_payload(RetrainRequest, None)


def test_a_melody_request_without_a_seed_gets_one_from_its_job() -> None:
    """The same job id, the same random seed (a redelivered job makes the same melodies)."""
    payload = generate_payload(MelodyRequest(style="folk"))["request"]
    first = melody_request_from_payload("melody-1", payload)
    assert first.random_seed is not None
    assert melody_request_from_payload("melody-1", payload) == first
    assert melody_request_from_payload("melody-2", payload).random_seed != first.random_seed
    seeded = generate_payload(MelodyRequest(style="folk", random_seed=7))["request"]
    assert melody_request_from_payload("melody-1", seeded).random_seed == 7


@pytest.mark.parametrize("progress", [Progress("generating"), Progress("training", EPOCH)])
def test_progress_round_trips_through_json(progress: Progress) -> None:
    """A stage alone, and a stage with its epoch, come back equal from their JSON form."""
    assert Progress.from_json(json.loads(json.dumps(progress.to_json()))) == progress


def test_progress_json_is_flat_and_a_bad_field_is_named() -> None:
    """The epoch's figures sit beside the stage; a wrong one is named by its path."""
    data = Progress("training", EPOCH).to_json()
    assert data["stage"] == "training" and data["eta_seconds"] == 90.0
    with pytest.raises(MalformedResult, match=r"progress\.loss_bits"):
        Progress.from_json({**data, "loss_bits": "low"})
    without_max = {name: value for name, value in data.items() if name != "max_epochs"}
    with pytest.raises(MalformedResult, match=r"progress\.max_epochs"):
        Progress.from_json(without_max)
