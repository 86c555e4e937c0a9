"""`hotline broadcast ...` end to end through the real command line (errors: `error: ...`, exit 2)."""

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
    assert published.startswith("published #1 ")
    listing = run(tmp_path, "broadcast", "list", "--commune", "do luong").stdout
    assert "Tin dòng lệnh" in listing and "Xã Đô Lương" in listing
    assert run(tmp_path, "broadcast", "list", "--commune", "Anh Sơn").stdout.strip() == "no segments"
    rows = json.loads(run(tmp_path, "broadcast", "list", "--json").stdout)
    assert rows[0]["title"] == "Tin dòng lệnh" and rows[0]["url"].endswith(".mp3")

    bundle_out = tmp_path / "bundles"
    bundle_out.mkdir()
    run(tmp_path, "broadcast", "bundle", "Đô Lương", "-o", str(bundle_out))
    zf = zipfile.ZipFile(bundle_out / "truyen-thanh-xa-do-luong.zip")
    assert {"danh-sach-phat.m3u", "lich-phat-song.txt"} <= set(zf.namelist()) and len(zf.namelist()) == 3

    assert "0 expired segment(s) removed" in run(tmp_path, "broadcast", "prune").stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("# Không có front matter\n", "no front matter"),
        (short_bulletin(communes="[Đô Lươnh]"), "did you mean: Xã Đô Lương"),
        ("---\ntitle: T\ndate: 2026-11-24\n---\n\n", "no text after the front matter"),
        ("---\ntitle: T\ndate: 2026-11-24\ntemplate: khong-co\n---\nA.\n", "unknown template 'khong-co'"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, content, expected):
    src = tmp_path / "bad.md"
    src.write_text(content, encoding="utf-8")
    proc = run(tmp_path, "broadcast", "render", str(src), "-o", str(tmp_path / "out"), check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and expected in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_communes_and_their_codes(tmp_path):
    out = run(tmp_path, "broadcast", "communes", "anh son").stdout
    assert out.splitlines() == ["17329  Xã Anh Sơn", "17365  Xã Anh Sơn Đông"]
    every = json.loads(run(tmp_path, "broadcast", "communes", "--json").stdout)
    assert len(every) == 130 and {"code": 16732, "name": "Phường Cửa Lò"} in every
    assert run(tmp_path, "broadcast", "communes", "không có").stdout == "no commune or ward matches\n"
