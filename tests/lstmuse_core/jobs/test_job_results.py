"""The job results' JSON form: exact round trips, and refusals that name the field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lstmuse_core.jobs import (
    GeneratedMelody,
    HarmonizeRequest,
    HarmonizeResult,
    MalformedResult,
    MelodyRequest,
    MelodyResult,
    RetrainResult,
    RollbackResult,
)
from lstmuse_core.jobs.catalogue import (
    ModelVersion,
    StyleEntry,
    catalogue_from_json,
    catalogue_to_json,
)
from lstmuse_core.music.meter import Meter


def melody_result() -> MelodyResult:
    request = MelodyRequest(
        style="folk",
        bars=2,
        meter=Meter(3, 4),
        seed_melody=("60", "_"),
        random_seed=7,
        count=2,
        temperature=0.8,
    )
    melodies = tuple(
        GeneratedMelody(
            symbols=("60", "_", "62", "_", "_", "_", "r", "_", "64", "_", "_", "_") * 2,
            random_seed=seed,
            key="D major",
            meter=Meter(3, 4),
            files={"midi": f"job-1/melody-{seed}.mid", "audio": f"job-1/melody-{seed}.mp3"},
            problems=("no sheet music: LilyPond is not installed",) if seed == 8 else (),
        )
        for seed in (7, 8)
    )
    return MelodyResult("job-1", "folk", "v002", request, melodies)


def retrain_result() -> RetrainResult:
    return RetrainResult(
        style="folk",
        version="v003",
        promoted=False,
        note="kept v002: the new version is worse on the same held-out songs",
        epochs=12,
        stopped_by="early stopping",
        test_bits_per_symbol=1.2345,
        test_accuracy=0.71,
        ngram_bits_per_symbol=None,
    )


def rollback_result() -> RollbackResult:
    return RollbackResult("folk", "v001", "v002", ("v001",))


def harmonize_result() -> HarmonizeResult:
    request = HarmonizeRequest(
        symbols=("r",) * 8 + ("67", "_", "_", "_") * 3,  # a 3/4 tune with a one-quarter pickup
        meter=Meter(3, 4),
        key="G major",
        bpm=None,
        name="tune.mid",
        part='"Melody", named as the melody',
        audio="none",
        backing="guitar",
    )
    return HarmonizeResult(
        "harmonize-1", request, "G major", ((8, 4, "D7"), (12, 12, "G")), {"midi": "h-1/tune.mid"}
    )


@pytest.mark.parametrize("make", [melody_result, retrain_result, rollback_result, harmonize_result])
def test_results_round_trip_through_json_text(make: Any) -> None:
    """to_json -> JSON text (as Redis carries it) -> from_json gives an equal result."""
    result = make()
    data = json.loads(json.dumps(result.to_json()))
    assert type(result).from_json(data) == result
    assert type(result).from_json(data).to_json() == data


def test_melody_result_json_is_what_the_worker_always_sent() -> None:
    """Symbols travel as one string with their step count; files by kind; the request as JSON;
    the meter as its text under "meter"."""
    data = melody_result().to_json()
    first = data["melodies"][0]
    assert first["symbols"].startswith("60 _ 62 _") and first["steps"] == 24
    assert first["files"] == {"midi": "job-1/melody-7.mid", "audio": "job-1/melody-7.mp3"}
    assert first["meter"] == "3/4" and first["problems"] == []
    assert data["request"]["seed_melody"] == "60 _" and data["request"]["random_seed"] == 7
    assert data["request"]["meter"] == "3/4"


def test_generated_melody_measures_steps_and_seconds() -> None:
    """24 steps of 3/4 last 3 s at 120 bpm (its bars: `describe_length`, test_meter)."""
    melody = melody_result().melodies[0]
    assert melody.steps == 24
    assert melody.seconds(120) == pytest.approx(3.0)


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    """The melody result's JSON with the field at ``path`` set to ``value`` (or removed)."""
    data = melody_result().to_json()
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is _REMOVE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_REMOVE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["melodies", 0, "random_seed"], "7", r"melodies\[0\]\.random_seed is '7', not a whole"),
        (["melodies", 0, "random_seed"], True, r"melodies\[0\]\.random_seed is True"),
        (["melodies", 1, "random_seed"], -1, r"melodies\[1\].*random_seed is -1"),
        (["melodies", 0, "steps"], 23, r"melodies\[0\]\.steps is 23, not 24"),
        (["melodies", 0, "files", "video"], "job-1/x.mp4", r"melodies\[0\]\.files\.video"),
        (["melodies", 0, "files", "midi"], 3, r"melodies\[0\]\.files\.midi is 3"),
        (["melodies", 0, "meter"], "5/7", r"melodies\[0\].*meter='5/7'"),
        (["melodies", 0, "meter"], 6, r"melodies\[0\]\.meter is 6, not a string"),
        (["request", "meter"], "32/1", r"request .*meter='32/1'"),
        (["melodies", 0, "problems"], "none", r"melodies\[0\]\.problems is 'none', not a list"),
        (["melodies", 0, "key"], _REMOVE, r"melodies\[0\]\.key is missing"),
        (["melodies"], {}, r"melodies is \{\}, not a list"),
        (["style"], "../etc", r"style='../etc'"),
        (["model_version"], "latest", r"version='latest'"),
        (["request", "temperature"], 9, r"request .*temperature=9"),
        (["request"], "style=folk", r"request is str, not an object"),
        (["job_id"], _REMOVE, r"job_id is missing"),
        (["extra"], 1, r"extra is not a known field"),
    ],
)
def test_melody_result_refuses_malformed_json_naming_the_field(
    path: list[Any], value: Any, message: str
) -> None:
    """Every wrong field is refused with one line that names it, never a KeyError."""
    with pytest.raises(MalformedResult, match=message):
        MelodyResult.from_json(_broken(path, value))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("promoted", "yes", r"promoted is 'yes', not true or false"),
        ("epochs", 2.5, r"epochs is 2.5, not a whole number"),
        ("epochs", -1, r"epochs is -1"),
        ("test_bits_per_symbol", float("nan"), r"test_bits_per_symbol is nan, not a finite"),
        ("test_accuracy", 1.5, r"test_accuracy is 1.5"),
        ("version", "v1", r"version='v1'"),
        ("note", None, r"note is None, not a string"),
    ],
)
def test_retrain_result_refuses_malformed_json(field: str, value: Any, message: str) -> None:
    """A retrain result with a wrong field is refused, naming it."""
    data = {**retrain_result().to_json(), field: value}
    with pytest.raises(MalformedResult, match=message):
        RetrainResult.from_json(data)
    with pytest.raises(MalformedResult, match="test is not a known field"):
        RetrainResult.from_json({**retrain_result().to_json(), "test": {}})


def test_rollback_result_refuses_malformed_json() -> None:
    """Versions must be version names; history a list of them; ``was`` may be null."""
    good = rollback_result().to_json()
    assert RollbackResult.from_json({**good, "was": None}).was is None
    with pytest.raises(MalformedResult, match=r"history\[0\] is 1, not a string"):
        RollbackResult.from_json({**good, "history": [1]})
    with pytest.raises(MalformedResult, match=r"version='\.\./v001'"):
        RollbackResult.from_json({**good, "active_version": "../v001"})
    with pytest.raises(MalformedResult, match="is list, not an object"):
        RollbackResult.from_json([good])


def test_harmonize_result_refuses_malformed_json_naming_the_field() -> None:
    """The tune's request is checked by its type; chords and files as a melody's."""
    good = harmonize_result().to_json()
    assert good["request"]["symbols"].startswith("r r r r r r r r 67 _")
    assert good["request"]["meter"] == "3/4" and good["chords"][0] == [8, 4, "D7"]
    with pytest.raises(MalformedResult, match=r"request is refused: tune='_' is not allowed"):
        HarmonizeResult.from_json({**good, "request": {**good["request"], "symbols": "_ 60"}})
    with pytest.raises(MalformedResult, match=r"chords\[1\] is \[1, 2\]"):
        HarmonizeResult.from_json({**good, "chords": [[0, 4, "G"], [1, 2]]})
    with pytest.raises(MalformedResult, match=r"files\.video is not a known field"):
        HarmonizeResult.from_json({**good, "files": {"video": "h-1/x.mp4"}})


def test_results_are_frozen() -> None:
    """A result cannot be changed after it was validated."""
    result = melody_result()
    with pytest.raises(AttributeError):
        result.style = "irish"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        result.melodies[0].random_seed = 1  # type: ignore[misc]


def test_catalogue_round_trip_and_partial_entries() -> None:
    """The catalogue round-trips; figures a worker did not publish are None; wrong types named."""
    catalogue = {
        "folk": StyleEntry(
            "German folk songs",
            "v002",
            (
                ModelVersion("v001", "default", 1.12, 0.74, 1.22, "2026-11-20", 1425),
                ModelVersion("v002", error="config.json is missing"),
            ),
        )
    }
    data = json.loads(json.dumps(catalogue_to_json(catalogue)))
    assert catalogue_from_json(data) == catalogue
    assert catalogue["folk"].active == ModelVersion("v002", error="config.json is missing")
    partial = catalogue_from_json(
        {"irish": {"active_version": "v001", "versions": [{"version": "v001"}]}}
    )
    assert partial["irish"].active == ModelVersion("v001")
    with pytest.raises(MalformedResult, match=r"catalogue\.folk\.versions\[0\]\.songs is 'many'"):
        catalogue_from_json({"folk": {"versions": [{"version": "v001", "songs": "many"}]}})


def test_a_result_says_the_temperature_it_was_sampled_at() -> None:
    """A result's request has its temperature resolved; one without is malformed."""
    result = melody_result()
    assert result.temperature == 0.8
    unresolved = result.to_json()
    unresolved["request"]["temperature"] = None
    with pytest.raises(MalformedResult, match="request has no temperature"):
        MelodyResult.from_json(unresolved)
