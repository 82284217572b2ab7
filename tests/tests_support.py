"""Constants shared by the test packages."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from celery.result import AsyncResult

    from lstmuse_core.music.meter import Meter

REDIS_URL = os.environ.get("LSTMUSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
# A database of its own for tests that flush it while the worker uses REDIS_URL.
SCRATCH_REDIS_URL = os.environ.get("LSTMUSE_TEST_SCRATCH_REDIS_URL", "redis://127.0.0.1:6379/13")


def keras_inputs(generator, symbols, meter: Meter, mode: str, *, known: bool):  # type: ignore[no-untyped-def]
    """The Keras model's inputs for a whole song, as training computes them (`song_inputs`)."""
    import numpy as np

    from lstmuse_core.model.conditioning import song_inputs
    from lstmuse_core.music.encoding import SONG_END
    from lstmuse_core.music.keys import MODES

    features = song_inputs(
        generator.vocabulary.encode(symbols),
        bar_steps=meter.bar_steps,
        meter_id=generator.conditioning.meter_id(meter),
        mode_id=MODES.index(mode),
        delimiter=generator.vocabulary.index[SONG_END],
        length_known=known,
    )
    return {name: features[name][None].astype(np.int32) for name in generator.conditioning.inputs}


def wait_for_state(job: AsyncResult, states: set[str], timeout: float) -> str:
    """The Celery state ``job`` reaches among ``states`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if job.state in states:
            return job.state
        time.sleep(0.05)
    raise AssertionError(f"job {job.id} stayed {job.state}, not one of {sorted(states)}")
