"""`hotline broadcast ...` end to end through the real command line (errors: `Lỗi: ...`, exit 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

from tests.broadcast.conftest import ROOT, short_bulletin

pytestmark = pytest.mark.slow


def run(tmp_path, *args, check=True):
    env = {
        **os.environ,
        "HOTLINE_PATHS__DATA_DIR": str(tmp_path / "var"),
        "HOTLINE_PATHS__CACHE_DIR": str(tmp_path / "var" / "cache"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "hotline", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_render_publish_list_bundle_prune(tmp_path):
    src = tmp_path / "tin.md"
    src.write_text(short_bulletin(title="Tin dòng lệnh", extra="expires: 2026-12-31"), encoding="utf-8")
    out = tmp_path / "out"
    info = json.loads(
        run(
            tmp_path,
            "broadcast",
            "render",
            str(src),
            "-o",
            str(out),
            "--commune",
            "Cửa Lò",
            "--preset",
            "broadcast",
            "--json",
        ).stdout
    )
    assert info["loudness_target_lufs"] == -23.0 and info["commune"] == "Phường Cửa Lò"
    assert sorted(p.suffix for p in out.iterdir()) == [".json", ".mp3"]

    published = run(tmp_path, "broadcast", "publish", str(src), "--commune", "Đô Lương").stdout
    assert published.startswith("đã phát hành #1 ")
    listing = run(tmp_path, "broadcast", "list", "--commune", "do luong").stdout
    assert "Tin dòng lệnh" in listing and "Xã Đô Lương" in listing
    assert (
        run(tmp_path, "broadcast", "list", "--commune", "Anh Sơn").stdout.strip()
        == "chưa có chương trình nào"
    )
    rows = json.loads(run(tmp_path, "broadcast", "list", "--json").stdout)
    assert rows[0]["title"] == "Tin dòng lệnh" and rows[0]["url"].endswith(".mp3")

    bundle_out = tmp_path / "bundles"
    bundle_out.mkdir()
    run(tmp_path, "broadcast", "bundle", "Đô Lương", "-o", str(bundle_out))
    zf = zipfile.ZipFile(bundle_out / "truyen-thanh-xa-do-luong.zip")
    assert {"danh-sach-phat.m3u", "lich-phat-song.txt"} <= set(zf.namelist()) and len(zf.namelist()) == 3

    assert "đã xóa 0 chương trình hết hạn" in run(tmp_path, "broadcast", "prune").stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("# Không có front matter\n", "thiếu phần khai báo đầu bản tin"),
        (short_bulletin(communes="[Đô Lươnh]"), "có phải: Xã Đô Lương"),
        ("---\ntitle: T\ndate: 2026-11-24\n---\n\n", "chưa có nội dung sau phần khai báo đầu"),
        ("---\ntitle: T\ndate: 2026-11-24\ntemplate: khong-co\n---\nA.\n", "không có mẫu “khong-co”"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, content, expected):
    src = tmp_path / "bad.md"
    src.write_text(content, encoding="utf-8")
    proc = run(tmp_path, "broadcast", "render", str(src), "-o", str(tmp_path / "out"), check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Lỗi: ") and expected in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_communes_and_their_codes(tmp_path):
    out = run(tmp_path, "broadcast", "communes", "anh son").stdout
    assert out.splitlines() == ["17329  Xã Anh Sơn", "17365  Xã Anh Sơn Đông"]
    every = json.loads(run(tmp_path, "broadcast", "communes", "--json").stdout)
    assert len(every) == 130 and {"code": 16732, "name": "Phường Cửa Lò"} in every
    assert run(tmp_path, "broadcast", "communes", "không có").stdout == "không có xã, phường nào phù hợp\n"


def test_dates_typed_as_people_write_them_and_mistakes_said_plainly(tmp_path):
    # In-process through the same command tree (a subprocess costs seconds each); the last one below
    # goes through the real `python -m hotline` to prove nothing else prints in between.
    from typer.testing import CliRunner

    from hotline.cli import app

    env = {
        "HOTLINE_PATHS__DATA_DIR": str(tmp_path / "var"),
        "HOTLINE_PATHS__CACHE_DIR": str(tmp_path / "var" / "cache"),
    }
    runner = CliRunner()
    src = tmp_path / "tin.md"
    src.write_text(short_bulletin(title="Lịch tiêm chủng", date="24/11/2026"), encoding="utf-8")
    ok = runner.invoke(app, ["broadcast", "list", "--from", "01/11/2026", "--to", "2026-11-30"], env=env)
    assert ok.exit_code == 0 and ok.stdout.strip() == "chưa có chương trình nào"

    mistakes = [
        (("list", "--from", "31/02/2026"), "--from: không có ngày 31/02/2026; ghi ngày/tháng/năm"),
        (("list", "--from", "hôm qua"), "--from: không hiểu ngày “hôm qua”"),
        (("list", "--from", "24/11/2026", "--to", "01/11/2026"), "đổi chỗ hai ngày"),
        (("render",), "thiếu tệp bản tin; xem: hotline broadcast render --help"),
        (("render", str(src), "--am-luong"), "không có tùy chọn --am-luong"),
        (("render", str(src), "--preset", "to"), "--preset: không có mức âm lượng “to”"),
        (("bundle", "Đô", "Lươnh"), "tên có dấu cách thì đặt trong ngoặc kép"),
        (("bundle", "Đô Lươnh"), "Nghệ An không có xã, phường “Đô Lươnh”; có phải: "),
        (("render", str(tmp_path / "khong-co.md")), "không tìm thấy tệp này"),
    ]
    for args, expected in mistakes:
        result = runner.invoke(app, ["broadcast", *args], env=env)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("Lỗi: ") and expected in result.stderr, (args, result.stderr)
        assert "Error" not in result.output and "Usage" not in result.output, args

    bad = tmp_path / "sai.md"
    bad.write_text(short_bulletin(date="24/13/2026", priority="gấp"), encoding="utf-8")
    proc = run(tmp_path, "broadcast", "render", str(bad), check=False)
    assert proc.returncode == 2 and proc.stderr.startswith("Lỗi: ") and "Traceback" not in proc.stderr
    assert f"{bad}:3: date (ngày của bản tin): không có ngày 24/13/2026" in proc.stderr
    assert f"{bad}:5: priority (mức ưu tiên)" in proc.stderr and "thường, ưu tiên, khẩn cấp" in proc.stderr
