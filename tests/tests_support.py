"""Constants shared by the test packages."""

from __future__ import annotations

import os

REDIS_URL = os.environ.get("LSTMUSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
# A database of its own for tests that flush it while the worker uses REDIS_URL.
SCRATCH_REDIS_URL = os.environ.get("LSTMUSE_TEST_SCRATCH_REDIS_URL", "redis://127.0.0.1:6379/13")
