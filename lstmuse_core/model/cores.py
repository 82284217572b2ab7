"""A batch of melodies sampled on every core: its rows cut into parts, one thread each.

Rows are independent melodies, and the compiled loop releases the GIL, so
each part runs on its own thread with nothing shared but the read-only
network. A part of several rows does its matrix products itself
(`lstmuse_core.model.compiled.matmul`), so no BLAS starts threads of its own
beside the parts. Measured on this 2-core machine, 64 melodies of 512 steps:
5.5 ms a melody in one part, 2.9-3.3 in two (``bench/generation_bench.py``).

A part under `MIN_PART_ROWS` rows would gain nothing: with few rows a step
costs reading the network's weights, which every part reads whole (a reply's
4 candidates took as long in two parts of 2 as in one part).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

MIN_PART_ROWS = 4

_Result = TypeVar("_Result")


def usable_cores() -> int:
    """The cores this process may run on (its affinity: a container's share, not the host's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def row_parts(rows: int, cores: int) -> list[range]:
    """``rows`` cut into at most ``cores`` contiguous parts of nearly equal size,
    none under `MIN_PART_ROWS` rows (so a small batch is one part)."""
    count = max(1, min(cores, rows // MIN_PART_ROWS))
    bounds = [rows * i // count for i in range(count + 1)]
    return [range(start, stop) for start, stop in itertools.pairwise(bounds)]


def on_every_core(sample: Callable[[range], _Result], rows: int) -> list[_Result]:
    """``sample(part)`` for each part of ``rows`` (`row_parts`), in parallel; results in order.

    The first part runs on the calling thread. An exception in any part is
    raised here, after every part has ended.
    """
    parts = row_parts(rows, usable_cores())
    if len(parts) == 1:
        return [sample(parts[0])]
    with ThreadPoolExecutor(len(parts) - 1, thread_name_prefix="lstmuse-part") as pool:
        others = [pool.submit(sample, part) for part in parts[1:]]
        first = sample(parts[0])
        return [first, *(other.result() for other in others)]
