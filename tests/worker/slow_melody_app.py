"""The production worker app, its melody jobs each 12 s slower.

Started by ``test_a_melody_job_longer_than_the_visibility_timeout_...`` with
a 5 s generate visibility timeout: each ``lstmuse.generate`` job runs the
real task (its heartbeat included) and waits 12 s before generating.
"""

from __future__ import annotations

import time
from typing import Any

import worker.tasks
from worker.app import app

__all__ = ["app"]

DELAY_SECONDS = 12.0
_generate = worker.tasks.run_generate_job


def _slow_generate(*args: Any, **kwargs: Any) -> Any:
    time.sleep(DELAY_SECONDS)
    return _generate(*args, **kwargs)


worker.tasks.run_generate_job = _slow_generate
