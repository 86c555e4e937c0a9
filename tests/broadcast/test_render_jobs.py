"""Radio renders as jobs: on SQLite a render queued or running when the process died runs at the next
start, once; a render that keeps crashing is retried then fails with a Vietnamese message; on PostgreSQL
a bulletin for several communes fans out to one job per commune on procrastinate."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select, update

from broadcast.jobs import render_tasks
from broadcast.models import RenderJob, Segment
from broadcast.render import RenderOptions
from broadcast.service import FAILED_VI, RENDER_TASK, BroadcastService
from core.db import engine_for, session_factory, transaction
from core.jobs import InProcessJob, InProcessRunner, JobStatus
from hotline.db import upgrade
from tests.broadcast.conftest import make_settings, short_bulletin

pytestmark = pytest.mark.slow

DEADLINE_S = 60.0


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("jobs"))
    upgrade(settings.database_url)
    return BroadcastService(settings, session_factory(engine_for(settings)))


def _runner(svc: BroadcastService, **kwargs) -> InProcessRunner:
    holder: list[InProcessRunner] = []
    runner = InProcessRunner(render_tasks(lambda: svc, lambda: holder[0]), sessions=svc.sessions, **kwargs)
    holder.append(runner)
    return runner


def _wait_finished(svc: BroadcastService, job_id: str, status: str | None = None) -> RenderJob:
    deadline = time.monotonic() + DEADLINE_S
    while not (job := svc.job(job_id)).finished or (status and job.status != status):
        assert time.monotonic() < deadline, f"render still {job.status}"
        time.sleep(0.05)
    return job


def _segments(svc: BroadcastService) -> int:
    with svc.sessions() as s:
        return s.scalar(select(func.count()).select_from(Segment)) or 0


def _job_rows(svc: BroadcastService) -> list[tuple[str, int]]:
    with svc.sessions() as s:
        return [(r.status, r.attempts) for r in s.scalars(select(InProcessJob).order_by(InProcessJob.id))]


def test_a_render_the_process_died_with_runs_at_the_next_start_and_once_only(svc):
    dead = _runner(svc)
    dead.close()  # the process is gone before its thread took the job
    text = short_bulletin(title="Tin sau khởi động lại")
    job_id = svc.queue_render(dead, text, "a.md", RenderOptions(), held=True)
    assert svc.job(job_id).status == "queued" and _job_rows(svc) == [("queued", 0)]

    restarted = _runner(svc)
    assert restarted.recover() == 1
    job = _wait_finished(svc, job_id)
    assert (job.status, job.attempts, job.title) == ("done", 1, "Tin sau khởi động lại")
    seg = svc.get(job.segment_id)
    assert seg.held and svc.path_of(seg).is_file()
    assert _segments(svc) == 1

    # Killed after the segment was recorded, before the job was marked done: run again at the next
    # start, it replaces the same segment (same key, same row), never adds a second.
    with transaction(svc.sessions) as s:
        s.execute(update(RenderJob).where(RenderJob.id == job_id).values(status="running", finished=False))
        s.execute(update(InProcessJob).values(status=JobStatus.RUNNING))
    again = _runner(svc)
    assert again.recover() == 1
    job = _wait_finished(svc, job_id)
    assert (job.status, job.segment_id) == ("done", seg.id)
    assert _segments(svc) == 1 and svc.path_of(svc.get(seg.id)).is_file()
    assert svc.execute_render(job_id) == seg.id  # a done render run once more: nothing rendered
    assert _segments(svc) == 1
    restarted.close()
    again.close()


def test_a_render_that_keeps_crashing_is_retried_then_fails_in_vietnamese_and_an_admin_retry_runs_it(
    svc, monkeypatch
):
    publish = svc.publish
    tries: list[int] = []

    def broken(*args, **kwargs):
        tries.append(1)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(svc, "publish", broken)
    runner = _runner(svc, retry_wait_seconds=0.01)
    before = len(_job_rows(svc))
    job_id = svc.queue_render(runner, short_bulletin(title="Tin lỗi đĩa"), "b.md")
    job = _wait_finished(svc, job_id)
    assert len(tries) == 3  # once, then its two retries
    assert (job.status, job.message) == ("failed", FAILED_VI.format(attempts=3))
    deadline = time.monotonic() + DEADLINE_S
    while _job_rows(svc)[before:] != [("failed", 3)]:
        assert time.monotonic() < deadline, _job_rows(svc)
        time.sleep(0.02)

    monkeypatch.setattr(svc, "publish", publish)  # the disk was cleaned up
    with transaction(svc.sessions) as s:
        [info] = [j for j in runner.list_jobs(s) if j.args == {"render_id": job_id}]
        assert (info.task, info.status) == (RENDER_TASK, JobStatus.FAILED)
        assert runner.retry(s, info.id)
        assert not runner.retry(s, info.id)  # queued now, not failed
    job = _wait_finished(svc, job_id, "done")  # the failed row stays as it was until the job starts
    assert job.status == "done" and svc.get(job.segment_id).title == "Tin lỗi đĩa"
    runner.close()


def test_a_bulletin_for_several_communes_fans_out_to_one_job_per_commune_on_procrastinate(postgres, tmp_path):
    from core.jobs_procrastinate import ProcrastinateRunner

    url = postgres.create_database(template=postgres.migrated())
    try:
        settings = make_settings(tmp_path, HOTLINE_DATABASE__URL=url)
        svc = BroadcastService(settings, session_factory(engine_for(settings)))
        holder: list[ProcrastinateRunner] = []
        runner = ProcrastinateRunner(url, render_tasks(lambda: svc, lambda: holder[0]), retry_wait_seconds=0)
        holder.append(runner)
        text = short_bulletin(title="Tin hai xã", communes="[Cửa Lò, Đô Lương]")
        job_id = svc.queue_render(runner, text, "c.md", each=True)

        async def drain() -> None:
            async with runner.app.open_async():
                await asyncio.wait_for(
                    runner.app.run_worker_async(wait=False, install_signal_handlers=False), DEADLINE_S
                )

        asyncio.run(drain())
        job = svc.job(job_id)
        assert (job.status, job.done, job.total) == ("done", 2, 2)
        with svc.sessions() as s:
            segs = list(s.scalars(select(Segment)))
            [jobs] = [runner.list_jobs(s)]
        names = {svc.communes.by_code(seg.commune_code).name for seg in segs if seg.commune_code}
        assert names == {"Phường Cửa Lò", "Xã Đô Lương"} and len(segs) == 2
        assert sorted((j.task, j.status) for j in jobs) == [(RENDER_TASK, JobStatus.SUCCEEDED)] * 2
        assert all(set(j.args) == {"render_id"} for j in jobs)  # ids only
    finally:
        svc.sessions.kw["bind"].dispose()
        postgres.drop_database(url)
