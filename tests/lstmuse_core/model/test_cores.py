"""A batch cut into a part per core: every row once, in order, the same melodies, BLAS restored."""

from __future__ import annotations

import threading

import pytest
import scipy.linalg.cython_blas  # noqa: F401  (the BLAS the compiled loop calls, loaded)
from threadpoolctl import threadpool_info

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


def blas_threads() -> list[int]:
    return [
        library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"
    ]


def test_a_failing_part_raises_and_blas_threads_come_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While parts run, every BLAS has one thread; after, as many as before."""
    monkeypatch.setattr(cores, "usable_cores", lambda: 2)
    before = blas_threads()
    inside: list[list[int]] = []

    def sample(part: range) -> range:
        inside.append(blas_threads())
        if part.start > 0:
            raise ValueError("part two failed")
        return part

    with pytest.raises(ValueError, match="part two failed"):
        cores.on_every_core(sample, 2 * M)
    assert len(inside) == 2 and all(count == 1 for counts in inside for count in counts)
    assert blas_threads() == before


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
