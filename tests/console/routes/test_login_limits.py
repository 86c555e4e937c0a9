"""The login limiter through the real web server (`hotline serve`): parallel guesses, spoofed
X-Forwarded-For, trusted proxies, counters shared by every process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.console.helpers import PASSWORD, ROOT, add_operator, audit_rows, csrf_of, login
from tests.support import free_port

START_TIMEOUT_S = 60  # `hotline serve` imports the whole web app before it listens
REQUEST_TIMEOUT_S = 60  # a login waits for its password check; several queue behind each other


@contextmanager
def hotline_serve(log_path, **env: str) -> Iterator[str]:
    """`python -m hotline serve` on a free loopback port (settings from the environment); its base URL."""
    port = free_port()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hotline", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert proc.poll() is None, log_path.read_text(errors="replace")
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "hotline serve did not start: " + log_path.read_text()
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def _login_form(base: str) -> tuple[str, dict[str, str]]:
    """The login page's CSRF token and its cookie, reusable for many posts (each answer sets a new one)."""
    with httpx.Client() as client:
        csrf = csrf_of(client.get(base + "/console/login").text)
        return csrf, dict(client.cookies)


def _post_login(base: str, form: tuple[str, dict[str, str]], username: str, password: str, **headers: str):
    csrf, cookies = form
    with httpx.Client(cookies=cookies) as client:
        return client.post(
            base + "/console/login",
            data={"username": username, "password": password, "csrf": csrf, "next": "/console/"},
            headers=headers,
            follow_redirects=False,
            timeout=REQUEST_TIMEOUT_S,
        )


def test_parallel_wrong_passwords_are_counted_before_any_is_checked(console_settings, tmp_path):
    add_operator(console_settings, "lan")
    guesses = 12
    with hotline_serve(tmp_path / "serve.log") as base:
        form = _login_form(base)
        start = threading.Barrier(guesses)
        statuses: list[int] = []

        def guess(i: int) -> None:
            start.wait(timeout=30)
            statuses.append(_post_login(base, form, "lan", f"doan-sai-{i}").status_code)

        threads = [threading.Thread(target=guess, args=(i,)) for i in range(guesses)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=REQUEST_TIMEOUT_S * 2)
        assert len(statuses) == guesses
        # Only the first five were checked against the password; the rest were refused unchecked.
        assert sorted(statuses) == [401] * 5 + [429] * (guesses - 5)
        assert len(audit_rows(console_settings, "login_failed")) == 5
        assert _post_login(base, form, "lan", PASSWORD).status_code == 429


def test_a_local_client_cannot_pick_its_address_with_x_forwarded_for(console_settings, tmp_path):
    add_operator(console_settings, "lan")
    with hotline_serve(tmp_path / "serve.log") as base:
        form = _login_form(base)
        for i in range(5):
            r = _post_login(base, form, "lan", "doan-sai", **{"x-forwarded-for": f"203.0.113.{i}"})
            assert r.status_code == 401
        r = _post_login(base, form, "lan", PASSWORD, **{"x-forwarded-for": "198.51.100.7"})
        assert r.status_code == 429
    assert {e.ip for e in audit_rows(console_settings, "login_failed")} == {"127.0.0.1"}


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(console_settings, tmp_path):
    add_operator(console_settings, "lan")
    trusted = {"HOTLINE_WEB__TRUSTED_PROXIES": '["127.0.0.1"]'}
    with hotline_serve(tmp_path / "serve.log", **trusted) as base:
        form = _login_form(base)
        guesser, operator = {"x-forwarded-for": "203.0.113.9"}, {"x-forwarded-for": "198.51.100.7"}
        for _ in range(5):
            assert _post_login(base, form, "lan", "doan-sai", **guesser).status_code == 401
        assert _post_login(base, form, "lan", PASSWORD, **guesser).status_code == 429
        # The operator behind the same proxy, at another address, is not locked out by the guesser.
        assert _post_login(base, form, "lan", PASSWORD, **operator).status_code == 303
    assert {e.ip for e in audit_rows(console_settings, "login_failed")} == {"203.0.113.9"}
    assert [e.ip for e in audit_rows(console_settings, "login")] == ["198.51.100.7"]


def test_failures_are_shared_by_every_web_process_and_survive_a_restart(console_settings):
    from fastapi.testclient import TestClient

    from web.app import create_app

    add_operator(console_settings, "lan")
    # Two app instances on one database file: two web processes as far as the limiter can tell.
    with TestClient(create_app(console_settings)) as one, TestClient(create_app(console_settings)) as two:
        for client in (one, two, one, two, one):
            assert login(client, "lan", "doan-sai-mat-khau").status_code == 401
        assert login(two, "lan", PASSWORD).status_code == 429
    with TestClient(create_app(console_settings)) as restarted:
        assert login(restarted, "lan", PASSWORD).status_code == 429


@pytest.mark.parametrize("value", ["nginx.lan", "10.0.0.300", "10.0.0.0/33"])
def test_a_trusted_proxy_that_is_no_address_is_a_config_error(tmp_path, value):
    from core.errors import ConfigError
    from hotline.settings import load_settings

    cfg = tmp_path / "hotline.yaml"
    cfg.write_text(f"web:\n  host: 127.0.0.1\n  trusted_proxies: [127.0.0.1, {value}]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={})
    message = str(info.value)
    assert f"{cfg}:3:" in message and "web.trusted_proxies" in message and value in message
