"""The week's share of human voice in what callers heard: figures by hand, names operators know, the page."""

from __future__ import annotations

import datetime as dt

from console.data.voice_coverage import prompt_namer, voice_coverage
from core.db import engine_for, session_factory
from ivr.store import CallStore

MONDAY = dt.datetime(2026, 11, 2, 3, 0)  # UTC


def _seed(settings, at: dt.datetime) -> CallStore:
    store = CallStore(session_factory(engine_for(settings)), settings.data_dir / "recordings")
    call = store.start_call("chan-1", "0912345678", at=at)
    store.log_play(call, "greeting", 4000, 4000, at=at)
    store.log_play(call, "greeting", 4000, 4000, at=at + dt.timedelta(days=2))
    store.log_play(call, "answer:cccd", 10_000, 0, at=at + dt.timedelta(days=3))
    store.log_play(call, "template:ticket_number", 6000, 4500, at=at + dt.timedelta(days=4))
    store.log_play(call, "text", 1000, 0, at=at + dt.timedelta(days=9))  # after the week
    return store


def test_share_overall_and_per_prompt_the_longest_heard_first(console_settings):
    store = _seed(console_settings, MONDAY)
    name = prompt_namer(
        {"greeting": "Xin chào."}, {"ticket_number": "Số phiếu: {digits}."}, lambda i: f"chủ đề {i}"
    )
    with store.factory() as s:
        cov = voice_coverage(s, MONDAY, MONDAY + dt.timedelta(days=7), name)
    assert (cov.heard_s, cov.human_s) == (24.0, 12.5)
    assert abs(cov.share - 12.5 / 24) < 1e-9
    assert [(r.prompt, r.plays, r.heard_s, r.share) for r in cov.rows] == [
        ("Câu trả lời: chủ đề cccd", 1, 10.0, 0.0),
        ("Lời nhắc số 02: “Xin chào.”", 2, 8.0, 1.0),
        ("Mẫu câu số 05: “Số phiếu: «số phiếu vừa tạo».”", 1, 6.0, 0.75),
    ]
    with store.factory() as s:
        assert voice_coverage(s, MONDAY - dt.timedelta(days=7), MONDAY, name).share is None


def test_the_dashboard_shows_the_week_share_and_table(console_settings, logged_in, monkeypatch):
    from console.routes import dashboard

    now = MONDAY + dt.timedelta(days=5)  # the page's "last 7 days" end on this fixed day
    monkeypatch.setattr(dashboard, "_now", lambda: now.replace(tzinfo=dt.UTC))
    _seed(console_settings, now - dt.timedelta(days=5))
    page = logged_in.get("/console/").text
    assert 'id="voice-coverage"' in page
    # 4 + 4 + 10 + 6 s heard in the 7 days to the fixed day, 12.5 s of it human; the later play not counted.
    assert 'id="voice-share">52%<' in page and "0,2 trên 0,4 phút" in page
    assert "Câu trả lời: thẻ căn cước" in page and "greeting" not in page and "answer:" not in page


def test_a_recorded_answer_and_keypad_menus_count_by_topic_and_menu(console_settings):
    """What the hotline logs when it plays a topic's answer from its take (share 1) and a menu."""
    store = CallStore(session_factory(engine_for(console_settings)), console_settings.data_dir / "recordings")
    call = store.start_call("chan-2", "0912345678", at=MONDAY)
    store.log_play(call, "answer:vneid", 9000, 9000, at=MONDAY)
    store.log_play(call, "menu:main", 12_000, 7000, at=MONDAY)
    store.log_play(call, "menu:1", 8000, 0, at=MONDAY)
    name = prompt_namer({}, {}, lambda i: f"chủ đề {i}")
    with store.factory() as s:
        cov = voice_coverage(s, MONDAY, MONDAY + dt.timedelta(days=1), name)
    assert [(r.prompt, r.share) for r in cov.rows] == [
        ("Danh sách phím chính", 7 / 12),
        ("Câu trả lời: chủ đề vneid", 1.0),
        ("Danh sách phím sau khi bấm phím 1", 0.0),
    ]
