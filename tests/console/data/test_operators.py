"""Operator accounts: scrypt hashes and the `hotline operators` commands (passwords never echoed)."""

from __future__ import annotations

from typer.testing import CliRunner


def test_password_hashes_are_salted_and_verified():
    from console.data.operators import hash_password, verify_password

    a, b = hash_password("mật khẩu dài 123"), hash_password("mật khẩu dài 123")
    assert a != b and a.startswith("scrypt$") and "123" not in a
    assert verify_password("mật khẩu dài 123", a) and verify_password("mật khẩu dài 123", b)
    assert not verify_password("mật khẩu dài 124", a)
    assert not verify_password("x", "garbage") and not verify_password("x", "scrypt$1$2$3$!!$!!")


def _old_hash(password: str, n: int = 2**14) -> str:
    """A hash made with a weaker cost than today's (earlier releases stored scrypt N=2^14)."""
    import base64
    import hashlib

    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1, dklen=32)
    return f"scrypt${n}$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def test_the_product_hashes_at_the_recommended_cost_and_a_login_upgrades_a_weaker_hash(
    production_scrypt_cost, console_settings, console_client
):
    """The one test at the product's own cost (the rest of the suite hashes at N=2^14, tests/conftest.py)."""
    from sqlalchemy import select

    from console.data import operators
    from console.models import Operator
    from core.db import engine_for, session_factory, transaction
    from tests.console.helpers import PASSWORD, add_operator, login

    assert production_scrypt_cost == 2**17  # the module's value, not the suite's
    scheme, n, r, p, _salt, _digest = operators.hash_password("mật khẩu dài 123").split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**17, 8, 1)  # OWASP: N=2^17, r=8, p=1
    assert operators.needs_rehash(_old_hash("x")) and not operators.needs_rehash(operators.hash_password("x"))

    factory = session_factory(engine_for(console_settings))
    add_operator(console_settings, "lan")
    old = _old_hash(PASSWORD)
    with transaction(factory) as s:
        s.scalar(select(Operator).where(Operator.username == "lan")).password_hash = old

    def stored() -> str:
        with factory() as s:
            return s.scalar(select(Operator.password_hash).where(Operator.username == "lan"))

    assert login(console_client, "lan", "doan-sai-mat-khau").status_code == 401
    assert stored() == old  # a wrong password changes nothing
    assert login(console_client, "lan", PASSWORD).status_code == 303  # the old hash still lets them in
    assert stored().startswith(f"scrypt${2**17}$8$1$") and operators.verify_password(PASSWORD, stored())
    console_client.cookies.clear()
    assert login(console_client, "lan", PASSWORD).status_code == 303


def test_hashes_run_two_at_a_time_and_absurd_stored_costs_are_refused(monkeypatch):
    import hashlib
    import threading
    import time

    from console.data import operators

    running, most = [0], [0]
    lock = threading.Lock()

    def slow_scrypt(*args, **kwargs):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return b"\0" * kwargs["dklen"]

    monkeypatch.setattr(hashlib, "scrypt", slow_scrypt)
    threads = [threading.Thread(target=operators.hash_password, args=("x" * 8,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert most[0] == 2  # operators.HASH_SLOTS
    # A stored hash asking for 2^24 x 8 (2 GiB) is refused without being computed.
    huge = _old_hash("x").replace("$16384$", f"${2**24}$")
    running[0] = most[0] = 0
    assert not operators.verify_password("x", huge)
    assert most[0] == 0


def test_operators_cli_add_list_passwd_disable(console_settings):
    from console.data.operators import authenticate
    from core.db import engine_for, session_factory
    from hotline.cli import app

    factory = session_factory(engine_for(console_settings))
    runner = CliRunner()
    r = runner.invoke(
        app, ["operators", "add", "Lan", "--role", "admin", "--password-stdin"], input="bi-mat-thu-nhat\n"
    )
    assert r.exit_code == 0, r.output
    assert "added operator lan (admin)" in r.output and "bi-mat-thu-nhat" not in r.output
    # Interactive: asked twice, not echoed.
    r = runner.invoke(app, ["operators", "add", "minh"], input="bi-mat-thu-hai\nbi-mat-thu-hai\n")
    assert r.exit_code == 0, r.output
    assert "bi-mat-thu-hai" not in r.output
    assert authenticate(factory, "minh", "bi-mat-thu-hai").role == "operator"
    r = runner.invoke(app, ["operators", "list"])
    assert "lan" in r.output and "admin" in r.output and "minh" in r.output
    r = runner.invoke(app, ["operators", "passwd", "lan", "--password-stdin"], input="bi-mat-moi-hoan-toan\n")
    assert r.exit_code == 0
    assert authenticate(factory, "lan", "bi-mat-thu-nhat") is None
    assert authenticate(factory, "lan", "bi-mat-moi-hoan-toan") is not None
    r = runner.invoke(app, ["operators", "disable", "lan"])
    assert r.exit_code == 0 and authenticate(factory, "lan", "bi-mat-moi-hoan-toan") is None
    runner.invoke(app, ["operators", "enable", "lan"])
    assert authenticate(factory, "lan", "bi-mat-moi-hoan-toan") is not None


def test_operators_cli_refuses_bad_input_cleanly(console_settings):
    import subprocess
    import sys

    # Through the real entry point (python -m hotline): HotlineError is printed as "error: ..." with exit 2.
    cases = [
        (["operators", "add", "lan", "--password-stdin"], "ngan\n", "at least 8 characters"),
        (["operators", "add", "Lan Anh", "--password-stdin"], "du-dai-roi-nhe\n", "invalid user name"),
        (
            ["operators", "add", "lan", "--role", "boss", "--password-stdin"],
            "du-dai-roi-nhe\n",
            "unknown role",
        ),
        (["operators", "disable", "khong-co"], "", "no operator"),
        (["operators", "add", "lan", "--password-stdin"], "", "no password on standard input"),
    ]
    for args, stdin, message in cases:
        p = subprocess.run(
            [sys.executable, "-m", "hotline", *args], input=stdin, capture_output=True, text=True, timeout=60
        )
        assert p.returncode == 2, (args, p.stderr)
        assert "error: " in p.stderr and message in p.stderr and "Traceback" not in p.stderr


def test_radio_accounts_a_commune_account_is_bound_to_its_commune(console_settings):
    import pytest
    import sqlalchemy as sa
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from console.data.operators import AccountError, add_operator, authenticate
    from console.models import Operator
    from core.db import engine_for, session_factory
    from hotline.cli import app

    engine = engine_for(console_settings)
    with engine.connect() as conn:  # console_0003 adds exactly the model's column
        diff = compare_metadata(MigrationContext.configure(conn), Operator.metadata)
        assert [d for d in diff if "operators" in repr(d)] == []
        assert "commune_code" in {c["name"] for c in sa.inspect(conn).get_columns("operators")}
    factory = session_factory(engine)
    with pytest.raises(AccountError) as refused:
        add_operator(factory, "xa-thieu", "bi-mat-thu-nhat", "commune")
    assert refused.value.code == "console.account.no_commune"
    editor = add_operator(factory, "bien", "bi-mat-thu-nhat", "editor", commune_code=17329)
    assert editor.commune_code is None and editor.radio_writer and editor.sees_province
    assert not editor.is_staff
    r = CliRunner().invoke(
        app,
        ["operators", "add", "xa-do-luong", "--role", "commune", "--commune", "Đô Lương", "--password-stdin"],
        input="bi-mat-thu-hai\n",
    )
    assert r.exit_code == 0, r.output
    account = authenticate(factory, "xa-do-luong", "bi-mat-thu-hai")
    assert account is not None and account.role == "commune" and account.commune_code is not None
    assert not (account.is_staff or account.radio_writer or account.sees_province)
    listed = CliRunner().invoke(app, ["operators", "list"]).output
    assert any(line.startswith("xa-do-luong") and "(Xã Đô Lương)" in line for line in listed.splitlines())


def test_accounts_sessions_and_the_audit_log_on_each_back_end(db_settings):
    """Console accounts on SQLite and on PostgreSQL: unique names, log-in, sessions, the last admin, audit."""
    import datetime as dt

    import pytest

    from console.audit_actions import AuditAction
    from console.data import audit, sessions
    from console.data.operators import AccountError, add_operator, authenticate, list_operators, set_active
    from core.db import engine_for, session_factory
    from hotline.db import upgrade

    upgrade(db_settings.database_url)
    engine = engine_for(db_settings)
    factory = session_factory(engine)
    try:
        lan = add_operator(factory, "Lan", "bi-mat-thu-nhat", "admin")
        minh = add_operator(factory, "minh", "bi-mat-thu-hai", "admin")
        with pytest.raises(AccountError) as taken:
            add_operator(factory, "LAN", "bi-mat-thu-ba")
        assert taken.value.code == "console.account.exists"
        assert [o.username for o in list_operators(factory)] == ["lan", "minh"]
        assert (
            authenticate(factory, "lan", "sai-mat-khau") is None
            and authenticate(factory, "x" * 200, "y") is None
        )
        assert authenticate(factory, " LAN ", "bi-mat-thu-nhat").id == lan.id

        token, csrf = sessions.open_session(factory, lan, "2001:db8::" + "f" * 80)  # an address, clipped
        login = sessions.resolve_session(factory, token)
        assert login is not None and login.operator.id == lan.id and login.csrf == csrf
        assert sessions.resolve_session(factory, token, now=dt.datetime(2999, 1, 1)) is None  # expired
        assert sessions.resolve_session(factory, token) is None  # and removed

        token, _ = sessions.open_session(factory, minh, "10.0.0.2")
        assert set_active(factory, "minh", False, actor=lan) == 1  # minh's session closed with the account
        assert sessions.resolve_session(factory, token) is None
        with pytest.raises(AccountError) as last:
            set_active(factory, "lan", False, actor=minh)
        assert last.value.code == "console.account.last_admin"

        audit.record(factory, lan, AuditAction.LOGIN, "t" * 300, "d" * 3000, "10.0.0.1")
        [entry] = audit.recent(factory)
        assert entry.username == "lan" and len(entry.target) == 128 and len(entry.detail) == 2000
        assert audit.purge(factory, days=1, now=dt.datetime(2999, 1, 1)) == 1
    finally:
        engine.dispose()
