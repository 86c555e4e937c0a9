"""The product's background tasks and the runner the settings choose (core/jobs.py).

Jobs now: the retention purge (periodic), radio renders (broadcast.jobs: one bulletin, or one job per
commune after the shared body) and complaint transcription (ivr.transcription: a ticket's recording to
its transcript). In-process (SQLite) each runs where it ran before jobs had an engine: this worker's
runner has the purge, the call application's the transcriptions (with the calls' recognizer), the web
app's the renders; their jobs are stored and run again at the next start. On PostgreSQL any job worker
runs every task. Readings by a person and bundle builds still run in the process that asks for them
(README "Jobs").
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from typing import Any

from broadcast.jobs import render_tasks
from broadcast.service import BroadcastService
from core.db import engine_for, session_factory
from core.jobs import InProcessRunner, JobRunner, Task, choose_mode
from hotline.settings import Settings
from ivr.services import Services
from ivr.store import CallStore
from ivr.ticket_rules import ticket_rules
from ivr.transcription import call_runner, in_own_loop, transcription_tasks

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
    """The periodic tasks every runner has."""
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
    """In-process on SQLite (the embedded default: the periodic tasks; renders are the web app's runner's,
    transcriptions the call application's), procrastinate on PostgreSQL with every task (`jobs.mode`)."""
    jobs = settings.jobs
    if choose_mode(jobs.mode, settings.database_url) == "in_process":
        return InProcessRunner(tasks(settings))
    from core.jobs_procrastinate import ProcrastinateRunner

    holder: list[JobRunner] = []
    sessions = functools.cache(lambda: session_factory(engine_for(settings)))

    @functools.cache
    def radio() -> BroadcastService:
        return BroadcastService(settings, sessions())

    @functools.cache
    def calls() -> CallStore:
        rules = ticket_rules(settings.ivr.tickets, settings.locale.time_zone)
        return CallStore(sessions(), settings.data_dir / settings.ivr.recordings_dir, rules)

    @functools.cache
    def recognizer() -> Any:  # voice.asr.Recognizer, its model loaded on the first transcription
        from voice.asr import Recognizer

        return Recognizer.from_settings(settings)

    runner = ProcrastinateRunner(
        settings.database_url,
        [
            *tasks(settings),
            *render_tasks(radio, lambda: holder[0]),
            *transcription_tasks(calls, in_own_loop(recognizer)),
        ],
        concurrency=jobs.concurrency,
        heartbeat_seconds=jobs.heartbeat_seconds,
        stalled_after_seconds=jobs.stalled_after_seconds,
        keep_finished_days=jobs.keep_finished_days,
        name=name,
    )
    holder.append(runner)
    return runner


async def call_jobs(settings: Settings, services: Services) -> JobRunner | None:
    """Where the call application queues tickets' transcriptions: in-process (SQLite) a runner of its own
    with the calls' recognizer (None without one: tickets keep their recording, as before), whose jobs a
    previous run left are run again now; on PostgreSQL the shared queue (job workers transcribe)."""
    if choose_mode(settings.jobs.mode, settings.database_url) == "procrastinate":
        return job_runner(settings, name="hotline-calls")
    if services.recognizer is None:
        return None
    runner = call_runner(services.store, services.recognizer, asyncio.get_running_loop())
    try:
        await asyncio.to_thread(runner.recover)
    except Exception:  # the calls go on; the stored jobs wait for the next start
        logger.exception("transcription jobs of the previous run not recovered")
    return runner


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
