"""The job runner on PostgreSQL: procrastinate (README "Jobs"), its connector on psycopg 3.

Jobs are rows in procrastinate's tables (created by the `jobs` migration branch), so a job queued with a
ticket or a bulletin commits or rolls back with it, and any worker on any machine may run it. Retries are
procrastinate's retry strategy; a duplicate with the same queueing lock is refused by its unique index;
a worker killed mid-job stops sending heartbeats, and another worker's recovery loop queues its running
jobs again (procrastinate's stalled-job API, run here every heartbeat).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import Sequence
from typing import Any

import procrastinate
import procrastinate.jobs
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.retry import RetryStrategy
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.jobs import PROCRASTINATE_STATUS, AlreadyQueued, JobArgs, JobInfo, Task

logger = logging.getLogger(__name__)

QUEUE = "default"
# The unique index procrastinate's schema puts on the queueing lock of waiting jobs.
QUEUEING_LOCK_INDEX = "procrastinate_jobs_queueing_lock_idx_v1"
CLEANUP_EVERY_S = 3600.0  # how often each worker deletes old finished jobs (the DELETE is idempotent)
RETRY_WAIT_S = 30  # a failed job is tried again 30 s later, then 60 s, 90 s... (linear: a database restart)

# Each job with the time of its last event (queued, started, retried, finished), newest first.
_LIST = text(
    "SELECT j.id, j.task_name, j.args, j.status, j.attempts, "
    "(SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id) AS at "
    "FROM procrastinate_jobs j ORDER BY j.id DESC LIMIT :limit"
)
_STATUS = text("SELECT status FROM procrastinate_jobs WHERE id = :id FOR UPDATE")
_RETRY = text("SELECT procrastinate_retry_job_v2(:id, now(), NULL, NULL, NULL)")
_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :qlock, :qlock, "
    "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1]))"
)


def conninfo(database_url: str) -> str:
    """psycopg's own URI from SQLAlchemy's (`postgresql+psycopg://` names the driver)."""
    scheme, _, rest = database_url.partition("://")
    if not scheme.startswith("postgresql"):
        raise ValueError("procrastinate needs a PostgreSQL database URL")
    return f"postgresql://{rest}"


def _periodic_call(fn: Any) -> Any:
    """procrastinate passes a periodic job the time it was due (`timestamp`); our tasks do not need it."""

    def call(timestamp: int | None = None, **kwargs: Any) -> object:
        return fn(**kwargs)

    return call


class ProcrastinateRunner:
    """A procrastinate app with our tasks registered, a worker and its stalled-job recovery and clean-up."""

    def __init__(
        self,
        database_url: str,
        tasks: Sequence[Task],
        *,
        concurrency: int = 2,
        heartbeat_seconds: float = 10.0,
        stalled_after_seconds: float = 60.0,
        name: str = "hotline-jobs",
        retry_wait_seconds: int = RETRY_WAIT_S,
        keep_finished_days: int = 30,
    ) -> None:
        self.tasks = {t.name: t for t in tasks}
        self.concurrency = concurrency
        self.heartbeat_seconds = heartbeat_seconds
        self.stalled_after_seconds = stalled_after_seconds
        self.name = name
        self.keep_finished_days = keep_finished_days
        self._last_cleanup = -CLEANUP_EVERY_S
        self.app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(
                conninfo=conninfo(database_url),
                # Small: the pool serves the worker's polling, heartbeats and recovery, not the jobs'
                # own queries (they use the product's engine).
                kwargs={"application_name": "hotline-jobs"},
                min_size=1,
                max_size=max(2, concurrency + 1),
            )
        )
        for t in tasks:
            retry = (
                RetryStrategy(max_attempts=t.retries, wait=retry_wait_seconds, linear_wait=retry_wait_seconds)
                if t.retries
                else False
            )
            fn = _periodic_call(t.fn) if t.cron else t.fn
            registered = self.app.task(name=t.name, retry=retry, queue=QUEUE)(fn)
            if t.cron:
                self.app.periodic(cron=t.cron, periodic_id=t.name, queueing_lock=t.lock or t.name)(registered)

    def enqueue(self, session: Session, name: str, args: JobArgs, *, lock: str | None = None) -> None:
        """The job row is written by `session`, in its transaction; a savepoint keeps that transaction
        usable when a duplicate is refused.

        `lock` is both procrastinate's queueing lock (a second job while one waits is refused) and its
        lock (a job queued while another with the same lock runs waits for it to end): work on one thing
        is never done twice at once.
        """
        if name not in self.tasks:
            raise KeyError(f"no task named {name!r}")
        params = {"queue": QUEUE, "task": name, "qlock": lock, "args": json.dumps(dict(args))}
        try:
            with session.begin_nested():
                session.execute(_DEFER, params)
        except sa_exc.IntegrityError as exc:
            constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
            if constraint == QUEUEING_LOCK_INDEX:
                raise AlreadyQueued(lock) from exc
            raise

    def list_jobs(self, session: Session, limit: int = 200) -> list[JobInfo]:
        """The newest jobs first, read with the product's session (the console's page)."""
        out = []
        for row in session.execute(_LIST, {"limit": limit}):
            at = row.at.astimezone(dt.UTC).replace(tzinfo=None) if row.at is not None else None
            status = PROCRASTINATE_STATUS.get(str(row.status), PROCRASTINATE_STATUS["failed"])
            out.append(JobInfo(row.id, row.task_name, dict(row.args or {}), status, row.attempts, at))
        return out

    def retry(self, session: Session, job_id: int) -> bool:
        """A failed job queued again now, in `session`'s transaction (the console's "Thử lại")."""
        status = session.scalar(_STATUS, {"id": job_id})
        if status != "failed":
            return False
        session.execute(_RETRY, {"id": job_id})
        return True

    async def task_counts(self) -> list[dict[str, Any]]:
        """Per task: jobs waiting (todo), running (doing), succeeded, failed."""
        return list(await self.app.job_manager.list_tasks_async())

    async def failed_jobs(self) -> list[procrastinate.jobs.Job]:
        return list(await self.app.job_manager.list_jobs_async(status="failed"))

    async def retry_failed(self, job_id: int) -> bool:
        """Queue a failed job again now (an administrator fixed the cause); False if it is not failed."""
        manager = self.app.job_manager
        if await manager.get_job_status_async(job_id) != procrastinate.jobs.Status.FAILED:
            return False
        await manager.retry_job_by_id_async(job_id, retry_at=dt.datetime.now(dt.UTC))
        return True

    async def delete_finished(self) -> None:
        """Delete jobs that succeeded more than `keep_finished_days` ago, so the queue's tables stay small;
        failed ones stay until an administrator retries them (`hotline jobs retry`)."""
        await self.app.job_manager.delete_old_jobs(nb_hours=self.keep_finished_days * 24)

    async def recover_stalled(self) -> int:
        """Queue again the jobs that workers silent for `stalled_after_seconds` were running."""
        manager = self.app.job_manager
        stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=self.stalled_after_seconds))
        for job in stalled:
            logger.warning("job %s #%s: its worker stopped answering; queued again", job.task_name, job.id)
            await manager.retry_job(job)
        return len(stalled)

    async def _recovery_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.recover_stalled()
                if time.monotonic() - self._last_cleanup >= CLEANUP_EVERY_S:
                    self._last_cleanup = time.monotonic()
                    await self.delete_finished()
            except Exception:
                logger.exception("stalled-job recovery or clean-up failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.heartbeat_seconds)

    async def queue_periodic_now(self) -> int:
        """Queue each periodic task once at start, as the in-process timer runs them at start (cron alone
        would wait for the next tick); a worker that finds one already waiting is refused, not doubled."""
        queued = 0
        for t in self.tasks.values():
            if not t.cron:
                continue
            try:
                await self.app.configure_task(t.name, queueing_lock=t.lock or t.name).defer_async()
                queued += 1
            except AlreadyEnqueued:
                logger.debug("job %s already queued", t.name)
        return queued

    async def run(self, stop: asyncio.Event) -> None:
        async with self.app.open_async():
            await self.queue_periodic_now()
            worker = asyncio.create_task(
                self.app.run_worker_async(
                    name=self.name,
                    concurrency=self.concurrency,
                    install_signal_handlers=False,  # the service owns SIGTERM and sets `stop`
                    update_heartbeat_interval=self.heartbeat_seconds,
                    stalled_worker_timeout=self.stalled_after_seconds,
                    fetch_job_polling_interval=self.heartbeat_seconds,
                )
            )
            recovery = asyncio.create_task(self._recovery_loop(stop))
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({worker, stopped}, return_when=asyncio.FIRST_COMPLETED)
            stop.set()
            stopped.cancel()
            worker.cancel()  # procrastinate then lets running jobs finish before it returns
            await asyncio.gather(worker, recovery, return_exceptions=True)
