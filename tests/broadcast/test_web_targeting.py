"""Targeting through the real app and SQLite file: a bulletin for chosen communes is on their pages and
feeds only, the province page lists it with its communes, the commune list marks what is new; each
commune page gives its keypad code and how to subscribe. Catalog rows with stand-in audio (no render)."""

from __future__ import annotations

import datetime as dt
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from broadcast.service import utcnow
from hotline.db import upgrade
from tests.broadcast.catalog import add_segment
from tests.broadcast.conftest import make_settings

ANH_SON, DO_LUONG, CUA_LO, YEN_THANH = 17329, 17662, 16732, 17506
BASE = "http://dai.nghean.example"


@pytest.fixture(scope="module")
def radio(tmp_path_factory):
    from web.app import create_app

    settings = make_settings(
        tmp_path_factory.mktemp("targeting"),
        HOTLINE_WEB__PUBLIC_URL=BASE,
        HOTLINE_BROADCAST__PHONE_NUMBER="0238 1022",
    )
    upgrade(settings.database_url)
    app = create_app(settings)
    svc = app.state.broadcast
    recent = utcnow() - dt.timedelta(days=1)  # relative to the run, so no calendar date matters
    rows = {
        "two": add_segment(
            svc,
            "2026-11-24-tiem-chung",
            title="Lịch tiêm chủng",
            communes=[ANH_SON, DO_LUONG],
            template="thong-bao-xa",
            created_at=recent,
            bulletin_date=dt.date(2026, 11, 24),
        ),
        "own": add_segment(
            svc,
            "2026-11-24-tiem-chung--phuong-cua-lo",
            title="Lịch tiêm chủng",
            communes=[CUA_LO],
            commune_code=CUA_LO,
            template="thong-bao-xa",
            created_at=recent,
            bulletin_date=dt.date(2026, 11, 24),
        ),
        "old": add_segment(
            svc,
            "2001-01-01-bao-lu",
            title="Cảnh báo lũ",
            communes=[YEN_THANH],
            priority="emergency",
            template="khan-cap",
        ),
    }
    with TestClient(app) as client:
        yield client, rows


def test_a_bulletin_for_two_communes_is_on_their_pages_and_feeds_only(radio):
    client, rows = radio
    for slug, listed in (("xa-anh-son", True), ("xa-do-luong", True), ("xa-yen-thanh", False)):
        page = client.get(f"/truyen-thanh/{slug}").text
        assert ("Lịch tiêm chủng" in page) is listed, slug
        feed = ET.fromstring(client.get(f"/truyen-thanh/{slug}/rss.xml").content)
        titles = [i.findtext("title") for i in feed.iter("item")]
        assert ("Lịch tiêm chủng" in titles) is listed, slug
        m3u = client.get(f"/truyen-thanh/{slug}/danh-sach-phat.m3u").text
        assert (f"{BASE}/truyen-thanh/tep/{rows['two'].id}/" in m3u) is listed, slug
    page = client.get("/truyen-thanh/xa-anh-son").text
    assert "Thông báo của xã, phường" in page and "Chuyển đổi số" not in page  # its column, by name
    yen_thanh = client.get("/truyen-thanh/xa-yen-thanh/rss.xml").text
    assert "[KHẨN CẤP] Cảnh báo lũ" in yen_thanh and "Chuyển đổi số" not in yen_thanh


def test_the_province_page_lists_each_bulletin_with_its_communes(radio):
    client, _ = radio
    page = client.get("/truyen-thanh/").text
    listing = page[page.index('id="ban-tin"') :]
    assert listing.count("Lịch tiêm chủng") == 1  # Cửa Lò's own greeting version is the same bulletin
    entry = listing[listing.index("Lịch tiêm chủng") : listing.index("Cảnh báo lũ")]
    for slug, name in (
        ("phuong-cua-lo", "Phường Cửa Lò"),
        ("xa-anh-son", "Xã Anh Sơn"),
        ("xa-do-luong", "Xã Đô Lương"),
    ):
        assert f'<a href="/truyen-thanh/{slug}">{name}</a>' in entry
    assert "Yên Thành" not in entry and "tất cả xã" not in entry
    assert "Khẩn cấp" in listing and "Thông báo khẩn cấp" in listing


def test_the_commune_list_marks_what_is_new(radio):
    client, _ = radio
    page = client.get("/truyen-thanh/").text
    marked = {
        line.split('href="/truyen-thanh/')[1].split('"')[0]
        for line in page.splitlines()
        if line.lstrip().startswith("<li data-name=") and 'class="new"' in line
    }
    assert marked == {"xa-anh-son", "xa-do-luong", "phuong-cua-lo"}  # Yên Thành's is years old
    assert "trong 7 ngày qua" in page
    script = client.get("/truyen-thanh/loc-xa.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    policy = client.get("/truyen-thanh/").headers["content-security-policy"]
    assert (
        "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )
    assert "script-src" not in client.get("/truyen-thanh/xa-anh-son").headers["content-security-policy"]


def test_commune_page_gives_the_keypad_code_and_how_to_subscribe(radio):
    client, _ = radio
    page = client.get("/truyen-thanh/xa-anh-son").text
    assert '<strong class="code" id="keypad-code">17329</strong>' in page
    assert "Gọi 0238 1022, bấm phím 9, rồi bấm mã xã <strong>17329</strong> và phím thăng (#)" in page
    assert f'value="{BASE}/truyen-thanh/xa-anh-son/rss.xml"' in page
    assert f'value="{BASE}/truyen-thanh/xa-anh-son/danh-sach-phat.m3u"' in page
    for words in ("Ứng dụng podcast", "VLC", "loa truyền thanh thông minh", "gói ngoại tuyến"):
        assert words in page
    assert "<script" not in page


def test_playlist_puts_emergencies_first(radio):
    client, rows = radio
    svc = client.app.state.broadcast
    urgent = add_segment(svc, "khan-do-luong", title="Sơ tán", communes=[DO_LUONG], priority="emergency")
    try:
        m3u = client.get("/truyen-thanh/xa-do-luong/danh-sach-phat.m3u")
        assert m3u.headers["content-type"].startswith("audio/x-mpegurl")
        lines = m3u.text.splitlines()
        assert lines[0] == "#EXTM3U" and lines[1] == "#EXTINF:5,Sơ tán"
        assert lines[2] == f"{BASE}/truyen-thanh/tep/{urgent.id}/{urgent.file}"
        assert lines[3] == "#EXTINF:5,Lịch tiêm chủng"
    finally:
        svc.delete(urgent.id)


def test_new_communes_with_a_fixed_clock(radio):
    client, _ = radio
    svc = client.app.state.broadcast
    now = utcnow()
    assert svc.new_communes(7, now=now) == {ANH_SON, DO_LUONG, CUA_LO}
    assert svc.new_communes(7, now=now + dt.timedelta(days=8)) == set()
