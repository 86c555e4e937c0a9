"""Personal data on disk is the hotline user's alone: the real `hotline` command on a real data dir."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def _loose(top: Path) -> list[str]:
    """Files and directories under `top` (itself included) that group or others may read or enter."""
    out = []
    for path in [top, *top.rglob("*")]:
        st = path.lstat()
        if not stat.S_ISLNK(st.st_mode) and stat.S_IMODE(st.st_mode) & 0o077:
            out.append(f"{path.relative_to(top)} {stat.S_IMODE(st.st_mode):o}")
    return out


def test_the_database_recordings_and_logs_are_private_after_a_start(tmp_path):
    data = tmp_path / "var"
    # A data directory an earlier version left world-readable (umask 022), and a log beside it.
    old = os.umask(0o022)
    try:
        recording = data / "recordings" / "2026" / "11" / "20261130T101500-7-rec1.wav"
        recording.parent.mkdir(parents=True)
        recording.write_bytes(b"RIFF")
        tts = data / "cache" / "tts" / "ab" / "ab12.wav"  # "your ticket number is ...", synthesized
        tts.parent.mkdir(parents=True)
        tts.write_bytes(b"RIFF")
        log = tmp_path / "log" / "hotline.jsonl"
        log.parent.mkdir()
        log.write_text("{}\n")
        link = data / "asterisk" / "instance"  # leads into Asterisk's root: not ours to change
        link.parent.mkdir()
        outside = tmp_path / "elsewhere"
        outside.mkdir()
        link.symlink_to(outside)
    finally:
        os.umask(old)
    assert _loose(data)  # as left behind

    env = {
        **os.environ,
        "HOTLINE_PATHS__DATA_DIR": str(data),
        "HOTLINE_PATHS__CACHE_DIR": str(data / "cache"),
        "HOTLINE_LOGGING__JSON_FILE": str(log),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "hotline", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr

    assert (data / "hotline.db").is_file()  # created by this start: private from its first byte
    assert _loose(data) == []
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(outside.stat().st_mode) == 0o755  # the symbolic link was not followed
