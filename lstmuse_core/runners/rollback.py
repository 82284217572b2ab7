"""Rolling a style back to the previously active version (an admin command).

The style's promotion history (``trained_models/<style>/HISTORY.jsonl``,
see `lstmuse_core.model.bundle.roll_back`) says which versions were active and in
what order: a rollback returns to the one active before the current one,
never to a version the promotion check refused, and is itself recorded, so
rolling back twice walks two steps back. The committed bundles have no
history yet: their ACTIVE version is the only known-good one, and a rollback
is refused until a promotion has been recorded.
"""

from __future__ import annotations

from pathlib import Path

from lstmuse_core.jobs.results import RollbackResult
from lstmuse_core.model import bundle
from lstmuse_core.names import check_style_name, check_version_name
from lstmuse_core.runners.failures import job_failures
from lstmuse_core.settings import Settings


def run_rollback_job(
    job_id: str,
    style: str,
    version: str | None,
    settings: Settings,
    *,
    interrupts: tuple[type[BaseException], ...] = (),
) -> RollbackResult:
    """`roll_back` in ``settings.models_dir`` as a job: `JobFailed` says why it could not."""
    with job_failures(f"rollback {job_id} (style {style:.40})", interrupts=interrupts):
        return roll_back(style, version, settings.models_dir)
    raise AssertionError("unreachable: the block returns or raises")


def roll_back(
    style: str, version: str | None = None, models_dir: Path | None = None
) -> RollbackResult:
    """Make ``version`` (default: the previously active one) active again.

    The result names the active version, the one it replaced and the
    versions active before (oldest first, after this rollback).
    `InvalidParameter` for a bad name, a never-active version or no history.
    """
    check_style_name(style)
    if version is not None:
        check_version_name(version)
    now_active, was = bundle.roll_back(style, version, models_dir)
    stack = bundle.activation_stack(
        bundle.history(style, models_dir), bundle.active_version(style, models_dir)
    )
    return RollbackResult(style, now_active, was, tuple(stack[:-1]))
