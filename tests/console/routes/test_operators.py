"""Operator accounts page: admins only, add / reset password / disable / enable, audited, CSRF-checked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from tests.console.helpers import PASSWORD, add_operator, audit_rows, csrf_of, login

NEW_PASSWORD = "mat-khau-moi-cua-minh"


@pytest.fixture
def admin(console_settings, console_client):
    """A client logged in as administrator `chi`."""
    add_operator(console_settings, "chi", "admin")
    assert login(console_client, "chi").status_code == 303
    return console_client


def _factory(settings):
    from core.db import engine_for, session_factory

    return session_factory(engine_for(settings))


def _accounts(settings) -> dict[str, tuple[str, bool]]:
    from console.data.operators import list_operators

    return {op.username: (op.role, op.active) for op in list_operators(_factory(settings))}


@contextmanager
def _second_client(settings, username: str, password: str = PASSWORD) -> Iterator[TestClient]:
    """Another browser, logged in as `username` (its own cookie jar)."""
    from web.app import create_app

    with TestClient(create_app(settings)) as client:
        assert login(client, username, password).status_code == 303
        yield client


def test_only_admins_see_and_use_the_page(console_settings, console_client):
    add_operator(console_settings, "lan", "operator")
    # Anonymous: redirected to the login form, and a POST creates nothing.
    r = console_client.get("/console/operators", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/login?next=/console/operators"
    r = console_client.post(
        "/console/operators/add",
        data={"username": "ke-la", "role": "admin", "password": PASSWORD, "password2": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    # An operator: a Vietnamese 403 page, no link in the menu, POSTs refused even with a valid token.
    assert login(console_client, "lan").status_code == 303
    home = console_client.get("/console/")
    assert "/console/operators" not in home.text
    r = console_client.get("/console/operators", headers={"accept": "text/html"})
    assert r.status_code == 403 and "Chỉ quản trị viên" in r.text and "<html" in r.text
    token = csrf_of(home.text)
    for path, data in [
        ("/console/operators/add", {"username": "ke-la", "role": "admin", "password": PASSWORD}),
        ("/console/operators/password", {"username": "lan", "password": "x" * 12, "password2": "x" * 12}),
        ("/console/operators/lan/disable", {}),
    ]:
        r = console_client.post(path, data=dict(data, csrf=token), headers={"accept": "text/html"})
        assert r.status_code == 403 and "Chỉ quản trị viên" in r.text, path
    assert _accounts(console_settings) == {"lan": ("operator", True)}
    assert [e.action for e in audit_rows(console_settings)] == ["login"]


def test_admin_lists_and_adds_operators(console_settings, admin):
    add_operator(console_settings, "lan", "operator")
    page = admin.get("/console/operators")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'href="/console/operators" aria-current="page"' in page.text  # the admin's menu has the link
    assert "Quản trị viên" in page.text and "Cán bộ trực" in page.text
    assert "chưa đăng nhập" in page.text  # lan never logged in; chi did
    assert '<b>chi</b> <span class="muted">(bạn)</span>' in page.text
    r = admin.post(
        "/console/operators/add",
        data={
            "csrf": csrf_of(page.text),
            "username": "  Minh.Tran ",
            "role": "admin",
            "password": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/operators?done=added&user=minh.tran"
    page = admin.get(r.headers["location"])
    assert "Đã thêm tài khoản “minh.tran”." in page.text and 'id="op-minh.tran"' in page.text
    assert _accounts(console_settings)["minh.tran"] == ("admin", True)
    (entry,) = audit_rows(console_settings, "add_operator")
    assert (entry.username, entry.target, entry.detail) == ("chi", "operator:minh.tran", "role=admin")
    assert NEW_PASSWORD not in entry.detail
    # The new account works, and the audit page names the action in Vietnamese.
    with _second_client(console_settings, "minh.tran", NEW_PASSWORD) as other:
        assert other.get("/console/audit").status_code == 200
    assert "Thêm tài khoản" in admin.get("/console/audit?action=add_operator").text
    # A forged "done" message for an account that does not exist is not shown.
    assert "Đã thêm" not in admin.get("/console/operators?done=added&user=khong-co").text


@pytest.mark.parametrize(
    "username, password, password2, message",
    [
        ("minh", "abc-123", "abc-123", "Mật khẩu phải có ít nhất 8 ký tự."),
        ("minh", NEW_PASSWORD, NEW_PASSWORD + "x", "Hai lần nhập mật khẩu không khớp nhau."),
        ("Minh Anh", NEW_PASSWORD, NEW_PASSWORD, "Tên đăng nhập không hợp lệ"),
        ("lê", NEW_PASSWORD, NEW_PASSWORD, "Tên đăng nhập không hợp lệ"),
        ("Lan", NEW_PASSWORD, NEW_PASSWORD, "Đã có tài khoản “lan”."),
        ("minh", "y" * 300, "y" * 300, "Mật khẩu không được dài quá 256 ký tự."),
    ],
)
def test_bad_input_is_explained_and_keeps_what_was_typed(
    console_settings, admin, username, password, password2, message
):
    add_operator(console_settings, "lan", "operator")
    page = admin.get("/console/operators")
    r = admin.post(
        "/console/operators/add",
        data={
            "csrf": csrf_of(page.text),
            "username": username,
            "role": "admin",
            "password": password,
            "password2": password2,
        },
    )
    assert r.status_code == 422 and message in r.text
    assert r.text.count('role="alert"') == 1
    assert f'name="username" value="{username}"' in r.text  # what was typed stays
    assert '<option value="admin" selected>' in r.text
    assert password not in r.text and password2 not in r.text  # passwords never come back
    assert set(_accounts(console_settings)) == {"chi", "lan"}
    assert audit_rows(console_settings, "add_operator") == []


def test_reset_password_closes_the_operators_sessions(console_settings, admin):
    from console.data.operators import authenticate

    add_operator(console_settings, "lan", "operator")
    with _second_client(console_settings, "lan") as lan:
        assert lan.get("/console/", follow_redirects=False).status_code == 200
        page = admin.get("/console/operators?reset=lan")
        assert '<option value="lan" selected>lan</option>' in page.text
        token = csrf_of(page.text)
        r = admin.post(
            "/console/operators/password",
            data={"csrf": token, "username": "lan", "password": NEW_PASSWORD, "password2": "khac-hoan-toan"},
        )
        assert r.status_code == 422 and "Hai lần nhập mật khẩu không khớp nhau." in r.text
        assert '<option value="lan" selected>lan</option>' in r.text and NEW_PASSWORD not in r.text
        assert lan.get("/console/", follow_redirects=False).status_code == 200  # nothing changed yet
        r = admin.post(
            "/console/operators/password",
            data={"csrf": token, "username": "lan", "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/console/operators?done=password&user=lan"
        assert "Đã đặt lại mật khẩu của “lan”" in admin.get(r.headers["location"]).text
        # lan's open session ended at once; only the new password works.
        assert lan.get("/console/", follow_redirects=False).status_code == 303
        factory = _factory(console_settings)
        assert authenticate(factory, "lan", PASSWORD) is None
        assert authenticate(factory, "lan", NEW_PASSWORD) is not None
        (entry,) = audit_rows(console_settings, "reset_password")
        assert (entry.username, entry.target, entry.detail) == ("chi", "operator:lan", "closed 1 sessions")
        r = admin.post(
            "/console/operators/password",
            data={"csrf": token, "username": "khong-co", "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
            headers={"accept": "text/html"},
        )
        assert r.status_code == 404 and "Không có tài khoản “khong-co”" in r.text
    # Resetting one's own password ends one's own session too, as `hotline operators passwd` would.
    r = admin.post(
        "/console/operators/password",
        data={"csrf": token, "username": "chi", "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert r.status_code == 200 and str(r.url).startswith(
        "http://testserver/console/login?next=/console/operators"
    )
    assert login(admin, "chi", NEW_PASSWORD).status_code == 303


def test_disable_and_enable_with_admin_safeguards(console_settings, admin):
    add_operator(console_settings, "lan", "operator")
    with _second_client(console_settings, "lan") as lan:
        page = admin.get("/console/operators")
        token = csrf_of(page.text)
        assert 'action="/console/operators/lan/disable"' in page.text
        assert 'action="/console/operators/chi/disable"' not in page.text  # no button against oneself
        r = admin.post("/console/operators/lan/disable", data={"csrf": token}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/console/operators?done=disabled&user=lan"
        page = admin.get(r.headers["location"]).text
        assert "Đã khóa tài khoản “lan”" in page and "Đã khóa</span>" in page
        assert 'action="/console/operators/lan/enable"' in page
        assert lan.get("/console/", follow_redirects=False).status_code == 303  # logged out at once
        assert login(lan, "lan").status_code == 401
        r = admin.post("/console/operators/lan/enable", data={"csrf": token}, follow_redirects=False)
        assert r.status_code == 303 and _accounts(console_settings)["lan"] == ("operator", True)
        assert login(lan, "lan").status_code == 303
    # An admin cannot disable themself, even by a hand-made request.
    r = admin.post("/console/operators/CHI/disable", data={"csrf": token})
    assert r.status_code == 422 and "Bạn không thể tự khóa tài khoản của chính mình." in r.text
    assert _accounts(console_settings)["chi"] == ("admin", True)
    assert admin.get("/console/", follow_redirects=False).status_code == 200
    r = admin.post(
        "/console/operators/khong-co/enable", data={"csrf": token}, headers={"accept": "text/html"}
    )
    assert r.status_code == 404
    assert [(e.action, e.target) for e in audit_rows(console_settings) if e.action.endswith("_operator")] == [
        ("disable_operator", "operator:lan"),
        ("enable_operator", "operator:lan"),
    ]


def test_last_enabled_admin_cannot_be_disabled_from_the_console(console_settings):
    from console.data.operators import AccountError, set_active

    factory = _factory(console_settings)
    lan = add_operator(console_settings, "lan", "admin")
    minh = add_operator(console_settings, "minh", "admin")
    set_active(factory, "minh", False)  # the CLI (no actor) may disable anyone, and undo it
    with pytest.raises(AccountError) as info:
        set_active(factory, "lan", False, actor=minh)
    assert info.value.code == "console.account.last_admin"
    with pytest.raises(AccountError) as info:
        set_active(factory, "lan", False, actor=lan)
    assert info.value.code == "console.account.self"
    assert _accounts(console_settings)["lan"] == ("admin", True)
    set_active(factory, "minh", True)
    assert set_active(factory, "lan", False, actor=minh) == 0  # two enabled admins: allowed
    assert _accounts(console_settings)["lan"] == ("admin", False)


def test_every_account_form_checks_csrf(console_settings, admin):
    add_operator(console_settings, "lan", "operator")
    for path, data in [
        ("/console/operators/add", {"username": "minh", "password": PASSWORD, "password2": PASSWORD}),
        ("/console/operators/password", {"username": "lan", "password": "x" * 12, "password2": "x" * 12}),
        ("/console/operators/lan/disable", {}),
        ("/console/operators/lan/enable", {}),
    ]:
        for token in (None, "forged-token"):
            body = dict(data, **({"csrf": token} if token else {}))
            r = admin.post(path, data=body, headers={"accept": "text/html"})
            assert r.status_code == 403 and "mã chống giả mạo" in r.text, (path, token)
    from console.data.operators import authenticate

    assert _accounts(console_settings) == {"chi": ("admin", True), "lan": ("operator", True)}
    assert authenticate(_factory(console_settings), "lan", PASSWORD) is not None
    assert [e.action for e in audit_rows(console_settings)] == ["login"]
