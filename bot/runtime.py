"""Wiring: settings -> jobs backend + limits -> the command service."""

from __future__ import annotations

from bot.jobs import CeleryJobs, InProcessJobs
from bot.limits import MemoryJobLimits, RedisJobLimits
from bot.service import LstmuseService
from bot.settings import BotSettings


def build_service(settings: BotSettings) -> LstmuseService:
    """The queue when ``LSTMUSE_REDIS_URL`` is set, else jobs in this process."""
    limits = {
        "max_jobs_per_user": settings.max_jobs_per_user,
        "cooldown_seconds": settings.cooldown_seconds,
        "queue_cap": settings.queue_cap,
    }
    jobs: CeleryJobs | InProcessJobs
    if settings.redis_url:
        jobs = CeleryJobs(settings.redis_url, timeout_seconds=settings.broker_timeout_seconds)
        job_limits = RedisJobLimits(jobs.redis, **limits)
        return LstmuseService(
            jobs,
            job_limits,
            job_timeout=settings.job_timeout_seconds,
            train_timeout=settings.train_job_timeout_seconds,
        )
    jobs = InProcessJobs(settings)
    return LstmuseService(
        jobs,
        MemoryJobLimits(**limits),
        job_timeout=settings.job_timeout_seconds,
        train_timeout=settings.train_job_timeout_seconds,
    )
