"""`hotline calls` and `hotline tickets` show local time (`locale.time_zone`), as the console does."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

from core.db import engine_for, session_factory
from hotline.db import upgrade
from hotline.settings import load_settings
from ivr.enums import Outcome
from ivr.store import CallStore

from ..conftest import ROOT

HOTLINE = [sys.executable, "-c", "from hotline.cli import main; main()"]
STARTED = dt.datetime(2026, 12, 31, 17, 30, 5)  # naive UTC: 00:30:05 on 1 January 2027 in Vietnam


def test_calls_list_and_show_print_vietnam_time(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(PYTHONPATH=str(ROOT), HOTLINE_PATHS__DATA_DIR=str(tmp_path))
    settings = load_settings(ROOT / "config" / "hotline.yaml", env=env)
    upgrade(settings.database_url)
    store = CallStore(session_factory(engine_for(settings)), tmp_path / "recordings")
    cid = store.start_call("chan-cli", "0912345678", at=STARTED)
    store.end_call(cid, Outcome.ANSWERED_SPEECH, at=STARTED + dt.timedelta(seconds=40))

    def run(*args: str) -> str:
        proc = subprocess.run(
            [*HOTLINE, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    listed = run("calls", "list")
    assert "01/01/2027 00:30:05" in listed and "Đã trả lời (hỏi bằng lời)" in listed, listed
    assert Outcome.ANSWERED_SPEECH.value not in listed and "*******678" in listed
    told = run("calls", "show", str(cid))
    assert "01/01/2027 00:30:05 → 01/01/2027 00:30:45" in told and "Kết quả: Đã trả lời" in told, told
    shown = json.loads(run("calls", "show", str(cid), "--json"))
    assert shown["started_at"] == "2027-01-01T00:30:05+07:00"
    assert shown["ended_at"] == "2027-01-01T00:30:45+07:00"


def test_tickets_list_and_show_read_in_vietnamese_and_local_time(tmp_path):
    from typer.testing import CliRunner

    from hotline.cli import app

    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(HOTLINE_PATHS__DATA_DIR=str(tmp_path))
    settings = load_settings(ROOT / "config" / "hotline.yaml", env=env)
    upgrade(settings.database_url)
    store = CallStore(session_factory(engine_for(settings)), tmp_path / "recordings")
    number = store.create_ticket(
        call_id=None, caller="0912345678", reason="feedback", audio_path=None, duration_ms=0,
        transcript="đèn đường hỏng", at=STARTED,
    )  # fmt: skip
    # Received on 1/1/2027 (a holiday): due 5 working days later, Friday 8/1. Handled at 00:30 on 9/1 in
    # Vietnam, still the 8th in UTC: late only when read in the configured zone.
    store.reply_ticket(number, "Đã báo điện lực.", "answered", at=dt.datetime(2027, 1, 8, 17, 30))
    runner = CliRunner()

    def run(*args: str) -> str:
        r = runner.invoke(app, list(args), env={**env, "HOTLINE_CONFIG": ""})
        assert r.exit_code == 0, r.output
        return r.output

    listed = run("tickets", "list")
    assert f"{number}  01/01/2027 00:30  Đã trả lời  Phản ánh" in listed and "*******678" in listed
    shown = run("tickets", "show", number)
    for line in (
        "Nhận lúc: 01/01/2027 00:30",
        "Hạn xử lý: 08/01/2027 (Xử lý trễ hạn)",
        "Đã xử lý lúc: 09/01/2027 00:30",
        "Phân loại: Khác",
        "Trả lời mới nhất: Đã báo điện lực.",
    ):
        assert line in shown, shown
    for code in ("answered", "feedback", "khac", "2026-12-31", "None"):
        assert code not in listed + shown, code
    assert run("tickets", "close", number).strip() == f"Phiếu số {number}: Đã đóng"
    data = json.loads(run("tickets", "show", number, "--json"))  # machine-readable: codes kept
    assert data["status"] == "closed" and data["reason"] == "feedback" and data["category"] == "khac"
    assert data["handled_at"] == "2027-01-09 00:30:00" and data["due_date"] == "2027-01-08"
