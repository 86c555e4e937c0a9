"""Background jobs behind one small interface: named tasks, enqueued in the caller's transaction.

Two runners: `InProcessRunner` (the embedded default, SQLite on one machine: a job runs in a thread of
the process that asked for it, periodic tasks on a timer, as before jobs had an engine; given a session
factory, its jobs are rows of `jobs_in_process`, so one queued or running when the process died runs
again at the next start) and
`core.jobs_procrastinate.ProcrastinateRunner` (PostgreSQL: jobs in the database, run by any worker on
any machine, retried, duplicates refused, a dead worker's jobs run again). Which one runs is a pure
function of the settings (`choose_mode`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import json
import logging
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy import DateTime, Integer, String, Text, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from core.db import Base, is_sqlite, transaction

logger = logging.getLogger(__name__)

# Keyword arguments of a task: JSON values, stored on PostgreSQL and written in procrastinate's log lines,
# so ids only (a ticket's, a bulletin's), never a caller's number or words.
JobArgs = Mapping[str, Any]


@dataclass(frozen=True)
class Task:
    """A named piece of background work: a blocking function of JSON keyword arguments, run in a thread."""

    name: str
    fn: Callable[..., object]
    retries: int = 0  # further attempts after a failure (procrastinate; in-process: the next period)
    every_seconds: float | None = None  # periodic, in-process: at start and then every so often
    cron: str | None = None  # periodic, procrastinate: a cron line (minutes), e.g. "0 */6 * * *"
    lock: str | None = None  # the queueing lock of the periodic job: one queued at a time


class JobStatus(enum.StrEnum):
    """A job's state on either runner (procrastinate's todo/doing/succeeded/failed under our names)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# procrastinate's states as ours: a cancelled or aborted job did not do its work, as a failed one.
PROCRASTINATE_STATUS = {
    "todo": JobStatus.QUEUED,
    "doing": JobStatus.RUNNING,
    "succeeded": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
    "cancelled": JobStatus.FAILED,
    "aborting": JobStatus.RUNNING,
    "aborted": JobStatus.FAILED,
}


@dataclass(frozen=True)
class JobInfo:
    """One job as the console lists it, whichever runner stored it."""

    id: int
    task: str
    args: dict[str, Any] = field(default_factory=dict)
    status: JobStatus = JobStatus.QUEUED
    attempts: int = 0  # runs started so far
    updated_at: dt.datetime | None = None  # naive UTC: the last change of state


def utcnow() -> dt.datetime:
    """Naive UTC, as the database stores datetimes."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class InProcessJob(Base):
    """A job of the in-process runner (SQLite): what it runs, with which ids, and how far it got."""

    __tablename__ = "jobs_in_process"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(64))
    args_json: Mapped[str] = mapped_column(Text, default="{}")  # ids only (README "Jobs")
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC


class AlreadyQueued(Exception):
    """A job with the same queueing lock is already waiting: the duplicate is refused."""


class JobRunner(Protocol):
    def enqueue(self, session: Session, name: str, args: JobArgs, *, lock: str | None = None) -> None:
        """Queue `name(**args)` with `session`'s transaction: it runs only if that transaction commits."""
        ...

    async def run(self, stop: asyncio.Event) -> None:
        """Run jobs (and periodic tasks) until `stop` is set."""
        ...

    def list_jobs(self, session: Session, limit: int = 200) -> list[JobInfo]:
        """The newest jobs first, in every state."""
        ...

    def retry(self, session: Session, job_id: int) -> bool:
        """Queue a failed job again now (its transaction decides); False if it is not a failed job."""
        ...


def choose_mode(mode: str, database_url: str) -> Literal["in_process", "procrastinate"]:
    """auto: procrastinate on PostgreSQL (a shared queue for several machines), in-process on SQLite."""
    if mode == "auto":
        return "in_process" if is_sqlite(database_url) else "procrastinate"
    if mode == "procrastinate" and is_sqlite(database_url):
        raise ValueError("procrastinate needs PostgreSQL")
    return "procrastinate" if mode == "procrastinate" else "in_process"


RETRY_WAIT_S = 30.0  # in-process: a failed job is tried again this long after (then 60 s, 90 s...)
IN_PROCESS_WORKERS = 1  # jobs at once in-process: a render already uses several TTS threads


# The in-process runners of this process (the web app's, the call application's): a retry from the console
# reaches the one that has the job's task.
_RUNNERS: weakref.WeakSet[InProcessRunner] = weakref.WeakSet()


class InProcessRunner:
    """Jobs in threads of this process, periodic tasks on a timer: one machine with SQLite.

    Given `sessions`, each job is a row of `jobs_in_process` written in the caller's transaction: it is
    listed in the console, retried as its task says, and run again at the next start (`recover`) when the
    process died while it was queued or running. Without, nothing is stored (tests of pure logic). A lock
    refuses a duplicate while the first is queued or running.
    """

    def __init__(
        self,
        tasks: Sequence[Task],
        *,
        sessions: sessionmaker[Session] | None = None,
        workers: int = IN_PROCESS_WORKERS,
        retry_wait_seconds: float = RETRY_WAIT_S,
    ) -> None:
        self.tasks = {t.name: t for t in tasks}
        self.sessions = sessions
        self.retry_wait_seconds = retry_wait_seconds
        self._workers = workers
        self._queued_locks: set[str] = set()
        self._guard = threading.Lock()  # enqueue may be called from request threads
        self._executor: ThreadPoolExecutor | None = None
        self._timers: set[threading.Timer] = set()
        self._closed = False
        _RUNNERS.add(self)

    # --- queueing ---------------------------------------------------------------------------------

    def enqueue(self, session: Session, name: str, args: JobArgs, *, lock: str | None = None) -> None:
        if name not in self.tasks:
            raise KeyError(f"no task named {name!r}")
        with self._guard:
            if lock is not None and lock in self._queued_locks:
                raise AlreadyQueued(lock)
            if lock is not None:
                self._queued_locks.add(lock)
        job_id: int | None = None
        if self.sessions is not None:
            now = utcnow()
            row = InProcessJob(
                task=name,
                args_json=json.dumps(dict(args)),
                status=JobStatus.QUEUED,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            job_id = row.id
        self._after(
            session, lambda: self._submit(job_id, name, dict(args), lock), lambda: self._release(lock)
        )

    @staticmethod
    def _after(session: Session, on_commit: Callable[[], None], on_rollback: Callable[[], None]) -> None:
        """Whichever of commit and rollback ends the session's transaction first decides; the other
        listener is removed so a later transaction of the same session does not fire it."""

        def committed(_session: Session) -> None:
            event.remove(session, "after_rollback", rolled_back)
            on_commit()

        def rolled_back(_session: Session) -> None:
            event.remove(session, "after_commit", committed)
            on_rollback()

        event.listen(session, "after_commit", committed, once=True)
        event.listen(session, "after_rollback", rolled_back, once=True)

    def _release(self, lock: str | None) -> None:
        if lock is not None:
            with self._guard:
                self._queued_locks.discard(lock)

    def _submit(
        self, job_id: int | None, name: str, args: dict[str, Any], lock: str | None, attempt: int = 1
    ) -> None:
        with self._guard:
            if self._closed:
                return  # shutting down: a stored job runs at the next start
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self._workers, thread_name_prefix="job")
            executor = self._executor
        executor.submit(self._execute, job_id, name, args, lock, attempt)

    # --- running ----------------------------------------------------------------------------------

    def _mark(self, job_id: int | None, status: JobStatus, *, started: bool = False) -> None:
        if job_id is None or self.sessions is None:
            return
        values: dict[str, Any] = {"status": status, "updated_at": utcnow()}
        if started:
            values["attempts"] = InProcessJob.attempts + 1
        with transaction(self.sessions) as s:
            s.execute(update(InProcessJob).where(InProcessJob.id == job_id).values(**values))

    def _execute(
        self, job_id: int | None, name: str, args: dict[str, Any], lock: str | None, attempt: int
    ) -> None:
        """In a worker thread: one attempt; a failure is tried again later while the task allows."""
        task = self.tasks[name]
        final = True
        try:
            self._mark(job_id, JobStatus.RUNNING, started=True)
            result = task.fn(**args)
            self._mark(job_id, JobStatus.SUCCEEDED)
            logger.debug("job %s #%s done: %s", name, job_id, result)
        except Exception:
            final = attempt > task.retries
            logger.exception(
                "job %s #%s failed (attempt %d)%s",
                name,
                job_id,
                attempt,
                "" if final else "; tried again later",
            )
            try:
                self._mark(job_id, JobStatus.FAILED if final else JobStatus.QUEUED)
            except Exception:  # the database is down too: the row says running, the next start retries
                logger.exception("job %s #%s: state not stored", name, job_id)
            if not final:
                self._later(self.retry_wait_seconds * attempt, job_id, name, args, lock, attempt + 1)
        finally:
            if final:
                self._release(lock)

    def _later(self, wait: float, *job: Any) -> None:
        def fire() -> None:
            with self._guard:
                self._timers.discard(timer)
            self._submit(*job)

        timer = threading.Timer(wait, fire)
        timer.daemon = True
        with self._guard:
            if self._closed:
                return
            self._timers.add(timer)
        timer.start()

    def recover(self) -> int:
        """Run again this runner's stored jobs that were queued or running when the process stopped."""
        if self.sessions is None:
            return 0
        with self.sessions() as s:
            rows = list(
                s.scalars(
                    select(InProcessJob)
                    .where(
                        InProcessJob.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
                        InProcessJob.task.in_(list(self.tasks)),
                    )
                    .order_by(InProcessJob.id)
                )
            )
        rerun = 0
        for row in rows:
            if row.status == JobStatus.RUNNING and row.attempts > self.tasks[row.task].retries:
                # The process died during the job's last attempt, perhaps because of it: not run at every
                # start (a crash loop), failed for an administrator to retry.
                logger.error("job %s #%s: the process stopped in its last attempt: failed", row.task, row.id)
                self._mark(row.id, JobStatus.FAILED)
                continue
            logger.warning("job %s #%s was interrupted by a restart: run again", row.task, row.id)
            # Its attempts so far count: the retries left are what its task allows after them.
            self._submit(row.id, row.task, json.loads(row.args_json), None, attempt=row.attempts + 1)
            rerun += 1
        return rerun

    # --- the console's view -----------------------------------------------------------------------

    def list_jobs(self, session: Session, limit: int = 200) -> list[JobInfo]:
        if self.sessions is None:
            return []
        rows = session.scalars(select(InProcessJob).order_by(InProcessJob.id.desc()).limit(limit))
        return [
            JobInfo(r.id, r.task, json.loads(r.args_json), JobStatus(r.status), r.attempts, r.updated_at)
            for r in rows
        ]

    def retry(self, session: Session, job_id: int) -> bool:
        """Queued again; run now by whichever runner of this process on this database has its task (the
        web app's renders, the call application's transcriptions), else at its process's next start."""
        if self.sessions is None:
            return False
        row = session.get(InProcessJob, job_id)
        if row is None or row.status != JobStatus.FAILED:
            return False
        row.status, row.updated_at = JobStatus.QUEUED, utcnow()
        session.flush()
        owner = self._owner_of(row.task)
        if owner is not None:
            task, args = row.task, json.loads(row.args_json)
            self._after(session, lambda: owner._submit(job_id, task, args, None), lambda: None)
        return True

    def _owner_of(self, task: str) -> InProcessRunner | None:
        if task in self.tasks:
            return self
        here = self._database()
        for runner in list(_RUNNERS):
            if task in runner.tasks and not runner._closed and runner._database() == here:
                return runner
        return None

    def _database(self) -> str:
        bind = self.sessions.kw.get("bind") if self.sessions is not None else None
        return str(getattr(bind, "url", ""))

    # --- periodic tasks and the runner's life -----------------------------------------------------

    async def _run_periodic_once(self, task: Task) -> None:
        try:
            result = await asyncio.to_thread(task.fn)
            logger.debug("job %s done: %s", task.name, result)
        except Exception:
            logger.exception("job %s failed", task.name)

    async def _periodic(self, task: Task, every: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self._run_periodic_once(task)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    def close(self) -> None:
        """Stop taking jobs; queued ones stay stored for the next start. Running ones finish."""
        with self._guard:
            self._closed = True
            executor, self._executor = self._executor, None
            timers, self._timers = set(self._timers), set()
        for timer in timers:
            timer.cancel()
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Stored jobs of a previous run first, then the periodic tasks until `stop`."""
        await asyncio.to_thread(self.recover)
        loops = [
            asyncio.create_task(self._periodic(t, t.every_seconds, stop))
            for t in self.tasks.values()
            if t.every_seconds
        ]
        try:
            await stop.wait()
        finally:
            await asyncio.gather(*loops, return_exceptions=True)
            self.close()
