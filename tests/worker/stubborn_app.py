"""A Celery app for one test: a job that ignores its soft time limit.

It stands for a job stuck in C code (a FluidSynth render, a model call) that
the soft limit's signal cannot interrupt, so only the hard limit's kill of the
child stops it. It uses the project's `JobRequest`, so the test sees the
failure the bot would read. Started by ``test_hard_time_limit_kill_...``.
"""

from __future__ import annotations

import os
import signal
import time

from billiard.pool import SIG_SOFT_TIMEOUT
from celery import Celery

from worker.app import app as production
from worker.tasks import JobRequest

url = os.environ["LSTMUSE_REDIS_URL"]
app = Celery("lstmuse-stubborn", broker=url, backend=url)
# As the production app: a new child warms up (`worker.tasks`) before it reports ready.
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_proc_alive_timeout=production.conf.worker_proc_alive_timeout,
)


@app.task(name="test.stubborn", Request=JobRequest)
def stubborn(seconds: float) -> str:
    # The soft limit's signal stays blocked, as for code stuck in C: catching the
    # exception instead left a window (the loop test) where it still got through.
    signal.pthread_sigmask(signal.SIG_BLOCK, {SIG_SOFT_TIMEOUT})
    try:
        time.sleep(seconds)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {SIG_SOFT_TIMEOUT})
    return "finished"
