"""`hotline run`, the main job, as a newcomer starts it: everything comes up, a call works, Ctrl+C stops."""

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

from tests.ivr.conftest import free_rtp_range
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[1]
HOTLINE = str(Path(sys.executable).with_name("hotline"))

pytestmark = [pytest.mark.slow, pytest.mark.asterisk]


def _read_until(proc: subprocess.Popen, marker: str, timeout: float) -> str:
    """Collect the process output until `marker` appears (bounded in time)."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and marker not in seen:
        if proc.poll() is not None:
            seen += proc.stdout.read() or ""
            break
        if sel.select(timeout=0.5):
            line = proc.stdout.readline()
            seen += line
    return seen


def test_hotline_run_starts_everything_answers_a_call_and_stops(tmp_path):
    rtp = free_rtp_range()
    media = free_rtp_range()
    web_port = free_port(socket.SOCK_STREAM)
    env = {
        **os.environ,
        "HOTLINE_PATHS__DATA_DIR": str(tmp_path / "var"),
        "HOTLINE_PATHS__CACHE_DIR": str(tmp_path / "var" / "cache"),
        "HOTLINE_WEB__PORT": str(web_port),
        "HOTLINE_IVR__ASTERISK__SIP_PORT": str(free_port(socket.SOCK_DGRAM)),
        "HOTLINE_IVR__ASTERISK__HTTP_PORT": str(free_port(socket.SOCK_STREAM)),
        "HOTLINE_IVR__ASTERISK__RTP_PORT_START": str(rtp[0]),
        "HOTLINE_IVR__ASTERISK__RTP_PORT_END": str(rtp[1]),
        "HOTLINE_IVR__MEDIA__PORT_START": str(media[0]),
        "HOTLINE_IVR__MEDIA__PORT_END": str(media[1]),
    }
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

        call = subprocess.run(
            [HOTLINE, "call", "--wait", "4", "--record", str(tmp_path / "heard.wav"), "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert call.returncode == 0, call.stderr[-2000:]
        assert (tmp_path / "heard.wav").stat().st_size > 8000  # the greeting was heard

        listed = subprocess.run(
            [HOTLINE, "calls", "list", "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listed.returncode == 0, listed.stderr[-2000:]
        assert len(json.loads(listed.stdout)) == 1
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
