"""A batch cut into a part per core: every row once, at once, in order, the same melodies."""

from __future__ import annotations

import threading
import time

import pytest

from lstmuse_core.model import cores
from lstmuse_core.model.generate import MelodyGenerator, load_generator_from_path
from lstmuse_core.model.train import StyleTrainingResult

M = cores.MIN_PART_ROWS


@pytest.mark.parametrize(
    ("rows", "cores_", "sizes"),
    [
        (1, 2, [1]),
        (2 * M - 1, 2, [2 * M - 1]),  # two parts would leave one under M rows
        (2 * M, 2, [M, M]),
        (64, 2, [32, 32]),
        (65, 2, [32, 33]),
        (3 * M + 1, 3, [M, M, M + 1]),
        (64, 1, [64]),
    ],
)
def test_rows_are_cut_into_nearly_equal_contiguous_parts(
    rows: int, cores_: int, sizes: list[int]
) -> None:
    parts = cores.row_parts(rows, cores_)
    assert [len(part) for part in parts] == sizes
    assert [row for part in parts for row in part] == list(range(rows))


def test_parts_run_at_once_and_come_back_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cores, "usable_cores", lambda: 3)
    all_running = threading.Barrier(3, timeout=10)  # broken (raises) unless 3 parts run at once
    threads: dict[int, str] = {}

    def sample(part: range) -> list[int]:
        threads[part.start] = threading.current_thread().name
        all_running.wait()
        return [row * 10 for row in part]

    parts = cores.on_every_core(sample, 3 * M)
    assert parts == [[row * 10 for row in range(start, start + M)] for start in (0, M, 2 * M)]
    assert threads[0] == threading.current_thread().name  # the first part: the caller's thread


def test_a_failing_part_is_raised_after_every_part_ended(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cores, "usable_cores", lambda: 2)
    ended: list[int] = []

    def sample(part: range) -> range:
        if part.start > 0:
            raise ValueError("part two failed")
        time.sleep(0.2)  # the first part outlasts the failing one
        ended.append(part.start)
        return part

    with pytest.raises(ValueError, match="part two failed"):
        cores.on_every_core(sample, 2 * M)
    assert ended == [0]


@pytest.fixture(scope="module")
def generator(tiny_training: StyleTrainingResult) -> MelodyGenerator:
    return load_generator_from_path(tiny_training.bundle.path)


def test_a_batch_in_three_parts_is_the_batch_in_one(
    generator: MelodyGenerator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows ending early, primers of their own, three candidates each: cut or not, the same."""
    primers = [["60", "_", "62"][: row % 4] for row in range(10)]

    def batch() -> list[object]:
        return list(generator.sample(n=10, seed=5, primers=primers, max_steps=96, candidates=3))

    monkeypatch.setattr(cores, "usable_cores", lambda: 1)
    whole = batch()
    monkeypatch.setattr(cores, "usable_cores", lambda: 3)
    assert batch() == whole
