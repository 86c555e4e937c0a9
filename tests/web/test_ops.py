"""/healthz, /readyz and /metrics over real HTTP: each check, access, and a worker in another process."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from core.health import Check
from hotline.db import upgrade
from tests.browser import serve
from tests.conftest import ROOT
from tests.support import free_port


class StubProbe:
    """The call application as a test sets it: its two checks, and the process's metrics."""

    def __init__(self, ok: bool = True) -> None:
        self.ok = ok

    async def checks(self) -> dict[str, Check]:
        return {"ari": Check(self.ok, "Đã kết nối"), "engines": Check(self.ok, "Đã nạp")}

    async def metrics(self) -> bytes | None:
        from core.metrics import render

        return render()


@pytest.fixture
def make_settings(tmp_path, monkeypatch):
    """Settings on a temporary data dir, with `ops` overrides (HOTLINE_OPS__...)."""
    from hotline.settings import load_settings

    def make(**ops: object):
        monkeypatch.setenv("HOTLINE_PATHS__DATA_DIR", str(tmp_path / "var"))
        monkeypatch.setenv("HOTLINE_PATHS__CACHE_DIR", str(tmp_path / "var" / "cache"))
        for key, value in ops.items():
            monkeypatch.setenv(f"HOTLINE_OPS__{key.upper()}", str(value))
        return load_settings(ROOT / "config" / "hotline.yaml")

    return make


def test_ready_when_every_check_passes_and_each_failure_names_itself(make_settings):
    from web.app import create_app

    settings = make_settings()
    probe = StubProbe()
    with serve(create_app(settings, app_probe=probe)) as base:
        r = httpx.get(f"{base}/healthz", timeout=10)
        assert r.status_code == 200 and r.json()["status"] == "ok"  # alive, even before the schema exists
        r = httpx.get(f"{base}/readyz", timeout=10)
        assert r.status_code == 503 and not r.json()["ready"]
        checks = r.json()["checks"]
        assert set(checks) == {"database", "ari", "engines", "disk"}
        assert not checks["database"]["ok"] and "cơ sở dữ liệu" in checks["database"]["message"]
        upgrade(settings.database_url)
        r = httpx.get(f"{base}/readyz", timeout=10)
        assert r.status_code == 200 and r.json()["ready"], r.json()
        assert all(c["ok"] for c in r.json()["checks"].values())
        assert r.json()["checks"]["disk"]["message"].startswith("Ổ đĩa dữ liệu còn trống")
        assert r.headers["cache-control"] == "no-store"
        probe.ok = False
        r = httpx.get(f"{base}/readyz", timeout=10)
        assert r.status_code == 503 and not r.json()["checks"]["ari"]["ok"]
        assert r.json()["checks"]["database"]["ok"]


def test_not_ready_below_the_free_disk_minimum(make_settings):
    from web.app import create_app

    settings = make_settings(min_free_disk_mb=10**9)  # a petabyte: no test machine has it free
    upgrade(settings.database_url)
    with serve(create_app(settings, app_probe=StubProbe())) as base:
        r = httpx.get(f"{base}/readyz", timeout=10)
    disk = r.json()["checks"]["disk"]
    assert r.status_code == 503 and not disk["ok"]
    assert "chỉ còn trống" in disk["message"] and "cần tối thiểu" in disk["message"]


def test_metrics_and_readiness_answer_this_machine_or_the_token(make_settings):
    from web.app import create_app

    settings = make_settings()
    upgrade(settings.database_url)
    # TestClient's client is not on this machine ("testclient"): like a visitor through the network.
    remote = TestClient(create_app(settings, app_probe=StubProbe()))
    assert remote.get("/metrics").status_code == 403 and remote.get("/readyz").status_code == 403
    assert remote.get("/healthz").status_code == 200
    settings = make_settings(token="s3cret-token")
    remote = TestClient(create_app(settings, app_probe=StubProbe()))
    assert remote.get("/metrics").status_code == 401
    assert remote.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    r = remote.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    names = {f.name for f in text_string_to_metric_families(r.text)}
    assert "hotline_calls" in names and all(n.startswith("hotline_") for n in names)


class WorkerOps:
    """`hotline.service._serve_ops`, as a `--no-web` worker runs it, in a thread with its own loop."""

    def __init__(self, settings, probe) -> None:
        self.settings, self.probe = settings, probe
        self.thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        from hotline.service import _serve_ops

        self.loop, self.stop = asyncio.get_running_loop(), asyncio.Event()
        await _serve_ops(self.settings, self.stop, self.probe)

    def __enter__(self) -> WorkerOps:
        self.thread.start()
        url = f"http://127.0.0.1:{self.settings.ops.worker_port}/healthz"
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the worker's ops server did not start"
            time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)


def test_the_web_app_of_hotline_serve_asks_the_worker(make_settings):
    """`hotline run --no-web` + `hotline serve`: the worker serves its own /metrics and /readyz on
    `ops.worker_port`; the web app's answers come from there, and a gone worker is not ready."""
    from web.app import create_app
    from web.readiness import LocalProbe

    settings = make_settings(worker_port=free_port(socket.SOCK_STREAM))
    upgrade(settings.database_url)
    with serve(create_app(settings)) as web:  # no probe: as `hotline serve` builds it
        with WorkerOps(settings, LocalProbe(lambda: None)):  # its application still starting
            worker = f"http://127.0.0.1:{settings.ops.worker_port}"
            families = list(text_string_to_metric_families(httpx.get(f"{worker}/metrics", timeout=10).text))
            assert any(f.name == "hotline_calls_active" for f in families)
            r = httpx.get(f"{web}/readyz", timeout=10)
            assert r.status_code == 503 and r.json()["checks"]["database"]["ok"]
            assert r.json()["checks"]["ari"]["message"] == "Ứng dụng tổng đài đang khởi động"
            proxied = httpx.get(f"{web}/metrics", timeout=10)
            assert proxied.status_code == 200
            assert any(f.name == "hotline_errors" for f in text_string_to_metric_families(proxied.text))
        r = httpx.get(f"{web}/readyz", timeout=10)  # the worker is gone
        assert r.status_code == 503
        assert r.json()["checks"]["engines"]["message"].startswith(
            "Không liên lạc được với ứng dụng tổng đài"
        )
        assert httpx.get(f"{web}/metrics", timeout=10).status_code == 503


def test_a_worker_whose_metrics_port_is_taken_goes_on_without_it(make_settings, caplog):
    from web.readiness import LocalProbe

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings = make_settings(worker_port=taken.getsockname()[1])
        worker = WorkerOps(settings, LocalProbe(lambda: None))
        worker.thread.start()
        deadline = time.monotonic() + 10
        while "metrics and readiness not served" not in caplog.text:
            assert time.monotonic() < deadline, "no error logged"
            time.sleep(0.05)
        assert worker.thread.is_alive()  # the worker's loop goes on (its calls too)
        worker.__exit__()
        assert not worker.thread.is_alive()
