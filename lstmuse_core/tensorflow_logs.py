"""TensorFlow's start-up notices, kept off the user's terminal.

TensorFlow 2.21 prints "oneDNN custom operations are on" twice while its
shared libraries load, each time after absl's "All log messages before
absl::InitializeLog() is called are written to STDERR". That happens before
TensorFlow reads ``TF_CPP_MIN_LOG_LEVEL``, and no environment variable stops
it (tried: ``TF_CPP_MIN_LOG_LEVEL=3``, ``GRPC_VERBOSITY``, ``FLAGS_minloglevel``,
``ABSL_MIN_LOG_LEVEL``); ``TF_ENABLE_ONEDNN_OPTS=0`` would, but it changes the
numerics. So the first ``import tensorflow`` runs with file descriptor 2 sent
to a temporary file, and everything it wrote except those notices is written
back to stderr afterwards: real errors still show.

Entry points (``lstmuse``, ``lstmuse-bot``) call `quiet_tensorflow_logs`
before anything imports TensorFlow; importing this module is free.
``TF_CPP_MIN_LOG_LEVEL=0`` turns every log line back on.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from types import ModuleType

# Parts of the lines TensorFlow prints on every start (INFO level and absl's
# pre-initialisation warning); nothing a user can act on.
START_UP_NOTICES = (
    "All log messages before absl::InitializeLog() is called",
    "oneDNN custom operations are on",
    "cpu_feature_guard",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions:",
)


def quiet_tensorflow_logs() -> None:
    """Keep TensorFlow's start-up notices and INFO/WARNING log lines off stderr.

    Sets ``TF_CPP_MIN_LOG_LEVEL=2`` (errors only) unless the environment sets
    it, and, unless it is ``0``, filters the notices out of the first
    ``import tensorflow`` (whenever some module does it). Call it before
    TensorFlow is imported; calling it again does nothing.
    """
    level = os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if level.strip() == "0" or "tensorflow" in sys.modules:
        return
    if not any(isinstance(finder, _QuietTensorFlowFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowFinder())


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` as usual, then loads it with stderr filtered (once)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)  # the other finders, as usual
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # The module keeps its real loader (importlib.resources and friends use it).
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        with filtered_stderr(START_UP_NOTICES):
            self.loader.exec_module(module)


@contextlib.contextmanager
def filtered_stderr(notices: Sequence[str]) -> Iterator[None]:
    """Capture file descriptor 2 for the block; write back the lines without ``notices``.

    Catches what C++ libraries print as well as Python's own stderr. Lines
    are written back when the block ends, even when it raises.
    """
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to keep quiet
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            kept = [
                line
                for line in text.splitlines(keepends=True)
                if not any(notice in line for notice in notices)
            ]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
