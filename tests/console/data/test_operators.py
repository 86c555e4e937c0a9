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
