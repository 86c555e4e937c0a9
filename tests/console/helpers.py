"""Console test fixtures (registered in conftest.py) and helpers: migrated SQLite, seed data, logins."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEECH = ROOT / "tests" / "fixtures" / "speech"
RAW_NUMBER = "0912345678"
MASKED = "*******678"
# How carrier trunks present the seeded callers; the call log keeps them in the national form.
CARRIER_NUMBER = "+84912345678"  # RAW_NUMBER
OTHER_CARRIER_NUMBER = "sip:0987654321@10.0.0.1;user=phone"  # 0987654321, masked *******321
PASSWORD = "mat-khau-rat-dai-1"


@pytest.fixture
def console_settings(tmp_path, monkeypatch):
    """Settings with data, cache and human prompt recordings in a temporary directory, schema migrated."""
    from hotline.db import upgrade
    from hotline.settings import load_settings

    monkeypatch.setenv("HOTLINE_PATHS__DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HOTLINE_PATHS__CACHE_DIR", str(tmp_path / "var" / "cache"))
    monkeypatch.setenv("HOTLINE_IVR__PROMPTS_DIR", str(tmp_path / "prompts"))
    monkeypatch.delenv("HOTLINE_WEB__SESSION_SECRET", raising=False)
    settings = load_settings(ROOT / "config" / "hotline.yaml")
    upgrade(settings.database_url)
    return settings


def utc(hours_ago: float = 0.0) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=hours_ago)


def seed_time() -> dt.datetime:
    """About now, but at least 10 minutes inside today's local (Vietnam) day: the seeded calls, up to 5
    minutes apart, all fall on the day the dashboard counts whatever time of day the tests run."""
    from console.data.times import local_day_bounds, today_local
    from core.clock import zone

    tz = zone()  # the shipped locale.time_zone
    start, end = local_day_bounds(today_local(tz), tz)
    margin = dt.timedelta(minutes=10)
    return min(max(utc(0.01), start + margin), end - margin)


def stored_caller(presented: str | None, name: str = "") -> dict:
    """A caller's fields as the application stores them (national form, masked, hashed)."""
    from core.callerid import national_caller
    from ivr.store import hash_caller, mask_caller

    caller = national_caller(presented, name) or ""
    return {"caller": caller, "caller_masked": mask_caller(caller), "caller_hash": hash_caller(caller)}


def ticket_caller(presented: str | None) -> dict:
    fields = stored_caller(presented)
    del fields["caller_hash"]  # tickets are not counted per caller
    return fields


def seed(settings) -> dict:
    """Two calls (one degraded, rated) and two tickets, one with a real 8 kHz speech recording."""
    from core.db import engine_for, session_factory, transaction
    from ivr.models import Call, Ticket, TicketReply, Turn
    from voice.audio import read_audio, resample, to_mono, write_wav

    factory = session_factory(engine_for(settings))
    audio = settings.data_dir / settings.ivr.recordings_dir / "2026" / "11" / "20261125T080000-fb.wav"
    write_wav(audio, resample(to_mono(read_audio(SPEECH / "ly_north_female.wav")), 8000))
    now = seed_time()
    with transaction(factory) as s:
        c1 = Call(
            channel_id="ch-1",
            **stored_caller(CARRIER_NUMBER),
            started_at=now,
            ended_at=now + dt.timedelta(seconds=40),
            outcome="ticket",
            satisfaction=4,
        )
        c2 = Call(
            channel_id="ch-2",
            **stored_caller(OTHER_CARRIER_NUMBER),
            started_at=now - dt.timedelta(minutes=5),
            ended_at=now,
            outcome="answered",
            degraded=True,
            satisfaction=2,
        )
        s.add_all([c1, c2])
        s.flush()
        s.add_all(
            [
                Turn(
                    call_id=c1.id,
                    seq=1,
                    at=now,
                    kind="speech",
                    transcript="tôi muốn phản ánh đường hỏng",
                    confidence=0.81,
                    intent="feedback",
                    score=0.77,
                    asr_ms=210,
                    response_ms=420,
                ),
                Turn(call_id=c1.id, seq=2, at=now, kind="action", action="record_feedback"),
                Turn(
                    call_id=c2.id,
                    seq=1,
                    at=now,
                    kind="speech",
                    transcript="làm căn cước ở mô",
                    confidence=0.7,
                    intent="cccd",
                    score=0.9,
                    asr_ms=180,
                    response_ms=390,
                ),
                Turn(
                    call_id=c2.id,
                    seq=2,
                    at=now,
                    kind="dtmf",
                    dtmf="3",
                    intent="e_tax",
                    score=1.0,
                    response_ms=50,
                ),
            ]
        )
        s.add_all(
            [
                Ticket(
                    number="482913",
                    call_id=c1.id,
                    **ticket_caller(CARRIER_NUMBER),
                    reason="feedback",
                    audio_path=str(audio),
                    duration_ms=4000,
                    transcript="đường xóm ba bị hỏng nặng",
                    status="new",
                    created_at=now,
                    updated_at=now,
                ),
                Ticket(
                    number="100200",
                    call_id=None,
                    **ticket_caller(OTHER_CARRIER_NUMBER),
                    reason="message",
                    audio_path=None,
                    duration_ms=0,
                    transcript="",
                    status="closed",
                    created_at=now,
                    updated_at=now,
                    closed_at=now,
                    handled_at=now,
                    replies=[TicketReply(at=now, author="", status="closed", text="đã xử lý")],
                ),
            ]
        )
    return {"factory": factory, "audio": audio, "call_id": c1.id, "ticket": "482913"}


def add_operator(settings, username="lan", role="operator", password=PASSWORD):
    from console.data.operators import add_operator as add
    from core.db import engine_for, session_factory

    return add(session_factory(engine_for(settings)), username, password, role)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field in the page"
    return m.group(1)


def login(client, username="lan", password=PASSWORD, next_url="/console/"):
    page = client.get("/console/login")
    return client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf": csrf_of(page.text), "next": next_url},
        follow_redirects=False,
    )


@pytest.fixture
def console_client(console_settings):
    """A test client of the whole app (console included) on the migrated database."""
    from fastapi.testclient import TestClient

    from web.app import create_app

    with TestClient(create_app(console_settings)) as c:
        yield c


@pytest.fixture
def seeded(console_settings):
    return seed(console_settings)


@pytest.fixture
def logged_in(console_settings, console_client):
    """A client logged in as operator `lan`."""
    add_operator(console_settings)
    r = login(console_client)
    assert r.status_code == 303, r.text
    return console_client


def audit_rows(settings, action: str | None = None) -> list:
    from sqlalchemy import select

    from console.models import AuditEntry
    from core.db import engine_for, session_factory

    with session_factory(engine_for(settings))() as s:
        q = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            q = q.where(AuditEntry.action == action)
        return list(s.scalars(q))


def logged_in_client(app, username: str):
    """A new client of `app` logged in as `username`, with the CSRF token of its session."""
    from fastapi.testclient import TestClient

    client = TestClient(app)
    assert login(client, username).status_code == 303
    return client, csrf_of(client.get("/console/", follow_redirects=True).text)
