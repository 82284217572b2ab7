"""Each worker's temporary folders, removed when a process of it starts again.

Jobs write their files under the process's temporary folder (a melody's
renders, a retrain's staging), and a process killed mid-job (a hard time
limit, the OOM killer, a whole worker gone) leaves them behind. So each worker
main process works in ``<tmp>/lstmuse-worker-<pid>`` and each of its children
in ``child-<pid>`` inside it; a process that starts removes the folders of
the processes of its kind that no longer run, and then makes its own. A
worker of another machine or container has its own ``/tmp``; two workers of
one machine never remove each other's folders while both run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

WORKER_PREFIX = "lstmuse-worker-"
CHILD_PREFIX = "child-"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def claim_scratch(parent: Path, prefix: str) -> Path:
    """Remove ``parent/<prefix><pid>`` of processes that no longer run; make this process's
    own and make it the temporary folder of this process and of the tools it starts."""
    for folder in parent.glob(f"{prefix}*"):
        pid = folder.name.removeprefix(prefix)
        if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    own = parent / f"{prefix}{os.getpid()}"
    own.mkdir(mode=0o700, exist_ok=True)
    tempfile.tempdir = str(own)
    os.environ["TMPDIR"] = str(own)
    return own
