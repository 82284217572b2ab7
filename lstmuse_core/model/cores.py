"""A batch of melodies sampled on every core: its rows cut into parts, one thread each.

Rows are independent melodies, and the compiled loop releases the GIL, so
each part runs on its own thread with nothing shared but the read-only
network. Why not let BLAS spread one batch over the cores instead: a step's
matrix products are small (at most 64 x 256 -> 512), and OpenBLAS's threads
spent more on meeting at every product than they saved, while the cell
updates and the drawing of symbols stayed on one core. Measured on this
2-core machine, 64 melodies of 512 steps: 4.0 ms a melody with OpenBLAS's
2 threads, 3.6 ms in two parts with one BLAS thread each; a reply's 4
candidates in two parts: see ``bench/generation_bench.py``.

While parts run, every BLAS is held to one thread (`threadpoolctl`): parts
that reach BLAS (one row, or `lstmuse_core.model.compiled.BLAS_ROWS` rows
and more) would otherwise start a core's worth of threads each. The limit is
process-wide, so one batch at a time is cut (`_cut_lock`); a batch that waits
for it would have found every core busy anyway.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from threadpoolctl import ThreadpoolController

MIN_PART_ROWS = 4  # below this, a part costs about what its whole batch costs (see above)

_Result = TypeVar("_Result")
_cut_lock = threading.Lock()
_blas: ThreadpoolController | None = None


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
    with (
        _cut_lock,
        _blas_controller().limit(limits=1, user_api="blas"),
        ThreadPoolExecutor(len(parts) - 1, thread_name_prefix="lstmuse-part") as pool,
    ):
        others = [pool.submit(sample, part) for part in parts[1:]]
        first = sample(parts[0])
        return [first, *(other.result() for other in others)]


def _blas_controller() -> ThreadpoolController:
    """Every BLAS loaded, SciPy's included (the one the compiled loop calls); made once,
    after loading SciPy's, because a controller sees only libraries already loaded."""
    global _blas
    if _blas is None:
        import scipy.linalg.cython_blas  # noqa: F401  (loads SciPy's OpenBLAS)

        _blas = ThreadpoolController()
    return _blas
