"""The production worker app plus one task that reports what its child has imported.

Started by ``tests/test_generation_without_tensorflow.py`` as a ``-Q generate``
worker with one child: a real ``lstmuse.generate`` job runs first, then
``test.imported_packages`` reads the same child's ``sys.modules``.
"""

from __future__ import annotations

import sys

from worker.app import app


@app.task(name="test.imported_packages")
def imported_packages() -> dict[str, object]:
    from lstmuse_core.model import generate

    return {
        "packages": sorted({name.split(".")[0] for name in sys.modules}),
        "generators_loaded": len(generate._cache),
    }
