"""`hotline run`, the main job, as a newcomer starts it: everything comes up, a call works, a worker that
dies mid-call costs the caller at most a moment of silence and is replaced, Ctrl+C stops."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from asterisk.handle import handle_for
from hotline.settings import load_settings
from tests.ivr.conftest import loopback_env, wait_answered
from tests.support import free_port, silence_after

ROOT = Path(__file__).resolve().parents[1]
HOTLINE = str(Path(sys.executable).with_name("hotline"))

pytestmark = [pytest.mark.slow, pytest.mark.asterisk]


def _read_until(proc: subprocess.Popen, marker: str, timeout: float) -> str:
    """Collect the process output until `marker` appears (bounded in time). Reads the pipe itself: a
    buffered readline() would keep lines select() no longer sees."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    fd = proc.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and marker.encode() not in seen:
        if sel.select(timeout=0.5):
            chunk = os.read(fd, 65536)
            if not chunk:  # the process closed its output: it ended
                break
            seen += chunk
    sel.close()
    return seen.decode(errors="replace")


def _hotline(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run a `hotline` command like a person would; its output (it must succeed)."""
    cmd = [HOTLINE, *args]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _greeted(env: dict[str, str], heard: Path) -> None:
    _hotline(env, "call", "--wait", "4", "--record", str(heard))
    assert heard.stat().st_size > 8000  # the greeting was heard


def _ready_and_counted(base: str, calls: int, limit_s: float = 30) -> None:
    """The worker's web app says ready and its /metrics (Prometheus' own parser) counts `calls` ended
    calls; polled every 0.2 s, bounded (the recognizer may still be loading, the call log closing)."""
    from prometheus_client.parser import text_string_to_metric_families

    deadline = time.monotonic() + limit_s
    while True:
        ready = httpx.get(f"{base}/readyz", timeout=10)
        ended = sum(
            s.value
            for family in text_string_to_metric_families(httpx.get(f"{base}/metrics", timeout=10).text)
            for s in family.samples
            if s.name == "hotline_calls_total"
        )
        if ready.status_code == 200 and ended == calls:
            return
        assert time.monotonic() < deadline, (ready.status_code, ready.json(), ended)
        time.sleep(0.2)


def test_hotline_run_starts_everything_answers_a_call_and_stops(tmp_path):
    web_port = free_port(socket.SOCK_STREAM)
    env = loopback_env(tmp_path, web_port)
    proc = subprocess.Popen(
        [HOTLINE, "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out = _read_until(proc, "Stop with Ctrl+C.", timeout=240)
        assert "The hotline is running." in out, out[-3000:]
        assert "hotline call" in out and "Softphone" in out  # how to call it
        base = f"http://127.0.0.1:{web_port}"
        assert httpx.get(f"{base}/healthz", timeout=10).json()["status"] == "ok"
        assert "Truyền thanh cơ sở" in httpx.get(f"{base}/", timeout=10).text

        _greeted(env, tmp_path / "heard.wav")
        _ready_and_counted(base, calls=1)

        # The worker dies (kill -9) while the greeting of a second call plays: the supervisor hands the
        # caller to the dialplan fallback (apology, operators, message) and starts a new worker.
        heard = tmp_path / "crash.wav"
        crashed = subprocess.Popen(
            [HOTLINE, "call", "--wait", "9", "--record", str(heard), "--log-wait", "0", "--json"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        wait_answered(handle_for(load_settings(ROOT / "config" / "hotline.yaml", env=env)))
        time.sleep(1.0)  # into the greeting
        worker = int((tmp_path / "var" / "run" / "worker.pid").read_text())
        os.kill(worker, signal.SIGKILL)
        killed = time.time()
        heard_call = json.loads(crashed.communicate(timeout=60)[0])
        assert heard_call["connected"]
        silence = silence_after(heard, killed - heard_call["recording_started_at"])
        assert silence < 3.0, f"the caller heard {silence:.1f} s of silence after the worker died"
        out += _read_until(proc, "Stop with Ctrl+C.", timeout=240)  # the new worker is ready
        assert "the hotline worker died (signal 9)" in out, out[-3000:]
        assert out.count("The hotline is running.") == 2, out[-3000:]

        _greeted(env, tmp_path / "again.wav")  # the next call

        calls = json.loads(_hotline(env, "calls", "list", "--json"))
        assert len(calls) == 3
        assert all(c.get("ended_at") for c in calls), calls  # the crashed call's row is closed too
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rest, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            rest, _ = proc.communicate()
    assert proc.returncode == 0, rest[-3000:]
    status = subprocess.run(
        [HOTLINE, "asterisk", "status"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert "not running" in status.stdout  # Ctrl+C stopped the Asterisk it started
