"""The radio's jobs: a render row rendered by whichever runner the settings choose (README "Jobs").

In-process (SQLite) the web app runs them in a thread of its own, as renders ran before jobs had an
engine; on PostgreSQL the web app only queues them and job workers on any machine run them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from broadcast.service import RENDER_RETRIES, RENDER_TASK, BroadcastService
from core.jobs import InProcessRunner, JobRunner, Task, choose_mode

logger = logging.getLogger(__name__)


def render_tasks(service: Callable[[], BroadcastService], runner: Callable[[], JobRunner]) -> list[Task]:
    """The render task; `service` and `runner` are looked up when a job runs (a job worker builds its
    service once, on its first job; a fan-out queues its communes on `runner`)."""

    def render(render_id: str) -> int | None:
        return service().execute_render(render_id, runner())

    return [Task(RENDER_TASK, render, retries=RENDER_RETRIES)]


def web_runner(settings, sessions: sessionmaker[Session], service: BroadcastService) -> JobRunner:
    """The web app's runner: in-process (its jobs stored, run in a thread here; `recover` at start) or
    procrastinate (queueing only: `hotline jobs run` and the workers run them)."""  # settings: Settings
    holder: list[JobRunner] = []
    tasks = render_tasks(lambda: service, lambda: holder[0])
    runner: JobRunner
    if choose_mode(settings.jobs.mode, settings.database_url) == "in_process":
        runner = InProcessRunner(tasks, sessions=sessions)
    else:
        from core.jobs_procrastinate import ProcrastinateRunner

        runner = ProcrastinateRunner(settings.database_url, tasks, name="hotline-web")
    holder.append(runner)
    return runner
