"""Console login: cookies, logout, wrong passwords, rate limiting, CSRF, every page behind the login."""

from __future__ import annotations

import stat

import pytest

from tests.console.helpers import (
    PASSWORD,
    add_operator,
    audit_rows,
    csrf_of,
    login,
)

PAGES = [
    "/console/",
    "/console/calls",
    "/console/calls/1",
    "/console/tickets",
    "/console/tickets/482913",
    "/console/intents",
    "/console/prompts",
    "/console/audit",
    "/console/operators",
]


def test_every_page_redirects_to_login_and_recordings_answer_401(console_client, seeded):
    for path in PAGES:
        r = console_client.get(path, follow_redirects=False, headers={"accept": "text/html"})
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/console/login?next=" + path.split("?")[0]), path
    for path in ["/console/tickets/482913/audio", "/console/prompts/greeting/audio", "/console/api/stats"]:
        r = console_client.get(path, headers={"range": "bytes=0-"})
        assert r.status_code == 401, path
        assert r.headers.get("content-type", "").startswith("application/json")
        assert "RIFF" not in r.text
    # Writes without a login change nothing and lead to the login page.
    r = console_client.post(
        "/console/tickets/482913/reply",
        data={"note": "x", "status": "closed", "csrf": "x"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")


def test_login_sets_a_protected_cookie_and_logout_ends_the_session(console_settings, console_client):
    add_operator(console_settings, "lan", "operator")
    r = login(console_client, "Lan", PASSWORD, next_url="/console/tickets")
    assert r.status_code == 303 and r.headers["location"] == "/console/tickets"
    cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("hotline_console=")][0]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    old_cookie = console_client.cookies.get("hotline_console")
    page = console_client.get("/console/")
    assert page.status_code == 200 and "lan" in page.text and "Đăng xuất" in page.text
    assert page.headers["cache-control"] == "no-store"
    r = console_client.post("/console/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    assert console_client.get("/console/", follow_redirects=False).status_code == 303
    # The old cookie is dead on the server too, not only deleted in the browser.
    console_client.cookies.set("hotline_console", old_cookie, path="/console")
    assert console_client.get("/console/", follow_redirects=False).status_code == 303
    actions = [e.action for e in audit_rows(console_settings)]
    assert actions == ["login", "logout"]


def test_wrong_password_unknown_user_and_disabled_account_are_refused(console_settings, console_client):
    from console.data.operators import set_active
    from core.db import engine_for, session_factory

    add_operator(console_settings, "lan")
    for user, pw in [("lan", "sai-mat-khau"), ("khong-co", PASSWORD)]:
        r = login(console_client, user, pw)
        assert r.status_code == 401
        assert "Tên đăng nhập hoặc mật khẩu không đúng" in r.text
        assert console_client.cookies.get("hotline_console") is None
    failed = audit_rows(console_settings, "login_failed")
    assert [e.username for e in failed] == ["lan", "khong-co"]
    assert all(PASSWORD not in e.detail and "sai-mat-khau" not in e.detail for e in failed)
    # Disabling closes an open session at once and blocks new logins.
    assert login(console_client).status_code == 303
    assert console_client.get("/console/").status_code == 200
    set_active(session_factory(engine_for(console_settings)), "lan", False)
    assert console_client.get("/console/", follow_redirects=False).status_code == 303
    assert login(console_client).status_code == 401


def test_five_failures_block_even_the_right_password(console_settings, console_client):
    add_operator(console_settings, "lan")
    add_operator(console_settings, "minh")
    for _ in range(5):
        assert login(console_client, "lan", "doan-sai-mat-khau").status_code == 401
    r = login(console_client, "lan", PASSWORD)
    assert r.status_code == 429 and "quá nhiều lần" in r.text
    assert console_client.cookies.get("hotline_console") is None
    # Another account from the same address is not locked out by someone guessing at "lan".
    assert login(console_client, "minh", PASSWORD).status_code == 303


def test_csrf_is_checked_on_every_form(console_settings, logged_in, seeded):
    console_client = logged_in
    # Login form without its token.
    client2_page = console_client.post(
        "/console/login", data={"username": "lan", "password": PASSWORD, "csrf": "forged"}
    )
    assert client2_page.status_code == 403
    for path, data in [
        ("/console/tickets/482913/reply", {"note": "Đã chuyển xã xử lý", "status": "answered"}),
        ("/console/tickets/482913/number", {}),
        ("/console/calls/1/number", {}),
        ("/console/intents/try", {"text": "làm căn cước"}),
        ("/console/intents/speak", {"say": "Phiếu số 12."}),
        ("/console/logout", {}),
    ]:
        for token in (None, "forged-token"):
            body = dict(data, **({"csrf": token} if token else {}))
            r = console_client.post(path, data=body, headers={"accept": "text/html"})
            assert r.status_code == 403, (path, token)
            assert "mã chống giả mạo" in r.text
    r = console_client.post(
        "/console/prompts/greeting/upload",
        data={"csrf": "forged"},
        files={"file": ("a.wav", b"RIFF", "audio/wav")},
    )
    assert r.status_code == 403
    # Nothing happened: ticket untouched, no number shown, still logged in.
    from ivr.models import Ticket

    with seeded["factory"]() as s:
        t = s.query(Ticket).filter_by(number="482913").one()
        assert t.status == "new" and t.latest_reply == ""
    assert audit_rows(console_settings, "show_number") == []
    assert console_client.get("/console/", follow_redirects=False).status_code == 200


def test_tampered_cookie_and_foreign_next_are_rejected(console_settings, logged_in):
    console_client = logged_in
    value = console_client.cookies.get("hotline_console")
    console_client.cookies.set(
        "hotline_console", value[:-2] + ("AA" if not value.endswith("AA") else "BB"), path="/console"
    )
    assert console_client.get("/console/", follow_redirects=False).status_code == 303
    r = login(console_client, next_url="https://evil.example/steal")
    assert r.status_code == 303 and r.headers["location"] == "/console/"


def test_session_key_is_private_and_sessions_survive_a_restart(console_settings, logged_in):
    from fastapi.testclient import TestClient

    from web.app import create_app

    key = console_settings.data_dir / "session.key"
    assert key.is_file() and stat.S_IMODE(key.stat().st_mode) == 0o600
    secret = key.read_bytes()
    cookie = logged_in.cookies.get("hotline_console")
    with TestClient(create_app(console_settings)) as again:
        again.cookies.set("hotline_console", cookie, path="/console")
        assert again.get("/console/", follow_redirects=False).status_code == 200
    assert key.read_bytes() == secret


def test_configured_secret_is_used_instead_of_the_file(console_settings, monkeypatch):
    from console.auth import CookieSigner, load_secret
    from hotline.settings import load_settings

    monkeypatch.setenv("HOTLINE_WEB__SESSION_SECRET", "x" * 40)
    configured = load_settings(console_settings.config_file)
    assert load_secret(configured) == b"x" * 40
    assert not (configured.data_dir / "session.key").exists()
    signer = CookieSigner(b"x" * 40)
    assert signer.unsign(signer.sign("abc")) == "abc"
    assert CookieSigner(b"y" * 40).unsign(signer.sign("abc")) is None


@pytest.mark.parametrize("role,status", [("operator", 403), ("admin", 200)])
def test_audit_page_is_for_admins(console_settings, console_client, role, status):
    add_operator(console_settings, "chi", role)
    assert login(console_client, "chi").status_code == 303
    r = console_client.get("/console/audit")
    assert r.status_code == status
    if status == 200:
        assert "Đăng nhập" in r.text and "chi" in r.text
