"""`hotline duty` as an operator runs it (subprocess), at fixed moments: never today's date."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ..conftest import ROOT

HOTLINE = [sys.executable, "-c", "from hotline.cli import main; main()"]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
ROTA = [
    {"days": WEEKDAYS, "hours": "07:30-17:00", "ring": ["PJSIP/operator", "PJSIP/operator2"]},
    {"days": [*WEEKDAYS, "sat", "sun", "holiday"], "hours": "17:00-07:30", "ring": ["0987654321"]},
    {"days": ["sat", "sun", "holiday"], "hours": "07:30-17:00", "ring": ["0912000111"]},
]
VNPT = {"name": "vnpt", "kind": "register", "host": "203.0.113.10", "username": "u",
        "numbers": ["02383599999"]}  # fmt: skip
DIAL_OUT = {"trunk": "vnpt", "allowlist": ["0987654321", "0912000111"]}


def run(*args: str, rota: list | None = ROTA) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        PYTHONPATH=str(ROOT),
        HOTLINE_IVR__ASTERISK__OPERATOR_SEATS="2",
        HOTLINE_IVR__ASTERISK__TRUNKS=json.dumps([VNPT]),
        HOTLINE_IVR__ASTERISK__DIAL_OUT=json.dumps(DIAL_OUT),
    )
    if rota is not None:
        env["HOTLINE_IVR__DUTY"] = json.dumps({"rota": rota})
    cmd = [*HOTLINE, "duty", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_who_is_on_duty_on_the_eve_of_tet_and_the_days_after():
    proc = run("--at", "2027-02-04 10:00", "--days", "8")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "ca 1: Thứ Hai đến Thứ Sáu, 07:30-17:00: máy operator, máy operator2" in out
    assert "ngoài ca trực: máy operator" in out
    # 4 February 2027 (29 Tết) is a public holiday: the weekend shift rings, not the office.
    assert "Lúc này, 10:00 Thứ Năm 04/02/2027, ngày lễ: 29 Tết: số 0912000111 (ca 3)" in out
    assert "Thứ Bảy 06/02/2027, ngày lễ: Tết Nguyên Đán\n  00:00-07:30  số 0987654321 (ca 2)" in out
    # Thursday 11 February is a working day again.
    assert (
        "Thứ Năm 11/02/2027\n  00:00-07:30  số 0987654321 (ca 2)\n  07:30-17:00  máy operator, máy operator2"
    ) in out


def test_json_and_no_rota():
    proc = run("--at", "2026-09-02 08:00", "--days", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["now"] == {"at": "2026-09-02T08:00+07:00", "ring": "PJSIP/0912000111@trunk-vnpt"}
    assert data["days"][0]["holiday"] == "Quốc khánh"
    proc = run(rota=None)
    assert proc.returncode == 0 and proc.stdout.startswith("Chưa có lịch trực"), proc.stderr
    proc = run("--at", "yesterday")
    assert proc.returncode != 0 and "YYYY-MM-DD HH:MM" in proc.stderr and "Traceback" not in proc.stderr
