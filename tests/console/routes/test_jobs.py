"""The jobs page's retry over plain HTTP: administrators only, with the form's CSRF token, a job that is not
failed refused, the retry audited; and every task of every runner has a Vietnamese label."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from console.audit_actions import AuditAction
from console.jobs_vi import STATUS_VI, TASK_VI
from core.db import engine_for, session_factory, transaction
from core.jobs import InProcessJob, JobStatus, utcnow
from tests.console.helpers import add_operator, audit_rows, logged_in_client


def _stored_job(settings, status: JobStatus) -> int:
    """A render job row as the in-process runner stores it (its render row is gone: nothing to render)."""
    with transaction(session_factory(engine_for(settings))) as s:
        row = InProcessJob(
            task="radio_render", args_json=json.dumps({"render_id": "0" * 32}), status=status, attempts=3,
            created_at=utcnow(), updated_at=utcnow(),
        )  # fmt: skip
        s.add(row)
        s.flush()
        return row.id


def _status(settings, job_id: int) -> str:
    with session_factory(engine_for(settings))() as s:
        return s.scalar(select(InProcessJob.status).where(InProcessJob.id == job_id)) or ""


def test_only_an_administrator_with_the_token_retries_a_failed_job_and_it_is_audited(
    console_settings, console_client
):
    app = console_client.app
    add_operator(console_settings, "lan", "operator")
    add_operator(console_settings, "quan-tri", "admin")
    failed = _stored_job(console_settings, JobStatus.FAILED)
    done = _stored_job(console_settings, JobStatus.SUCCEEDED)
    url = f"/console/cong-viec/{failed}/thu-lai"

    operator, token = logged_in_client(app, "lan")
    assert operator.get("/console/cong-viec").status_code == 403
    assert operator.post(url, data={"csrf": token}, follow_redirects=False).status_code == 403
    admin, token = logged_in_client(app, "quan-tri")
    assert admin.post(url, data={"csrf": "wrong"}, follow_redirects=False).status_code == 403
    assert _status(console_settings, failed) == JobStatus.FAILED
    assert audit_rows(console_settings, AuditAction.RETRY_JOB) == []

    page = admin.get("/console/cong-viec")
    assert page.status_code == 200 and "Thử lại" in page.text and "radio_render" not in page.text
    r = admin.post(f"/console/cong-viec/{done}/thu-lai", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 409 and "không ở trạng thái lỗi" in r.text
    r = admin.post(url, data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/cong-viec?done=retried"
    assert _status(console_settings, failed) != JobStatus.FAILED  # queued again (the row it renders is gone)
    [entry] = audit_rows(console_settings, AuditAction.RETRY_JOB)
    assert (entry.target, entry.username) == (f"job:{failed}", "quan-tri")


@pytest.mark.parametrize("status", list(JobStatus))
def test_every_state_has_a_vietnamese_label(status):
    assert STATUS_VI[status]


def test_every_task_of_every_runner_has_a_vietnamese_label(tmp_path):
    from hotline.jobs import job_runner
    from tests.broadcast.conftest import make_settings

    settings = make_settings(tmp_path, HOTLINE_DATABASE__URL="postgresql+psycopg://u:p@db.example/h")
    runner = job_runner(settings)  # procrastinate: every task (nothing connects until it runs)
    assert set(runner.tasks) and set(runner.tasks) <= set(TASK_VI)


def test_a_render_waiting_for_its_next_attempt_says_so_on_the_newsroom_page():
    from broadcast.models import RenderJob
    from broadcast.service import RETRYING_VI
    from console.routes.radio import _stage_vi

    assert _stage_vi(RenderJob(status="queued", stage="", message=RETRYING_VI)) == RETRYING_VI
    assert _stage_vi(RenderJob(status="queued", stage="", message="")) == "Đang chờ đến lượt"
    assert (
        _stage_vi(RenderJob(status="running", stage="speech", message="")) == "Đang đọc thành tiếng từng câu"
    )


def test_a_transcription_job_is_listed_by_its_ticket_s_number(console_settings, console_client):
    from ivr.store import CallStore

    add_operator(console_settings, "quan-tri", "admin")
    factory = session_factory(engine_for(console_settings))
    number = CallStore(factory, console_settings.data_dir / "recordings").create_ticket(
        call_id=None, caller="0912345678", reason="feedback", audio_path=None, duration_ms=0
    )
    with transaction(factory) as s:
        ticket_id = s.execute(text("SELECT id FROM tickets WHERE number = :n"), {"n": number}).scalar_one()
        s.add(
            InProcessJob(
                task="ticket_transcribe", args_json=json.dumps({"ticket_id": ticket_id}),
                status=JobStatus.RUNNING, attempts=1, created_at=utcnow(), updated_at=utcnow(),
            )
        )  # fmt: skip
    admin, _token = logged_in_client(console_client.app, "quan-tri")
    page = admin.get("/console/cong-viec").text
    assert f"Phản ánh số {number}" in page and "Chép lời phản ánh từ bản ghi âm" in page
    assert "Đang chạy" in page
    assert "0912345678" not in page and "ticket_transcribe" not in page
