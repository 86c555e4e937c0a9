"""The procrastinate job runner on a real PostgreSQL database (tests/pg.py): jobs commit with their
transaction, a duplicate is refused, a killed worker's job runs again, the retention purge runs as a job."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from core.db import make_engine, session_factory, transaction
from core.jobs import AlreadyQueued
from core.jobs_procrastinate import ProcrastinateRunner
from tests.conftest import ROOT, _settings
from tests.core.job_tasks import TASKS
from tests.core.job_worker import HEARTBEAT_S, STALLED_AFTER_S

DEADLINE_S = 20.0  # any wait below gives up after this


@pytest.fixture
def pg_url(postgres):
    url = postgres.create_database(template=postgres.migrated())
    yield url
    postgres.drop_database(url)


@pytest.fixture
def factory(pg_url):
    engine = make_engine(pg_url)
    yield session_factory(engine)
    engine.dispose()


def _runner(url: str, tasks=TASKS) -> ProcrastinateRunner:
    return ProcrastinateRunner(
        url, tasks, heartbeat_seconds=HEARTBEAT_S, stalled_after_seconds=STALLED_AFTER_S
    )


def test_a_job_that_raises_is_retried_as_its_task_says_then_fails(pg_url, factory, tmp_path):
    """The retry strategy (a job that raised), apart from stalled-job recovery (a worker that died)."""
    marker = tmp_path / "ran"
    runner = ProcrastinateRunner(pg_url, TASKS, retry_wait_seconds=0)
    with transaction(factory) as s:
        runner.enqueue(s, "fail_retried", {"marker": str(marker)})
    asyncio.run(_drain(runner))
    assert marker.read_text().split() == ["tried", "tried"]  # once, then its one retry
    assert _jobs(factory) == [("fail_retried", "failed", 2)]


def test_jobs_that_succeeded_long_ago_are_deleted_failed_ones_are_kept(pg_url, factory, tmp_path):
    marker = tmp_path / "ran"
    runner = _runner(pg_url)
    with transaction(factory) as s:
        for word in ("old", "recent"):
            runner.enqueue(s, "note", {"marker": str(marker), "word": word})
        runner.enqueue(s, "fail", {"marker": str(marker)})
    asyncio.run(_drain(runner))
    with transaction(factory) as s:  # the first and the failed one finished 31 days ago
        s.execute(
            text(
                "UPDATE procrastinate_events SET at = at - interval '31 days' WHERE job_id IN "
                "(SELECT id FROM procrastinate_jobs WHERE args->>'word' = 'old' OR task_name = 'fail')"
            )
        )

    async def clean() -> None:
        async with runner.app.open_async():
            await runner.delete_finished()  # keep_finished_days: 30

    asyncio.run(clean())
    assert _jobs(factory) == [("note", "succeeded", 1), ("fail", "failed", 1)]


def _jobs(factory) -> list[tuple[str, str, int]]:
    with factory() as s:
        rows = s.execute(text("SELECT task_name, status::text, attempts FROM procrastinate_jobs ORDER BY id"))
        return [tuple(r) for r in rows]


async def _drain(runner: ProcrastinateRunner) -> None:
    """Runs what is queued now, then returns (procrastinate's `wait=False`)."""
    async with runner.app.open_async():
        await asyncio.wait_for(
            runner.app.run_worker_async(wait=False, install_signal_handlers=False), DEADLINE_S
        )


def test_a_job_queued_in_a_transaction_that_rolls_back_never_runs(pg_url, factory, tmp_path):
    runner = _runner(pg_url)
    marker = tmp_path / "ran"
    with pytest.raises(RuntimeError), transaction(factory) as s:
        s.execute(text("INSERT INTO app_meta (key, value) VALUES ('k', 'rolled back')"))
        runner.enqueue(s, "note", {"marker": str(marker), "word": "rolled-back"})
        raise RuntimeError("the request failed after queueing")
    with transaction(factory) as s:
        runner.enqueue(s, "note", {"marker": str(marker), "word": "committed"})
    assert _jobs(factory) == [("note", "todo", 0)]  # only the committed one was ever stored
    asyncio.run(_drain(runner))
    assert marker.read_text().split() == ["committed"]
    assert _jobs(factory) == [("note", "succeeded", 1)]  # attempts counts runs


def test_a_duplicate_with_the_same_queueing_lock_is_refused_and_the_transaction_goes_on(
    pg_url, factory, tmp_path
):
    runner = _runner(pg_url)
    marker = tmp_path / "ran"
    with transaction(factory) as s:
        runner.enqueue(s, "note", {"marker": str(marker), "word": "first"}, lock="bulletin-7")
    with transaction(factory) as s:
        with pytest.raises(AlreadyQueued):
            runner.enqueue(s, "note", {"marker": str(marker), "word": "second"}, lock="bulletin-7")
        s.execute(text("INSERT INTO app_meta (key, value) VALUES ('k', 'kept')"))  # still usable
    with factory() as s:
        assert s.scalar(text("SELECT value FROM app_meta WHERE key = 'k'")) == "kept"
    asyncio.run(_drain(runner))
    assert marker.read_text().split() == ["first"]
    with transaction(factory) as s:  # once done, the lock is free again
        runner.enqueue(s, "note", {"marker": str(marker), "word": "later"}, lock="bulletin-7")
    assert [j[1] for j in _jobs(factory)] == ["succeeded", "todo"]


def _wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_job_whose_worker_is_killed_runs_again_once_on_another_worker(pg_url, factory, tmp_path):
    """Stalled-job recovery, not the retry strategy: the killed worker never reported a failure; its
    heartbeat stopped, and the surviving worker's recovery loop queued the job again (attempts 1)."""
    marker = tmp_path / "ran"
    with transaction(factory) as s:
        _runner(pg_url).enqueue(s, "slow_first", {"marker": str(marker)}, lock="ticket-42")
    doomed = subprocess.Popen(
        [sys.executable, "-m", "tests.core.job_worker", pg_url],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        _wait_for(lambda: marker.exists() or doomed.poll() is not None, "the first attempt to start")
        assert doomed.poll() is None, doomed.stderr.read().decode()[-800:] if doomed.stderr else ""
        assert _jobs(factory) == [("slow_first", "doing", 0)]
        os.kill(doomed.pid, signal.SIGKILL)  # mid-job: no failure is ever reported
        doomed.wait(timeout=10)
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait(timeout=10)

    async def survive() -> None:
        stop = asyncio.Event()
        runner = _runner(pg_url)
        task = asyncio.create_task(runner.run(stop))
        deadline = time.monotonic() + DEADLINE_S
        while "done" not in marker.read_text().split():
            assert time.monotonic() < deadline, "the job was not run again"
            assert not task.done(), task
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, DEADLINE_S)

    asyncio.run(survive())
    assert marker.read_text().split() == ["start", "start", "done"]  # run twice, finished once
    assert _jobs(factory) == [
        ("slow_first", "succeeded", 2)
    ]  # attempts counts runs: the killed one, then this
    with factory() as s:
        events = s.scalars(text("SELECT type::text FROM procrastinate_events ORDER BY id")).all()
    # Queued again by the recovery (retry_job: "deferred_for_retry"), not after a reported failure.
    assert events == ["deferred", "started", "scheduled", "deferred_for_retry", "started", "succeeded"]


def test_the_retention_purge_runs_as_a_periodic_job_queued_once_by_two_workers(pg_url, tmp_path, monkeypatch):
    from console.data import audit
    from console.models import AuditEntry
    from hotline.jobs import RETENTION_TASK, job_runner

    settings = _settings(tmp_path, monkeypatch, pg_url)
    engine = make_engine(pg_url)
    factory = session_factory(engine)
    try:
        for target in ("call:1", "call:800"):
            audit.record(factory, None, "show_number", target, "", username="lan")
        with transaction(factory) as s:
            s.query(AuditEntry).filter_by(target="call:800").update(
                {"at": AuditEntry.at - dt.timedelta(days=800)}  # older than the shipped 730 days
            )
        first, second = job_runner(settings), job_runner(settings)
        assert isinstance(first, ProcrastinateRunner) and isinstance(second, ProcrastinateRunner)

        async def start_both() -> tuple[int, int]:
            async with first.app.open_async(), second.app.open_async():
                return await first.queue_periodic_now(), await second.queue_periodic_now()

        assert asyncio.run(start_both()) == (1, 0)  # the second worker's is refused by the queueing lock
        asyncio.run(_drain(first))
        assert _jobs(factory) == [(RETENTION_TASK, "succeeded", 1)]  # one job, run once
        with factory() as s:
            assert [e.target for e in s.query(AuditEntry)] == ["call:1"]
    finally:
        engine.dispose()


def test_the_jobs_command_lists_a_failed_job_and_queues_it_again(pg_url, factory, tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from hotline.cli import app

    marker = tmp_path / "ran"
    runner = _runner(pg_url)
    with transaction(factory) as s:
        runner.enqueue(s, "fail", {"marker": str(marker)})
        runner.enqueue(s, "note", {"marker": str(marker), "word": "ok"})
    asyncio.run(_drain(runner))
    [(failed_id,)] = factory().execute(text("SELECT id FROM procrastinate_jobs WHERE status = 'failed'"))
    _settings(tmp_path, monkeypatch, pg_url)  # the command reads the environment this sets

    listed = CliRunner().invoke(app, ["jobs", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    shown = json.loads(listed.output)
    assert {t["name"]: (t["succeeded"], t["failed"]) for t in shown["tasks"]} == {
        "fail": (0, 1),
        "note": (1, 0),
    }
    assert shown["failed"] == [{"id": failed_id, "task": "fail", "attempts": 1}]

    refused = CliRunner().invoke(app, ["jobs", "retry", str(failed_id + 1)])  # the succeeded one
    assert refused.exit_code != 0 and "not a failed job" in str(refused.output) + str(refused.exception)
    retried = CliRunner().invoke(app, ["jobs", "retry", str(failed_id)])
    assert retried.exit_code == 0, retried.output
    assert _jobs(factory)[0][:2] == ("fail", "todo")
    asyncio.run(_drain(runner))
    assert marker.read_text().split().count("tried") == 2  # run again after the retry


def test_the_console_lists_jobs_and_queues_a_failed_one_again_in_its_own_transaction(
    pg_url, factory, tmp_path
):
    from core.jobs import JobStatus

    marker = tmp_path / "ran"
    runner = _runner(pg_url)
    with transaction(factory) as s:
        runner.enqueue(s, "fail", {"marker": str(marker)})
    asyncio.run(_drain(runner))
    with transaction(factory) as s:
        [job] = runner.list_jobs(s)
        assert (job.task, job.status, job.attempts, job.args) == (
            "fail",
            JobStatus.FAILED,
            1,
            {"marker": str(marker)},
        )
        assert job.updated_at is not None
        assert runner.retry(s, job.id)
        assert not runner.retry(s, job.id)  # queued now
    with factory() as s:
        assert [j.status for j in runner.list_jobs(s)] == [JobStatus.QUEUED]
    asyncio.run(_drain(runner))
    assert marker.read_text().split() == ["tried", "tried"]
