"""Prompt recordings uploaded in the console: validated, converted to 8 kHz mono, installed atomically."""

from __future__ import annotations

import asyncio

import numpy as np
import soundfile as sf

from tests.console.helpers import (
    SPEECH,
    audit_rows,
    csrf_of,
)


def _upload(console_client, key: str, name: str, data: bytes, ctype: str = "audio/wav"):
    token = csrf_of(console_client.get("/console/prompts").text)
    return console_client.post(
        f"/console/prompts/{key}/upload",
        data={"csrf": token},
        files={"file": (name, data, ctype)},
        follow_redirects=False,
    )


def test_upload_replaces_the_recording_the_ivr_plays(console_settings, logged_in):
    from ivr.prompts import Prompts

    target = console_settings.path(console_settings.ivr.prompts_dir) / "greeting.wav"
    page = logged_in.get("/console/prompts").text
    assert "greeting" in page and "Xin chào, đây là tổng đài" in page and "máy đọc" in page
    source = SPEECH / "ngoc_north_female.wav"
    original = sf.info(str(source))
    r = _upload(logged_in, "greeting", "loi-chao.wav", source.read_bytes())
    assert r.status_code == 303 and r.headers["location"].startswith("/console/prompts?saved=greeting")
    info = sf.info(str(target))
    assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16")
    assert abs(info.duration - original.duration) < 0.05
    first = target.read_bytes()
    # The IVR's prompt renderer uses the human recording (no synthesizer needed).
    chunk = asyncio.run(Prompts(console_settings, None).audio("greeting"))
    assert chunk.rate == 8000 and abs(chunk.duration_s - original.duration) < 0.05
    # A second upload (MP3 this time) replaces it; the previous one is kept, not lost.
    from voice.audio import read_audio, write_mp3

    mp3 = write_mp3(console_settings.data_dir / "x.mp3", read_audio(SPEECH / "binh_north_male.wav"))
    assert _upload(logged_in, "greeting", "x.mp3", mp3.read_bytes(), "audio/mpeg").status_code == 303
    assert target.read_bytes() != first
    assert abs(sf.info(str(target)).duration - sf.info(str(SPEECH / "binh_north_male.wav")).duration) < 0.15
    history = list((console_settings.data_dir / "console" / "prompt-history").glob("greeting-*.wav"))
    assert len(history) == 1 and history[0].read_bytes() == first
    page = logged_in.get("/console/prompts").text
    assert "giọng người" in page and "/console/prompts/greeting/audio" in page
    served = logged_in.get("/console/prompts/greeting/audio")
    assert served.status_code == 200 and served.content == target.read_bytes()
    entries = audit_rows(console_settings, "upload_prompt")
    assert [e.target for e in entries] == ["prompt:greeting", "prompt:greeting"]
    assert not list((console_settings.data_dir / "console" / "uploads").iterdir())  # temp files removed


def test_non_audio_silence_and_overlong_uploads_are_rejected(console_settings, logged_in, tmp_path):
    target = console_settings.path(console_settings.ivr.prompts_dir) / "goodbye.wav"
    r = _upload(logged_in, "goodbye", "note.wav", "đây không phải âm thanh\n".encode() * 50)
    assert r.status_code == 422 and "không phải là âm thanh" in r.text
    r = _upload(logged_in, "goodbye", "empty.wav", b"")
    assert r.status_code == 422
    silent = tmp_path / "silent.wav"
    sf.write(str(silent), np.zeros(16000, dtype=np.int16), 16000, subtype="PCM_16")
    r = _upload(logged_in, "goodbye", "silent.wav", silent.read_bytes())
    assert r.status_code == 422 and "không có tiếng" in r.text
    long = tmp_path / "long.wav"
    t = np.arange(8000 * 61) / 8000
    sf.write(str(long), (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16), 8000, subtype="PCM_16")
    r = _upload(logged_in, "goodbye", "long.wav", long.read_bytes())
    assert r.status_code == 422 and "dài quá 60 giây" in r.text
    assert not target.exists()
    r = _upload(logged_in, "khong_co_khoa", "a.wav", (SPEECH / "ly_north_female.wav").read_bytes())
    assert r.status_code == 404
    assert audit_rows(console_settings, "upload_prompt") == []
    assert not list((console_settings.data_dir / "console" / "uploads").iterdir())


def test_oversized_or_missing_upload_is_refused_before_anything_is_written(console_settings, logged_in):
    from console.edit.recordings import MAX_UPLOAD_BYTES

    token = csrf_of(logged_in.get("/console/prompts").text)
    big = b"\0" * (MAX_UPLOAD_BYTES + 200 * 1024)
    r = logged_in.post(
        "/console/prompts/goodbye/upload", data={"csrf": token}, files={"file": ("big.wav", big, "audio/wav")}
    )
    assert r.status_code == 413
    r = logged_in.post("/console/prompts/goodbye/upload", data={"csrf": token})
    assert r.status_code == 422 and "Chưa chọn tệp" in r.text
    assert not (console_settings.path(console_settings.ivr.prompts_dir) / "goodbye.wav").exists()
