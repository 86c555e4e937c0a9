"""The job interface's in-process runner on a real SQLite file (the embedded default), the choice of
runner, and the `jobs:` settings."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select, text

from core.db import make_engine, session_factory, transaction
from core.jobs import AlreadyQueued, InProcessRunner, Task, choose_mode
from tests.core.job_tasks import note

DEADLINE_S = 10.0
PG = "postgresql+psycopg://u:p@db.example/hotline"


@pytest.fixture
def factory(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (v TEXT)"))
    yield session_factory(engine)
    engine.dispose()


async def _until(predicate) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_in_process_jobs_run_after_commit_never_after_rollback_and_a_duplicate_is_refused(factory, tmp_path):
    marker = tmp_path / "ran"
    runner = InProcessRunner([Task("note", note)])

    with transaction(factory) as s:  # committed before the runner starts (the worker starting up)
        runner.enqueue(s, "note", {"marker": str(marker), "word": "early"})

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(runner.run(stop))
        await _until(marker.exists)
        with pytest.raises(RuntimeError), transaction(factory) as s:
            runner.enqueue(s, "note", {"marker": str(marker), "word": "rolled-back"}, lock="x")
            raise RuntimeError("the request failed after queueing")
        with transaction(factory) as s:  # the rolled-back job's lock was freed
            runner.enqueue(s, "note", {"marker": str(marker), "word": "committed"}, lock="x")
            with pytest.raises(AlreadyQueued):
                runner.enqueue(s, "note", {"marker": str(marker), "word": "duplicate"}, lock="x")
            s.execute(text("INSERT INTO t VALUES ('kept')"))
        await _until(lambda: len(marker.read_text().split()) == 2)
        deadline = time.monotonic() + DEADLINE_S
        while True:  # done: the lock is freed (as the job's thread returns, a moment after its write)
            try:
                with transaction(factory) as s:
                    runner.enqueue(s, "note", {"marker": str(marker), "word": "again"}, lock="x")
                break
            except AlreadyQueued:
                assert time.monotonic() < deadline, "the lock was never freed"
                await asyncio.sleep(0.01)
        await _until(lambda: len(marker.read_text().split()) == 3)
        stop.set()
        await asyncio.wait_for(running, DEADLINE_S)

    asyncio.run(scenario())
    assert marker.read_text().split() == ["early", "committed", "again"]
    with factory() as s:
        assert s.scalar(text("SELECT v FROM t")) == "kept"


def test_in_process_periodic_task_runs_at_start_then_every_period_and_survives_a_failure():
    """Today's retention timer: at start, then every period; a failing pass is logged, the next runs."""
    calls: list[int] = []

    def flaky() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise OSError("disk busy")

    runner = InProcessRunner([Task("purge", flaky, every_seconds=0.05)])

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(runner.run(stop))
        await _until(lambda: len(calls) >= 3)
        stop.set()
        await asyncio.wait_for(running, DEADLINE_S)

    asyncio.run(scenario())
    assert calls[:3] == [0, 1, 2]


def test_the_runner_follows_the_database_unless_told():
    assert choose_mode("auto", "sqlite:////var/h.db") == "in_process"
    assert choose_mode("auto", PG) == "procrastinate"
    assert choose_mode("in_process", PG) == "in_process"
    with pytest.raises(ValueError):
        choose_mode("procrastinate", "sqlite:////var/h.db")


def test_the_shipped_settings_pick_the_in_process_runner_with_the_retention_purge(settings):
    from hotline.jobs import RETENTION_TASK, job_runner

    runner = job_runner(settings)
    assert isinstance(runner, InProcessRunner)
    assert runner.tasks[RETENTION_TASK].every_seconds == 6 * 3600


@pytest.mark.parametrize(
    "jobs, key, expected",
    [
        ("  mode: fast\n", "jobs.mode", "auto"),
        ("  concurrency: 0\n", "jobs.concurrency", "greater than or equal to 1"),
        ("  mode: procrastinate\n", "jobs", "needs database.url on PostgreSQL"),
        ("  heartbeat_seconds: 40\n", "jobs", "twice heartbeat_seconds"),
    ],
)
def test_a_bad_jobs_setting_names_file_line_and_key(tmp_path, jobs, key, expected):
    from core.errors import ConfigError
    from hotline.settings import load_settings

    config = tmp_path / "config" / "hotline.yaml"
    config.parent.mkdir()
    config.write_text("database:\n  url: ''\njobs:\n" + jobs)
    with pytest.raises(ConfigError) as info:
        load_settings(config, env={})
    message = str(info.value)
    assert str(config) in message and key in message and expected in message, message


def test_the_worker_starts_its_job_runner_again_after_an_error(settings, monkeypatch):
    """PostgreSQL unreachable at start: the runner is tried again, the worker's calls are not stopped."""
    import hotline.jobs

    starts: list[int] = []

    class Broken:
        async def run(self, stop: asyncio.Event) -> None:
            starts.append(1)
            if len(starts) == 3:
                stop.set()
            raise ConnectionError("database unreachable")

    monkeypatch.setattr(hotline.jobs, "job_runner", lambda _settings: Broken())

    async def scenario() -> None:
        jobs = hotline.jobs.run_jobs(settings, asyncio.Event(), restart_wait_s=0.01)
        await asyncio.wait_for(jobs, DEADLINE_S)

    asyncio.run(scenario())  # returns (no exception) once stopped
    assert len(starts) == 3


def test_the_jobs_command_on_sqlite_says_jobs_run_in_process(settings):
    from typer.testing import CliRunner

    from hotline.cli import app

    listed = CliRunner().invoke(app, ["jobs", "list"])
    assert listed.exit_code == 0 and "in-process" in listed.stdout, listed.output
    worker = CliRunner().invoke(app, ["jobs", "run"])  # each `hotline run` worker runs them already
    assert worker.exit_code != 0


def test_stored_in_process_jobs_run_at_the_next_start_but_not_one_that_died_in_its_last_attempt(tmp_path):
    """A job queued when the process died runs at the next start; one that was running its last attempt
    (perhaps what killed the process) is failed instead, so a restart does not loop on it."""
    from sqlalchemy import update

    from core.jobs import InProcessJob, JobStatus

    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    InProcessJob.__table__.create(engine)
    factory = session_factory(engine)
    marker = tmp_path / "ran"
    dead = InProcessRunner([Task("note", note)], sessions=factory)
    dead.close()
    with transaction(factory) as s:
        dead.enqueue(s, "note", {"marker": str(marker), "word": "queued"})
        dead.enqueue(s, "note", {"marker": str(marker), "word": "killer"})
    with transaction(factory) as s:  # the second was running its only attempt when the process died
        killer = update(InProcessJob).where(InProcessJob.id == 2)
        s.execute(killer.values(status=JobStatus.RUNNING, attempts=1))

    again = InProcessRunner([Task("note", note)], sessions=factory)
    assert again.recover() == 1
    deadline = time.monotonic() + DEADLINE_S
    while True:
        with factory() as s:
            rows = [(r.status, r.attempts) for r in s.scalars(select(InProcessJob).order_by(InProcessJob.id))]
        if rows[0][0] == JobStatus.SUCCEEDED or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    again.close()
    engine.dispose()
    assert rows == [(JobStatus.SUCCEEDED, 1), (JobStatus.FAILED, 1)]
    assert marker.read_text().split() == ["queued"]
