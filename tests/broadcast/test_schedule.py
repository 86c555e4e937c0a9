"""Air times and the daily playlist: what each commune airs at each of its times, in Circular 39/2020's
order, with emergencies at once; the settings that say when; the playlist served as JSON and M3U."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from broadcast.models import Segment
from broadcast.schedule import airs_until, day_plan, parse_day, plan_m3u
from core.clock import today_local, zone
from core.errors import ConfigError

TZ = zone("Asia/Ho_Chi_Minh")
DAY = dt.date(2030, 1, 5)
TIMES = (dt.time(17, 0), dt.time(6, 0))  # given out of order on purpose
ROOT = Path(__file__).resolve().parents[2]


def utc(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    """A local (Vietnam) time as the database stores it: naive UTC."""
    return dt.datetime.combine(day, dt.time(hh, mm), TZ).astimezone(dt.UTC).replace(tzinfo=None)


def seg(n: int, priority: str = "normal", *, created: dt.datetime, **kw) -> Segment:
    return Segment(
        id=n, key=f"k{n}", title=f"Tin {n}", priority=priority, duration_s=61.4, file=f"{n}.mp3",
        template="chuyen-doi-so", created_at=created, **kw,
    )  # fmt: skip


def test_each_air_time_lists_what_is_due_in_airing_order():
    the_day_before = utc(DAY - dt.timedelta(days=1), 9)
    newest_first = [
        seg(1, created=utc(DAY, 10), publish_at=utc(DAY, 10)),  # published mid-morning: 17:00 only
        seg(2, "priority", created=the_day_before),
        seg(3, created=the_day_before, expires_at=utc(DAY, 12)),  # expires at noon: 06:00 only
        seg(4, "priority", created=the_day_before - dt.timedelta(hours=1)),
        seg(5, created=the_day_before, publish_at=utc(DAY + dt.timedelta(days=1), 0)),  # tomorrow
    ]
    plan = day_plan(newest_first, DAY, TIMES, TZ, now=utc(DAY, 8), emergency_hours=48)
    assert [s.time for s in plan.slots] == [dt.time(6), dt.time(17)]
    at = [s.at.isoformat() for s in plan.slots]
    assert at == ["2030-01-05T06:00:00+07:00", "2030-01-05T17:00:00+07:00"]
    assert [x.id for x in plan.slots[0].segments] == [2, 4, 3]  # priority first, newest first within
    assert [x.id for x in plan.slots[1].segments] == [2, 4, 1]  # 3 expired, 1 published since
    assert plan.play_now == []


def test_an_emergency_tops_every_air_time_and_plays_now_while_it_lasts():
    published = utc(DAY, 7, 30)
    urgent = seg(9, "emergency", created=published)  # no `expires`: lasts emergency_hours
    normal = seg(8, created=utc(DAY, 7, 45))  # newer, but only normal
    plan = day_plan([normal, urgent], DAY, TIMES, TZ, now=utc(DAY, 7, 31), emergency_hours=48)
    assert plan.play_now == [urgent]  # at once, not at the next air time
    assert [x.id for x in plan.slots[1].segments] == [9, 8]
    assert [x.id for x in plan.slots[0].segments] == []  # 06:00 was before it
    assert airs_until(urgent, 48) == published + dt.timedelta(hours=48)
    # Two days later it no longer airs, nor is played now.
    later = DAY + dt.timedelta(days=2)
    plan = day_plan([normal, urgent], later, TIMES, TZ, now=utc(later, 8), emergency_hours=48)
    assert plan.play_now == [] and [x.id for x in plan.slots[0].segments] == [9, 8]  # 06:00 < 07:30
    assert [x.id for x in plan.slots[1].segments] == [8]
    # Another day's playlist has nothing to play now; an expiry given wins over emergency_hours.
    assert day_plan([urgent], DAY + dt.timedelta(days=1), TIMES, TZ, utc(DAY, 8), 48).play_now == []
    brief = seg(10, "emergency", created=published, expires_at=utc(DAY, 12))
    assert day_plan([brief], DAY, TIMES, TZ, utc(DAY, 13), 48).play_now == []


def test_the_day_in_a_url_and_the_m3u_groups():
    assert parse_day("05-01-2030", DAY) == DAY and parse_day("hom-nay", DAY) == DAY
    for wrong in ("31-02-2030", "2030-01-05", "5-1-2030", "", "05-01-2030x"):
        assert parse_day(wrong, DAY) is None, wrong
    urgent = seg(9, "emergency", created=utc(DAY, 7))
    plan = day_plan([urgent, seg(8, created=utc(DAY, 5))], DAY, TIMES, TZ, utc(DAY, 8), 48)
    lines = plan_m3u(plan, "Lịch phát thanh Xã Anh Sơn ngày 05/01/2030", lambda s: f"http://x/{s.file}")
    assert lines.splitlines()[:5] == [
        "#EXTM3U",
        "#PLAYLIST:Lịch phát thanh Xã Anh Sơn ngày 05/01/2030",
        "#EXTGRP:Phát ngay",
        "#EXTINF:61,[Khẩn cấp] Tin 9",
        "http://x/9.mp3",
    ]
    assert "#EXTGRP:Giờ phát 06:00\n#EXTINF:61,Tin 8\nhttp://x/8.mp3" in lines


def _config_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (ROOT / "config" / "hotline.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "hotline.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_air_times_per_commune_and_mistakes_named_by_file_line_and_key(tmp_path):
    from hotline.settings import load_settings

    default = load_settings(ROOT / "config" / "hotline.yaml", env={}).broadcast.schedule
    assert default.times_for(17329) == (dt.time(6), dt.time(17))
    old = "communes: []                     # communes with"
    own = _config_with(tmp_path, old, 'communes: [{commune: 17329, times: ["18:00", "05:30"]}] #')
    schedule = load_settings(own, env={}).broadcast.schedule
    assert schedule.times_for(17329) == (dt.time(5, 30), dt.time(18))
    assert schedule.times_for(17662) == (dt.time(6), dt.time(17))
    line = next(n for n, t in enumerate(own.read_text().splitlines(), 1) if "communes: [{commune: 17329" in t)
    for wrong, words in (
        ('communes: [{commune: 99999, times: ["05:00"]}] #', "99999 is not a commune or ward of Nghệ An"),
        ('communes: [{commune: 17329, times: ["25:00"]}] #', "times"),
        ("communes: [{commune: 17329, times: [330]}] #", 'write air times in quotes, e.g. "06:00"'),
        ('communes: [{commune: 17329, times: ["06:00", "06:00"]}] #', "listed twice"),
    ):
        with pytest.raises(ConfigError) as err:
            load_settings(_config_with(tmp_path, old, wrong), env={})
        assert f"hotline.yaml:{line}: broadcast.schedule.communes" in str(err.value), str(err.value)
        assert words in str(err.value)


@pytest.fixture(scope="module")
def app_client(tmp_path_factory):
    from fastapi.testclient import TestClient

    from hotline.db import upgrade
    from tests.broadcast.conftest import make_settings
    from web.app import create_app

    settings = make_settings(
        tmp_path_factory.mktemp("schedule"),
        HOTLINE_WEB__PUBLIC_URL="http://dai.example",
        HOTLINE_BROADCAST__SCHEDULE__TIMES='["05:30", "18:00"]',
    )
    upgrade(settings.database_url)
    with TestClient(create_app(settings)) as client:
        yield client


def test_daily_playlist_json_and_m3u_for_a_commune(app_client):
    from tests.broadcast.catalog import add_segment

    svc = app_client.app.state.broadcast
    column = add_segment(
        svc, "cds", title="Chuyển đổi số tuần này", template="chuyen-doi-so", created_at=utc(DAY, 1),
        expires_at=utc(DAY, 12),
    )  # fmt: skip
    urgent = add_segment(
        svc, "lu", title="Cảnh báo lũ", priority="emergency", template="khan-cap", communes=[17329],
        created_at=utc(DAY, 9),
    )  # fmt: skip
    try:
        r = app_client.get("/truyen-thanh/xa-anh-son/lich/05-01-2030.json")
        assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
        body = r.json()
        assert body["commune"] == {"code": 17329, "name": "Xã Anh Sơn", "slug": "xa-anh-son"}
        assert body["date"] == "2030-01-05" and body["date_vi"] == "05/01/2030"
        assert [s["time"] for s in body["slots"]] == ["05:30", "18:00"]
        first, second = body["slots"]
        assert [i["title"] for i in first["items"]] == ["Chuyển đổi số tuần này"]
        assert [i["title"] for i in second["items"]] == ["Cảnh báo lũ"]  # the column expired at noon
        item = second["items"][0]
        assert item["priority_label"] == "Khẩn cấp" and item["play_now"] is True
        assert item["programme"] == "Thông báo khẩn cấp" and item["duration_s"] == 5.0
        assert item["url"] == f"http://dai.example/truyen-thanh/tep/{urgent.id}/{urgent.file}"
        assert first["items"][0]["programme"] == "Chuyên mục Chuyển đổi số"
        # Another commune: the column only (the emergency is Anh Sơn's).
        other = app_client.get("/truyen-thanh/xa-do-luong/lich/05-01-2030.json").json()
        assert [[i["id"] for i in s["items"]] for s in other["slots"]] == [[column.id], []]
        m3u = app_client.get("/truyen-thanh/xa-anh-son/lich/05-01-2030.m3u")
        assert m3u.headers["content-type"].startswith("audio/x-mpegurl")
        assert "#EXTGRP:Giờ phát 18:00\n#EXTINF:5,[Khẩn cấp] Cảnh báo lũ\n" in m3u.text
        # A device that cannot set headers: its token rides along to every file; another commune's is refused.
        token = app_client.app.state.broadcast_airing.issue_token(17329, "test")
        own = app_client.get(f"/truyen-thanh/xa-anh-son/lich/05-01-2030.json?token={token}")
        assert own.headers["cache-control"] == "private, no-cache"
        assert own.json()["slots"][1]["items"][0]["url"].endswith(f"/{urgent.file}?token={token}")
        assert (
            f"{urgent.file}?token={token}\n"
            in app_client.get(f"/truyen-thanh/xa-anh-son/lich/05-01-2030.m3u?token={token}").text
        )
        assert app_client.get(f"/truyen-thanh/xa-do-luong/lich/hom-nay.m3u?token={token}").status_code == 403
        today = app_client.get("/truyen-thanh/xa-anh-son/lich/hom-nay.json").json()["date"]
        assert today in {today_local(TZ).isoformat(), (today_local(TZ) - dt.timedelta(days=1)).isoformat()}
        for path in ("/truyen-thanh/xa-anh-son/lich/31-02-2030.json", "/truyen-thanh/khong/lich/hom-nay.m3u"):
            r = app_client.get(path)
            assert r.status_code == 404 and "không" in r.json()["error"]["message"].lower(), path
        page = app_client.get("/truyen-thanh/xa-anh-son").text
        assert "Giờ phát hằng ngày: <strong>05:30, 18:00</strong>" in page
        assert 'value="http://dai.example/truyen-thanh/xa-anh-son/lich/hom-nay.m3u"' in page
        # The old playlist of current segments still answers.
        assert app_client.get("/truyen-thanh/xa-anh-son/danh-sach-phat.m3u").text.startswith("#EXTM3U")
        doc = app_client.get("/api/openapi.json").json()
        op = doc["paths"]["/truyen-thanh/{slug}/lich/{day}.json"]["get"]
        ref = {
            code: r["content"]["application/json"]["schema"]["$ref"]
            for code, r in op["responses"].items()
            if code in ("200", "404")
        }
        assert ref["200"].endswith("/DayPlaylistOut") and ref["404"].endswith("/ErrorBody")
    finally:
        svc.delete(column.id)
        svc.delete(urgent.id)
