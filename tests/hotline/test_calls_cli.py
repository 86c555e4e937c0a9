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

    assert "2027-01-01 00:30:05" in run("calls", "list")
    shown = json.loads(run("calls", "show", str(cid), "--json"))
    assert shown["started_at"] == "2027-01-01T00:30:05+07:00"
    assert shown["ended_at"] == "2027-01-01T00:30:45+07:00"
