"""Bulletins read by a person, through the real app, real files and a real recording: an editor's upload to
a held bulletin is mastered like a synthesized reading (the template's intro jingle first, the reading
after it, loudness and true peak on target), released through the same path into the commune's feed and
playlist; a commune account reads for its own commune only; what is no audio is refused in Vietnamese."""

from __future__ import annotations

import json
import re
import subprocess
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from broadcast.bulletin import parse_bulletin
from broadcast.reading import bulletin_record
from tests.broadcast.catalog import add_segment
from tests.broadcast.conftest import decode_mp3, measure
from tests.console.helpers import PASSWORD, ROOT, add_operator, audit_rows, csrf_of, logged_in_client
from voice.audio import read_audio, resample, to_mono, write_wav

RECORDING = ROOT / "tests" / "fixtures" / "speech" / "tuyen_north_male.wav"  # 4.5 s, a man reading
INTRO = ROOT / "audio_assets" / "jingles" / "intro.wav"
FRAME_S = 0.02
JOB_TIMEOUT_S = 120.0


@pytest.fixture
def app(console_settings):
    from web.app import create_app

    with TestClient(create_app(console_settings)) as client:
        yield client.app


_logged_in = logged_in_client


def _commune_account(settings, username: str, code: int) -> None:
    from console.data.operators import add_operator as add
    from core.db import engine_for, session_factory

    add(session_factory(engine_for(settings)), username, PASSWORD, "commune", commune_code=code)


def _recording(tmp_path, ext: str) -> bytes:
    """The real recording with a quiet room around it, encoded by ffmpeg (ogg: Opus, as browsers send)."""
    chunk = to_mono(read_audio(RECORDING))
    rng = np.random.default_rng(3)
    pad = rng.normal(0, 10, int(0.8 * chunk.rate))
    x = np.concatenate([pad, chunk.array().astype(np.float64), pad])
    wav = write_wav(tmp_path / "doc.wav", type(chunk).from_array(x.astype(np.int16), chunk.rate))
    if ext == "wav":
        return wav.read_bytes()
    out = tmp_path / f"doc.{ext}"
    codec = {"mp3": "libmp3lame", "ogg": "libopus"}[ext]
    cmd = ["ffmpeg", "-nostdin", "-y", "-v", "error", "-i", str(wav), "-c:a", codec, str(out)]
    subprocess.run(cmd, check=True, timeout=60)
    return out.read_bytes()


def _wait(app, location: str):
    """The render job behind a job page's address, once finished (bounded in time)."""
    job_id = location.rstrip("/").rsplit("/", 1)[-1]
    radio = app.state.broadcast
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while True:
        job = radio.job(job_id)
        if job.finished:
            assert job.status == "done", job.message
            return job
        assert time.monotonic() < deadline, f"render job still {job.status} after {JOB_TIMEOUT_S} s"
        time.sleep(0.1)


def _upload(client, seg_id: int, data: bytes, name: str):
    page = client.get(f"/console/truyen-thanh/ban-tin/{seg_id}/giong-doc")
    assert page.status_code == 200, page.text[-500:]
    return client.post(
        f"/console/truyen-thanh/ban-tin/{seg_id}/giong-doc",
        data={"csrf": csrf_of(page.text), "source": "upload"},
        files={"file": (name, data, "application/octet-stream")},
        follow_redirects=False,
    )


def _envelope(x: np.ndarray, rate: int) -> np.ndarray:
    """Level in dB per 20 ms frame (floored at -60 dB, so that silence counts as silence)."""
    n = int(rate * FRAME_S)
    frames = x[: len(x) // n * n].reshape(-1, n)
    return np.maximum(20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-9), -60.0)


def _best_match(segment: np.ndarray, part: np.ndarray) -> tuple[float, float]:
    """(highest correlation, where in seconds) of the envelope `part` slid along the envelope `segment`."""
    best, at = -1.0, 0
    for lag in range(len(segment) - len(part) + 1):
        c = float(np.corrcoef(segment[lag : lag + len(part)], part)[0, 1])
        if c > best:
            best, at = c, lag
    return best, at * FRAME_S


def _starts_with(x: np.ndarray, rate: int, jingle: np.ndarray, seconds: float = 2.5) -> float:
    """Normalized correlation of the first `seconds` of `x` with the jingle's (lags up to 60 ms)."""
    from scipy.signal import correlate

    n, reach = int(seconds * rate), int(0.06 * rate)
    ref = jingle[:n] / np.linalg.norm(jingle[:n])
    head = x[: n + reach]
    dots = correlate(head, ref, mode="valid", method="fft")
    energy = np.sqrt(np.convolve(head**2, np.ones(n), mode="valid"))
    return float(np.max(dots / energy))


def test_an_editors_reading_is_mastered_like_a_synthesized_one_and_published_the_same_way(
    app, console_settings, tmp_path
):
    add_operator(console_settings, "bien", "editor")
    editor, csrf = _logged_in(app, "bien")
    radio = app.state.broadcast
    a, b = radio.communes.resolve("Đô Lương"), radio.communes.resolve("Anh Sơn")
    # A bulletin rendered for the editor to hear (synthesized; a stand-in file: synthesis is tested apart).
    synthesized = add_segment(
        radio, "2026-12-02-chu-ky-so", title="Chữ ký số", communes=[a.code, b.code], held=True
    )
    _with_source(radio, synthesized, EDITORS.format(communes="Đô Lương, Anh Sơn"))
    seg_id = synthesized.id
    page = editor.get(f"/console/truyen-thanh/ban-tin/{seg_id}").text
    assert re.search(r'id="voice">giọng tổng hợp<', page) and "/giong-doc" in page

    reading_page = editor.get(f"/console/truyen-thanh/ban-tin/{seg_id}/giong-doc")
    assert reading_page.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self'")
    assert (
        "bà con nhân dân các xã Đô Lương và Anh Sơn" in reading_page.text
    )  # what to read, greeting included
    r = _upload(editor, seg_id, _recording(tmp_path, "ogg"), "doc.ogg")
    assert r.status_code == 303, r.text[-800:]
    assert _wait(app, r.headers["location"]).segment_id == seg_id  # the same bulletin, read by a person
    seg = radio.get(seg_id)
    assert seg.held and seg.read_by_person and seg.file != synthesized.file
    assert not (radio.segments_dir / synthesized.file).exists()  # replaced, not kept beside it

    # Mastered exactly like the synthesized version: loudness and true peak, measured here on the MP3.
    lufs, tp, duration = measure(radio.path_of(seg))
    cfg = console_settings.broadcast
    assert abs(lufs - cfg.loudness_target_lufs) <= 1.0 and tp <= cfg.true_peak_max_dbtp + 0.5, (lufs, tp)
    x, rate = decode_mp3(radio.path_of(seg))
    intro = resample(to_mono(read_audio(INTRO)), rate).array().astype(np.float64) / 32768
    assert _starts_with(x, rate, intro) > 0.9  # the template's intro jingle first
    # Then the reading: the recording's level contour is found right where the intro rings out.
    voice = to_mono(read_audio(RECORDING))
    voice_env = _envelope(voice.array().astype(np.float64) / 32768, voice.rate)
    match, at = _best_match(_envelope(x, rate), voice_env)
    intro_s = len(intro) / rate
    assert match > 0.85 and intro_s - 1.0 < at < intro_s + 0.3, (match, at)
    # Intro, the reading (trimmed to its speech, 0.1 s kept each end), the gap and the outro.
    outro_s = read_audio(ROOT / "audio_assets" / "jingles" / "outro.wav").duration_s
    expected = intro_s - 0.6 + voice.duration_s + 0.5 + outro_s
    assert abs(duration - expected) < 0.8, (duration, expected)
    sidecar = radio.sidecar_of(seg)
    assert sidecar["engine"] == "human" and sidecar["reading"]["by"] == "person"
    assert sidecar["loudness_target_lufs"] == cfg.loudness_target_lufs and sidecar["template"] == "ban-tin"
    page = editor.get(f"/console/truyen-thanh/ban-tin/{seg_id}").text
    assert re.search(r'id="voice">phát thanh viên \(tệp tải lên\)<', page)

    # Released through the same path: the commune's feed, playlist and page carry it, read by a person.
    assert f"{seg.file}" not in editor.get(f"/truyen-thanh/{a.slug}/danh-sach-phat.m3u").text
    r = editor.post(
        f"/console/truyen-thanh/ban-tin/{seg_id}/phat-hanh", data={"csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    feed = editor.get(f"/truyen-thanh/{a.slug}/rss.xml").text
    assert f"/tep/{seg_id}/{seg.file}" in feed and "Giọng đọc: phát thanh viên." in feed
    assert f"/tep/{seg_id}/{seg.file}" in editor.get(f"/truyen-thanh/{a.slug}/danh-sach-phat.m3u").text
    assert 'class="voice">phát thanh viên<' in editor.get(f"/truyen-thanh/{a.slug}").text
    assert editor.get(f"/api/broadcast/segments/{seg_id}").json()["read_by_person"] is True
    rows = [(e.action, e.target, e.detail) for e in audit_rows(console_settings, "record_reading")]
    assert len(rows) == 1 and rows[0][1] == f"bulletin:{seg_id}"
    assert re.fullmatch(r"[\d.]+ s read by a person \(upload\)(; kept despite advice)?", rows[0][2])


EDITORS = """---
title: Chữ ký số
date: 02/12/2026
template: ban-tin
communes: [{communes}]
---
Bà con dùng chữ ký số để nộp hồ sơ.
"""


def _with_source(radio, seg, text: str) -> None:
    """Give a stand-in segment the bulletin a real render keeps in its sidecar."""
    bulletin = parse_bulletin(text, "ban-tin.md")
    path = radio.segments_dir / seg.sidecar
    path.write_text(json.dumps({"script": "", "bulletin": bulletin_record(bulletin)}), encoding="utf-8")


BULLETIN = """---
title: {title}
date: 03/12/2026
template: ban-tin
communes: [{commune}]
---
Trạm y tế tiêm chủng vào sáng thứ bảy.
"""


def test_a_commune_reads_only_for_its_own_commune_and_what_is_no_audio_is_refused(
    app, console_settings, tmp_path
):
    """(A commune's own reading, recorded in the browser and released by it: test_radio_reading_browser.)"""
    radio = app.state.broadcast
    a, b = radio.communes.resolve("Đô Lương"), radio.communes.resolve("Anh Sơn")
    seg_a = add_segment(radio, "2026-12-03-lich-tiem-chung", title="Lịch tiêm chủng", communes=[a.code])
    seg_b = add_segment(radio, "2026-12-03-tiem-chung", title="Tiêm chủng", communes=[b.code])
    _with_source(radio, seg_a, BULLETIN.format(title="Lịch tiêm chủng", commune="Đô Lương"))
    _with_source(radio, seg_b, BULLETIN.format(title="Tiêm chủng", commune="Anh Sơn"))
    _commune_account(console_settings, "xa-a", a.code)
    commune, csrf = _logged_in(app, "xa-a")
    wav = _recording(tmp_path, "wav")
    # Another commune's bulletin: refused, however the form is sent.
    r = commune.post(
        f"/console/truyen-thanh/ban-tin/{seg_b.id}/giong-doc",
        data={"csrf": csrf, "source": "upload"},
        files={"file": ("doc.wav", wav, "audio/wav")},
    )
    assert r.status_code == 403 and "không dành cho xã, phường của bạn" in r.text
    assert commune.get(f"/console/truyen-thanh/ban-tin/{seg_b.id}/giong-doc").status_code == 403
    # Its own commune's bulletin: what to read greets its commune alone.
    page = commune.get(f"/console/truyen-thanh/ban-tin/{seg_a.id}/giong-doc").text
    assert "Kính thưa bà con nhân dân xã Đô Lương." in page and "bản phát cho riêng Xã Đô Lương" in page
    # A file that is no audio: refused in Vietnamese, nothing rendered.
    r = _upload(commune, seg_a.id, b"%PDF-1.4 not a sound at all\n" * 50, "cong-van.pdf")
    assert r.status_code == 422
    assert "không phải là âm thanh đọc được" in re.search(r'id="error">(.*?)</p>', r.text, re.S).group(1)
    assert radio.jobs() == [] and audit_rows(console_settings, "record_reading") == []
    # It releases nothing but its own reading (a bulletin the editors hold stays held).
    held = add_segment(radio, "chua-phat-hanh", communes=[a.code], held=True)
    r = commune.post(
        f"/console/truyen-thanh/ban-tin/{held.id}/phat-hanh", data={"csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 404 and radio.get(held.id).held


def test_a_reading_over_the_size_limit_is_refused_in_vietnamese(console_settings):
    from web.app import create_app

    small = console_settings.broadcast.model_copy(update={"reading_max_upload_mb": 1})
    with TestClient(create_app(console_settings.model_copy(update={"broadcast": small}))) as client:
        radio = client.app.state.broadcast
        seg = add_segment(radio, "2026-12-02-chu-ky-so", title="Chữ ký số", held=True)
        _with_source(radio, seg, EDITORS.format(communes="Đô Lương"))
        add_operator(console_settings, "bien", "editor")
        editor, _csrf = _logged_in(client.app, "bien")
        page = editor.get(f"/console/truyen-thanh/ban-tin/{seg.id}/giong-doc").text
        assert "tối đa 1 MB và 20 phút" in page
        # Past the limit, however little: the page says why; far past it, the body is not even read.
        r = _upload(editor, seg.id, b"\0" * (1024 * 1024 + 10 * 1024), "doc.wav")
        assert r.status_code == 422 and "Tệp quá lớn (tối đa 1 MB)." in r.text
        r = _upload(editor, seg.id, b"\0" * (1024 * 1024 + 70 * 1024), "doc.wav")
        assert r.status_code == 413 and "quá lớn" in r.text
        assert radio.jobs() == []
