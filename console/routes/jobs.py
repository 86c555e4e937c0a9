"""The background jobs page (administrators): queued, running, failed and finished jobs on whichever
runner the settings chose, what each belongs to, and "Thử lại" for a failed one (audited)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from broadcast.service import RENDER_TASK, BroadcastService
from console.audit_actions import AuditAction
from console.context import PREFIX, Console
from console.data.sessions import Login
from console.deps import AdminCsrfLogin, AdminLogin, ConsoleDep, PageActor
from console.jobs_vi import GONE_VI, STATUS_VI, TICKET_GONE_VI, TICKET_VI, WHOLE_SYSTEM_VI, task_vi
from console.radio_deps import Jobs, Radio
from core.db import MAX_ROW_ID, transaction
from core.jobs import JobInfo, JobRunner, JobStatus
from ivr.models import Ticket
from ivr.store import TRANSCRIBE_TASK

router = APIRouter(include_in_schema=False)

JOBS = PREFIX + "/cong-viec"
SHOWN = 200  # the newest jobs listed
DONE_VI = {"retried": "Đã đưa công việc vào hàng chờ để chạy lại."}
NOT_FAILED = "Công việc này không ở trạng thái lỗi (có thể đã được chạy lại)."


@dataclass(frozen=True)
class JobLine:
    """One row of the page: only what an administrator reads, no internal ids or names."""

    id: int
    task: str
    belongs_to: str
    status: JobStatus
    status_vi: str
    attempts: int
    updated_at: object  # naive UTC datetime or None (the template shows it in local time)


def _belongs_to(job: JobInfo, radio: BroadcastService, renders: dict, tickets: dict[int, str]) -> str:
    if job.task == TRANSCRIBE_TASK:
        number = tickets.get(job.args.get("ticket_id", 0))
        return TICKET_VI.format(number=number) if number else TICKET_GONE_VI
    if job.task != RENDER_TASK:
        return WHOLE_SYSTEM_VI
    row = renders.get(job.args.get("render_id"))
    if row is None:
        return GONE_VI
    title = row.title or row.source
    if row.each:
        return f"{title} – mọi xã, phường của bản tin"
    commune = radio.communes.by_slug(row.commune) if row.commune else None
    return f"{title} – {commune.name}" if commune is not None else f"{title} – toàn tỉnh"


def job_lines(console: Console, radio: BroadcastService, jobs: JobRunner) -> list[JobLine]:
    with console.sessions() as s:
        infos = jobs.list_jobs(s, SHOWN)
        ticket_ids = {
            int(j.args["ticket_id"]) for j in infos if j.task == TRANSCRIBE_TASK and "ticket_id" in j.args
        }
        rows = s.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(ticket_ids)))
        tickets = {row.id: row.number for row in rows}
    ids = [str(j.args["render_id"]) for j in infos if j.task == RENDER_TASK and "render_id" in j.args]
    renders = radio.titles_of(ids)
    return [
        JobLine(
            j.id,
            task_vi(j.task),
            _belongs_to(j, radio, renders, tickets),
            j.status,
            STATUS_VI[j.status],
            j.attempts,
            j.updated_at,
        )
        for j in infos
    ]


def _page(console: Console, radio: BroadcastService, jobs: JobRunner, login: Login, done: str) -> Response:
    lines = job_lines(console, radio, jobs)
    counts = {status: sum(1 for line in lines if line.status == status) for status in JobStatus}
    return console.render(
        "jobs.html", login, page="jobs", lines=lines, counts=counts, status_vi=STATUS_VI, done=done
    )


@router.get(JOBS)
def jobs_page(
    console: ConsoleDep, radio: Radio, jobs: Jobs, login: AdminLogin, done: str = Query("", max_length=16)
) -> Response:
    return _page(console, radio, jobs, login, DONE_VI.get(done, ""))


@router.post(JOBS + "/{job_id}/thu-lai")
def retry(
    console: ConsoleDep,
    jobs: Jobs,
    login: AdminCsrfLogin,
    actor: PageActor,
    job_id: int = PathParam(ge=1, le=MAX_ROW_ID),
) -> Response:
    """Queue a failed job again now (the administrator fixed its cause)."""
    with transaction(console.sessions) as s:
        queued = jobs.retry(s, job_id)
    if not queued:
        raise HTTPException(409, NOT_FAILED)
    actor.record(AuditAction.RETRY_JOB, f"job:{job_id}")
    return RedirectResponse(f"{JOBS}?done=retried", status_code=303)
