"""`hotline normalize` run as a user would, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOTLINE = Path(sys.executable).parent / "hotline"


def _run(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(HOTLINE), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        input=stdin,
        env={**os.environ, **(env or {})},
    )


def test_normalize_prints_spoken_text():
    proc = _run("normalize", "UBND xã: hạn 30/9/2023, gọi 1022. Phí 50.000đ.")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (
        "ủy ban nhân dân xã: hạn ngày ba mươi tháng chín năm hai nghìn không trăm hai mươi ba, "
        "gọi một không hai hai. Phí năm mươi nghìn đồng."
    )


def test_normalize_matching_sentences_and_stdin():
    proc = _run("normalize", "--matching", "Số 5, hoà thuỷ!")
    assert proc.returncode == 0 and proc.stdout.strip() == "số năm hòa thủy"
    proc = _run("normalize", "--sentences", "Một. Hai! Ba")
    assert proc.stdout.splitlines() == ["Một.", "Hai!", "Ba"]
    proc = _run("normalize", "--south", "-", stdin="105 người")
    assert proc.stdout.strip() == "một trăm lẻ năm người"


def test_normalize_with_a_broken_table_is_a_clear_error(tmp_path):
    bad = tmp_path / "abbr.yaml"
    bad.write_text("letters:\n  A: a\nabbreviations:\n  UBND: ủy ban\n  UBND: lặp\n", encoding="utf-8")
    proc = _run("normalize", "UBND", env={"HOTLINE_VOICE__TEXT__ABBREVIATIONS": str(bad)})
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ")
    assert f"{bad}:5" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_normalize_only_punctuation_prints_empty_line():
    proc = _run("normalize", "!!! ???")
    assert proc.returncode == 0
    assert proc.stdout.strip() == ""
