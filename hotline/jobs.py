"""The product's background tasks and the runner the settings choose (core/jobs.py).

Only the retention purge runs as a job so far; radio renders, complaint transcription and bundle builds
still run in the process that asks for them (README "Jobs").
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging

from core.jobs import InProcessRunner, JobRunner, Task, choose_mode
from hotline.settings import Settings

logger = logging.getLogger(__name__)

RETENTION_TASK = "retention_purge"
RETENTION_INTERVAL_S = 6 * 3600  # in-process: at start and then every 6 h, as before jobs had an engine
RETENTION_CRON = "0 */6 * * *"  # procrastinate: every 6 h on the hour, queued by one worker only
RETENTION_RETRIES = 2  # a purge that failed (the database restarting) is tried twice more
RESTART_WAIT_S = 30.0  # a job runner that stopped on an error (the database unreachable) starts again after


def retention_purge(settings: Settings) -> dict[str, int]:
    """One retention pass, logged when it removed anything (the job's result is the counts)."""
    from hotline.service import purge_expired  # the service module assembles the areas: imported late

    counts = purge_expired(settings)
    if any(counts.values()):
        logger.info("retention purge: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


def tasks(settings: Settings) -> list[Task]:
    return [
        Task(
            RETENTION_TASK,
            functools.partial(retention_purge, settings),
            retries=RETENTION_RETRIES,
            every_seconds=RETENTION_INTERVAL_S,
            cron=RETENTION_CRON,
            lock=RETENTION_TASK,  # one purge waiting at a time, whichever worker queued it
        )
    ]


def job_runner(settings: Settings, *, name: str = "hotline-jobs") -> JobRunner:
    """In-process on SQLite (the embedded default), procrastinate on PostgreSQL (`jobs.mode`)."""
    jobs = settings.jobs
    if choose_mode(jobs.mode, settings.database_url) == "in_process":
        return InProcessRunner(tasks(settings))
    from core.jobs_procrastinate import ProcrastinateRunner

    return ProcrastinateRunner(
        settings.database_url,
        tasks(settings),
        concurrency=jobs.concurrency,
        heartbeat_seconds=jobs.heartbeat_seconds,
        stalled_after_seconds=jobs.stalled_after_seconds,
        keep_finished_days=jobs.keep_finished_days,
        name=name,
    )


async def run_jobs(
    settings: Settings, stop: asyncio.Event, *, restart_wait_s: float = RESTART_WAIT_S
) -> None:
    """The worker's job runner until `stop`; an error (PostgreSQL unreachable) is logged and the runner
    started again later, so the calls beside it never stop because the job queue did."""
    while not stop.is_set():
        try:
            await job_runner(settings).run(stop)
        except Exception:
            logger.exception("job runner stopped; starting it again in %.0f s", restart_wait_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), restart_wait_s)
