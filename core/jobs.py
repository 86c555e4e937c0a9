"""Background jobs behind one small interface: named tasks, enqueued in the caller's transaction.

Two runners: `InProcessRunner` (the embedded default, SQLite on one machine: a job runs in a thread of
the process that asked for it, periodic tasks on a timer, as before jobs had an engine) and
`core.jobs_procrastinate.ProcrastinateRunner` (PostgreSQL: jobs in the database, run by any worker on
any machine, retried, duplicates refused, a dead worker's jobs run again). Which one runs is a pure
function of the settings (`choose_mode`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

from core.db import is_sqlite

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


class AlreadyQueued(Exception):
    """A job with the same queueing lock is already waiting: the duplicate is refused."""


class JobRunner(Protocol):
    def enqueue(self, session: Session, name: str, args: JobArgs, *, lock: str | None = None) -> None:
        """Queue `name(**args)` with `session`'s transaction: it runs only if that transaction commits."""
        ...

    async def run(self, stop: asyncio.Event) -> None:
        """Run jobs (and periodic tasks) until `stop` is set."""
        ...


def choose_mode(mode: str, database_url: str) -> Literal["in_process", "procrastinate"]:
    """auto: procrastinate on PostgreSQL (a shared queue for several machines), in-process on SQLite."""
    if mode == "auto":
        return "in_process" if is_sqlite(database_url) else "procrastinate"
    if mode == "procrastinate" and is_sqlite(database_url):
        raise ValueError("procrastinate needs PostgreSQL")
    return "procrastinate" if mode == "procrastinate" else "in_process"


class InProcessRunner:
    """Today's behaviour: jobs in threads of this process, periodic tasks on a timer; nothing survives a
    restart, which one machine with SQLite accepts (periodic tasks run again at start). A lock refuses a
    duplicate while the first is queued or running."""

    def __init__(self, tasks: Sequence[Task]) -> None:
        self.tasks = {t.name: t for t in tasks}
        self._queued_locks: set[str] = set()
        self._guard = threading.Lock()  # enqueue may be called from request threads
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: asyncio.Queue[tuple[str, dict[str, Any], str | None]] | None = None
        self._early: list[tuple[str, dict[str, Any], str | None]] = []

    def enqueue(self, session: Session, name: str, args: JobArgs, *, lock: str | None = None) -> None:
        if name not in self.tasks:
            raise KeyError(f"no task named {name!r}")
        with self._guard:
            if lock is not None and lock in self._queued_locks:
                raise AlreadyQueued(lock)
            if lock is not None:
                self._queued_locks.add(lock)
        job = (name, dict(args), lock)

        # Whichever of commit and rollback ends the session's transaction first decides; the other
        # listener is removed so a later transaction of the same session does not fire it.
        def committed(_session: Session) -> None:
            event.remove(session, "after_rollback", rolled_back)
            self._submit(job)

        def rolled_back(_session: Session) -> None:
            event.remove(session, "after_commit", committed)
            self._release(lock)

        event.listen(session, "after_commit", committed, once=True)
        event.listen(session, "after_rollback", rolled_back, once=True)

    def _release(self, lock: str | None) -> None:
        if lock is not None:
            with self._guard:
                self._queued_locks.discard(lock)

    def _submit(self, job: tuple[str, dict[str, Any], str | None]) -> None:
        with self._guard:
            if self._loop is None or self._pending is None:
                self._early.append(job)  # committed before the runner started: run when it does
                return
            loop, pending = self._loop, self._pending
        loop.call_soon_threadsafe(pending.put_nowait, job)

    async def _run_one(self, name: str, args: dict[str, Any], lock: str | None) -> None:
        try:
            result = await asyncio.to_thread(self.tasks[name].fn, **args)
            logger.debug("job %s done: %s", name, result)
        except Exception:
            logger.exception("job %s failed", name)
        finally:
            self._release(lock)

    async def _periodic(self, task: Task, every: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self._run_one(task.name, {}, None)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    async def run(self, stop: asyncio.Event) -> None:
        with self._guard:
            self._loop = asyncio.get_running_loop()
            self._pending = asyncio.Queue()
            for early in self._early:
                self._pending.put_nowait(early)
            self._early.clear()
        loops = [
            asyncio.create_task(self._periodic(t, t.every_seconds, stop))
            for t in self.tasks.values()
            if t.every_seconds
        ]
        running: set[asyncio.Task[None]] = set()
        stopped = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                got = asyncio.create_task(self._pending.get())
                await asyncio.wait({got, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if not got.done():
                    got.cancel()
                    break
                job = asyncio.create_task(self._run_one(*got.result()))
                running.add(job)
                job.add_done_callback(running.discard)
        finally:
            stopped.cancel()
            await asyncio.gather(*loops, *running, return_exceptions=True)
            with self._guard:
                self._loop = self._pending = None
