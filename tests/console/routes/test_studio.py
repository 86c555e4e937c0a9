"""The recording studio over HTTP: the script sheet, takes uploaded in common formats, verdicts, saving
only once accepted (audited, previous kept), staleness after a text edit, and who may record."""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from ivr.flow.config import PROMPT_KEYS
from tests.console.edit.test_takes import speech
from tests.console.helpers import PASSWORD, ROOT, add_operator, audit_rows, csrf_of, login
from voice.audio import integrated_loudness, write_wav


@pytest.fixture
def console_settings(console_settings, tmp_path):
    """The console's settings with the prompts file copied to a temporary directory (never the repo's)."""
    copy = tmp_path / "config" / "prompts.yaml"
    copy.parent.mkdir()
    shutil.copy(ROOT / "config" / "prompts.yaml", copy)
    ivr = console_settings.ivr.model_copy(update={"prompts_file": copy})
    return console_settings.model_copy(update={"ivr": ivr})


def _encoded(tmp_path, ext: str, gain: float = 1.0) -> bytes:
    """A real recording with silence around it, encoded by ffmpeg as a browser or phone would give it."""
    wav = write_wav(tmp_path / "src.wav", speech(gain=gain))
    if ext == "wav":
        return wav.read_bytes()
    out = tmp_path / f"take.{ext}"
    codec = {"mp3": "libmp3lame", "ogg": "libopus", "webm": "libopus"}[ext]
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-v", "error", "-i", str(wav), "-c:a", codec, str(out)],
        check=True,
        timeout=60,
    )
    return out.read_bytes()


def _take(client, key: str, data: bytes, name: str, source: str = "upload"):
    token = csrf_of(client.get(f"/console/studio/{key}").text)
    return client.post(
        f"/console/studio/{key}/take",
        data={"csrf": token, "source": source},
        files={"file": (name, data, "application/octet-stream")},
        follow_redirects=False,
    )


def _draft_id(response) -> str:
    m = re.search(r"take=([0-9a-f]{16})", response.headers.get("location", ""))
    assert m, response.headers.get("location")
    return m.group(1)


def _accept(client, key: str, draft: str):
    token = csrf_of(client.get(f"/console/studio/{key}?take={draft}").text)
    return client.post(
        f"/console/studio/{key}/take/{draft}/accept", data={"csrf": token}, follow_redirects=False
    )


def _row(page: str, key: str) -> str:
    m = re.search(rf'<tr id="r-{key}".*?</tr>', page, re.S)
    assert m, key
    return m.group(0)


def _wav(response):
    data, rate = sf.read(io.BytesIO(response.content), dtype="float64")
    return data, rate


def test_the_script_sheet_lists_every_prompt_by_group_with_its_use_and_status(console_settings, logged_in):
    page = logged_in.get("/console/studio")
    assert page.status_code == 200
    # Our own script file only (printing, the microphone): the studio's policy adds exactly that.
    policy = page.headers["content-security-policy"]
    assert (
        "script-src 'self';" in policy
        and "unsafe-inline'; img" in policy
        and "script-src 'self' '" not in policy
    )
    assert "script-src" not in logged_in.get("/console/prompts").headers["content-security-policy"]
    text = page.text
    for heading in ("Lời chào, mở đầu cuộc gọi", "Chuyển máy, tổ công nghệ số", "Khi chưa hiểu, khi có lỗi"):
        assert heading in text
    assert text.index("Lời chào, mở đầu cuộc gọi") < text.index("Khi chưa hiểu, khi có lỗi")
    greeting = _row(text, "greeting")
    assert "Xin chào, đây là tổng đài" in greeting and "Lời chào đầu mỗi cuộc gọi" in greeting
    assert "chưa ghi" in greeting and "Lời nhắc số 02" in greeting
    # Every fixed prompt, then the word bank's words and the province's commune names; none recorded yet.
    assert text.index('id="r-call_too_long"') < text.index("Số đếm và chữ số") < text.index("Xã, phường")
    mot = _row(text, "so_1_mot")
    assert "mốt" in mot and "hai mươi mốt" in mot and "Từ “mốt”" in mot
    assert "Anh Sơn" in _row(text, "dd_anh_son")
    # The fixed words of sentences filled at call time and the topics' titles, each in a group of its own.
    fragments, titles = "Phần cố định của câu ghép lúc gọi", "Tên chủ đề (đọc trong câu hỏi lại"
    assert text.index('id="r-phim_chung"') < text.index(fragments) < text.index(titles) < text.index("Số đếm")
    clarify = _row(text, "mau_clarify_1")
    assert "Anh chị muốn hỏi về" in clarify and "Trong câu hỏi lại khi chưa rõ chủ đề" in clarify
    assert "Anh chị muốn hỏi về «chủ đề thứ nhất», hay về «chủ đề thứ hai»?" in clarify and "{a}" not in text
    assert "Tên chủ đề “thẻ căn cước”" in _row(text, "ten_cccd")
    rows = text.count('<tr id="r-')
    assert rows > len(PROMPT_KEYS) + 100 and "Chưa ghi</b>" not in text
    assert re.search(rf"chưa ghi <b>{rows}</b>", text)
    word = logged_in.get("/console/studio/so_1_mot")
    assert word.status_code == 200 and "<h1>Từ “mốt”" in word.text
    fragment = logged_in.get("/console/studio/mau_ticket_locked_1")
    assert fragment.status_code == 200 and "Phần câu ghép “Anh chị đã nhập sai số phiếu" in fragment.text
    assert logged_in.get("/console/studio/khong_co").status_code == 404
    css = logged_in.get("/console/console.css").text
    assert "@media print" in css and ".script-sheet .no-print" in css
    js = logged_in.get("/console/studio.js")
    assert (
        js.status_code == 200
        and "MediaRecorder" in js.text
        and js.headers["content-type"].startswith("text/javascript")
    )


def test_uploaded_mp3_and_ogg_are_checked_played_in_context_and_saved_only_when_accepted(
    console_settings, logged_in, tmp_path
):
    from ivr.prompts import Prompts

    target = console_settings.path(console_settings.ivr.prompts_dir) / "greeting.wav"
    r = _take(logged_in, "greeting", _encoded(tmp_path, "mp3"), "loi-chao.mp3")
    assert r.status_code == 303, r.text
    draft = _draft_id(r)
    assert not target.exists()  # a take is a draft until accepted
    page = logged_in.get(f"/console/studio/greeting?take={draft}").text
    assert 'id="take-ok"' in page and "Lưu bản này" in page
    audio, rate = _wav(logged_in.get(f"/console/studio/greeting/take/{draft}/audio"))
    assert rate == 16000 and audio.size / rate < speech().duration_s - 1.2  # silence trimmed
    assert abs(integrated_loudness(audio, rate) + 20.0) < 1.0
    r = _accept(logged_in, "greeting", draft)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/studio?saved=greeting")
    assert "Đã lưu bản ghi cho" in logged_in.get(r.headers["location"]).text
    info = sf.info(str(target))
    assert (info.samplerate, info.channels) == (16000, 1)
    assert _accept(logged_in, "greeting", draft).status_code == 409  # a draft is saved once
    # The hotline plays it, at 8 kHz.
    chunk = asyncio.run(Prompts(console_settings, None).audio("greeting"))
    assert chunk.rate == 8000 and abs(chunk.duration_s - info.duration) < 0.05
    sheet = logged_in.get("/console/studio").text
    assert "đã ghi" in _row(sheet, "greeting") and "Đã lưu bản ghi cho" not in sheet
    # In context: the prompt after the greeting as a caller hears it (8 kHz), greeting first.
    r = _take(logged_in, "speak_or_press", _encoded(tmp_path, "ogg"), "moi-noi.ogg", source="browser")
    second = _draft_id(r)
    alone, _ = _wav(logged_in.get(f"/console/studio/speak_or_press/take/{second}/audio"))
    context, crate = _wav(logged_in.get(f"/console/studio/speak_or_press/take/{second}/audio?context=1"))
    assert crate == 8000
    assert abs(context.size / crate - (info.duration + 0.35 + alone.size / 16000)) < 0.05
    assert np.max(np.abs(context[: int(info.duration * crate)])) > 0.1  # the greeting is heard first
    # A new greeting take replaces the first; the first is kept in the history.
    first = target.read_bytes()
    assert (
        _accept(
            logged_in, "greeting", _draft_id(_take(logged_in, "greeting", _encoded(tmp_path, "ogg"), "b.ogg"))
        ).status_code
        == 303
    )
    kept = list((console_settings.data_dir / "console" / "prompt-history").glob("greeting-*.wav"))
    assert [k.read_bytes() for k in kept] == [first]
    entries = audit_rows(console_settings, "record_prompt")
    assert [e.target for e in entries] == ["prompt:greeting", "prompt:greeting"]
    assert "(upload)" in entries[0].detail and "previous kept as greeting-" in entries[1].detail
    audit = logged_in.get("/console/audit")
    assert audit.status_code in (200, 403)  # operators do not see the audit page; admins do


def test_clipped_silent_and_non_audio_takes(console_settings, logged_in, tmp_path):
    r = _take(logged_in, "goodbye", _encoded(tmp_path, "wav", gain=12.0), "to-qua.wav")
    page = logged_in.get(r.headers["location"]).text
    assert 'data-check="clipped"' in page and "Tiếng bị vỡ" in page and "Vẫn lưu bản này" in page
    silent = tmp_path / "silent.wav"
    sf.write(str(silent), np.zeros(32000, dtype=np.int16), 16000, subtype="PCM_16")
    r = _take(logged_in, "goodbye", silent.read_bytes(), "im-lang.wav")
    draft = _draft_id(r)
    page = logged_in.get(r.headers["location"]).text
    assert "Không nghe thấy tiếng nói" in page and "/accept" not in page
    assert _accept(logged_in, "goodbye", draft).status_code == 409
    r = _take(logged_in, "goodbye", "không phải âm thanh\n".encode() * 50, "ghi-chu.webm")
    assert r.status_code == 422 and "không phải là âm thanh" in r.text
    assert not (console_settings.path(console_settings.ivr.prompts_dir) / "goodbye.wav").exists()
    assert audit_rows(console_settings, "record_prompt") == []


def test_a_text_edit_makes_the_recording_stale_until_recorded_again(console_settings, logged_in, tmp_path):
    data = _encoded(tmp_path, "wav")
    assert (
        _accept(logged_in, "goodbye", _draft_id(_take(logged_in, "goodbye", data, "a.wav"))).status_code
        == 303
    )
    waiting = _draft_id(_take(logged_in, "goodbye", data, "b.wav"))  # read from the old text
    page = logged_in.get("/console/prompts").text
    version = re.search(
        r'action="/console/prompts/goodbye/text".*?name="version" value="([^"]+)"', page, re.S
    )
    assert version
    r = logged_in.post(
        "/console/prompts/goodbye/text",
        data={
            "csrf": csrf_of(page),
            "version": version.group(1),
            "text": "Cảm ơn anh chị đã gọi tổng đài. Xin chào.",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    row = _row(logged_in.get("/console/studio").text, "goodbye")
    assert ">cũ<" in row and "Cảm ơn anh chị đã gọi tổng đài." in row
    r = _accept(logged_in, "goodbye", waiting)
    assert r.status_code == 409 and "Nội dung chữ đã thay đổi" in r.text
    assert (
        _accept(logged_in, "goodbye", _draft_id(_take(logged_in, "goodbye", data, "c.wav"))).status_code
        == 303
    )
    assert "đã ghi" in _row(logged_in.get("/console/studio").text, "goodbye")


def test_only_logged_in_accounts_with_a_recording_role_reach_the_studio(
    console_settings, console_client, tmp_path
):
    from sqlalchemy import update

    from console.models import Operator
    from core.db import engine_for, session_factory, transaction

    data = _encoded(tmp_path, "wav")
    # Logged out: pages go to the login page, audio and takes are refused, nothing is written.
    r = console_client.get("/console/studio", follow_redirects=False)
    assert r.status_code == 303 and "/console/login" in r.headers["location"]
    assert console_client.get("/console/studio/greeting/context").status_code == 401
    r = console_client.post(
        "/console/studio/greeting/take",
        data={"csrf": "x"},
        files={"file": ("a.wav", data)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "/console/login" in r.headers["location"]
    # An account of another role (the radio roles): 403 everywhere.
    add_operator(console_settings, "radio", "operator")
    with transaction(session_factory(engine_for(console_settings))) as s:
        s.execute(update(Operator).where(Operator.username == "radio").values(role="radio_editor"))
    assert login(console_client, "radio", PASSWORD).status_code == 303
    assert console_client.get("/console/studio").status_code == 403
    assert console_client.get("/console/studio/greeting").status_code == 403
    assert console_client.get("/console/studio/greeting/context").status_code == 403
    r = console_client.post(
        "/console/studio/greeting/take", data={"csrf": "x"}, files={"file": ("a.wav", data)}
    )
    assert r.status_code == 403
    assert "Phòng thu" not in console_client.get("/console/prompts").text
    # An operator with a wrong CSRF token: refused.
    console_client.cookies.clear()
    add_operator(console_settings, "lan", "operator")
    assert login(console_client).status_code == 303
    r = console_client.post(
        "/console/studio/greeting/take", data={"csrf": "sai"}, files={"file": ("a.wav", data)}
    )
    assert r.status_code == 403
    draft = _draft_id(_take(console_client, "greeting", data, "a.wav"))
    r = console_client.post(f"/console/studio/greeting/take/{draft}/accept", data={"csrf": "sai"})
    assert r.status_code == 403
    assert not (console_settings.path(console_settings.ivr.prompts_dir) / "greeting.wav").exists()
    assert console_client.get("/console/studio/khong_co/take/0123456789abcdef/audio").status_code == 404


def test_topic_answers_are_listed_recorded_and_flagged_on_the_topic_page_after_an_edit(client, tmp_path):
    from tests.console.intent_helpers import form_of, post

    sheet = client.get("/console/studio").text
    # After the fixed prompts, before the word bank: answers, follow-ups, the keypad menu's lines.
    assert (
        sheet.index('id="r-call_too_long"')
        < sheet.index("Câu trả lời theo chủ đề")
        < sheet.index("Câu hỏi tiếp sau câu trả lời")
        < sheet.index("Các dòng của danh sách phím")
        < sheet.index("Số đếm và chữ số")
    )
    row = _row(sheet, "tl_cccd")
    assert "Khi người gọi hỏi về thẻ căn cước" in row and "chưa ghi" in row and "căn cước" in row
    assert "nhấn phím 1" in _row(sheet, "phim_cccd") and "tl_cccd" not in re.sub(r"<[^>]+>", "", row)
    page = client.get("/console/studio/tl_cccd")
    assert page.status_code == 200 and "Câu trả lời: khi người gọi hỏi về thẻ căn cước" in page.text

    data = _encoded(tmp_path, "wav")
    assert _accept(client, "tl_cccd", _draft_id(_take(client, "tl_cccd", data, "a.wav"))).status_code == 303
    assert "đã ghi" in _row(client.get("/console/studio").text, "tl_cccd")
    assert 'id="recording-stale"' not in client.get("/console/intents/cccd").text
    # The sentence tester: the topic's answer is now read whole from the take.
    page = client.get("/console/intents").text
    tried = client.post("/console/intents/try", data={"csrf": csrf_of(page), "text": "tôi muốn làm căn cước"})
    assert "Tổng đài sẽ đọc câu trả lời" in tried.text and "Cả câu được đọc bằng giọng ghi âm." in tried.text

    # The answer is edited: the take no longer says what callers are told.
    form = form_of(client.get("/console/intents/cccd").text)
    r = post(client, "cccd", form | {"do": "save", "answer": form["answer"] + " Xin cảm ơn anh chị."})
    assert r.status_code == 303, r.text
    topic = client.get("/console/intents/cccd?saved=1").text
    notice = re.search(r'id="recording-stale".*?</div>', topic, re.S)
    assert notice and "Bản ghi giọng người đã cũ" in notice.group(0)
    assert 'href="/console/studio#r-tl_cccd"' in notice.group(
        0
    ) and 'href="/console/studio/tl_cccd"' in notice.group(0)
    assert ">cũ<" in _row(client.get("/console/studio").text, "tl_cccd")
    assert "hoi_cccd" not in notice.group(0)  # the follow-up was not recorded: nothing stale there
