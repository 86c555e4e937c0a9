"""Who may write, and what anyone may see: the radio API and pages through the real app and SQLite file.

Writes need the API token or a console session (never "any client on this machine"); a segment whose
publish time has not come, or that expired, is absent from every public view; links come from the settings.
"""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from hotline.db import upgrade
from tests.broadcast.catalog import FUTURE, PAST, add_segment
from tests.broadcast.conftest import make_settings
from tests.console.helpers import add_operator, login

TOKEN = "mot-ma-truy-cap-dai-du-32-ky-tu-x"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BAD_BULLETIN = b"# no front matter"  # refused with 422 once the writer check passed, nothing rendered


def _client(tmp_path, **env) -> TestClient:
    from web.app import create_app

    settings = make_settings(tmp_path, **env)
    upgrade(settings.database_url)
    return TestClient(create_app(settings))


@pytest.fixture
def open_app(tmp_path):
    """The app as shipped: no API token configured."""
    with _client(tmp_path) as client:
        yield client


@pytest.fixture
def token_app(tmp_path):
    with _client(tmp_path, HOTLINE_BROADCAST__API_TOKEN=TOKEN) as client:
        yield client


@pytest.fixture
def catalog(token_app):
    """A published segment, an embargoed one and an expired one."""
    svc = token_app.app.state.broadcast
    return {
        "current": add_segment(svc, "hien-hanh", title="Đang phát", script="Kịch bản công khai"),
        "embargoed": add_segment(svc, "chua-cong-bo", publish_at=FUTURE, script="Kịch bản chưa công bố"),
        "expired": add_segment(svc, "het-han", expires_at=PAST, script="Kịch bản đã hết hạn"),
    }


def test_without_a_token_a_local_client_may_not_publish_or_delete(open_app):
    segment = add_segment(open_app.app.state.broadcast, "mot-ban-tin")
    r = open_app.post(
        "/api/broadcast/bulletins", content=BAD_BULLETIN, headers={"content-type": "text/plain"}
    )
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "đăng nhập trang quản trị" in r.json()["error"]["message"]
    assert open_app.delete(f"/api/broadcast/segments/{segment.id}").status_code == 401
    assert open_app.get(f"/api/broadcast/segments/{segment.id}").status_code == 200  # still there
    assert open_app.post("/api/broadcast/bulletins", content=BAD_BULLETIN, headers=AUTH).status_code == 401


def test_a_console_session_may_publish_and_delete(open_app):
    settings = open_app.app.state.settings
    add_operator(settings)
    assert login(open_app).status_code == 303
    # The console's cookie is scoped to /console: an API client presents it itself.
    cookie = {"Cookie": f"hotline_console={open_app.cookies['hotline_console']}"}
    r = open_app.post("/api/broadcast/bulletins", content=BAD_BULLETIN, headers=cookie)
    assert r.status_code == 422 and "thiếu phần khai báo đầu" in r.json()["error"]["message"]
    segment = add_segment(open_app.app.state.broadcast, "xoa-bang-phien")
    assert open_app.delete(f"/api/broadcast/segments/{segment.id}", headers=cookie).status_code == 200
    forged = {"Cookie": "hotline_console=abc.def"}
    assert open_app.post("/api/broadcast/bulletins", content=BAD_BULLETIN, headers=forged).status_code == 401


def test_the_token_is_checked_exactly(token_app):
    r = token_app.post("/api/broadcast/bulletins", content=BAD_BULLETIN, headers=AUTH)
    assert r.status_code == 422
    for wrong in (f"Bearer {TOKEN}x", f"bearer {TOKEN}", TOKEN, "Bearer ", "Bearer tố".encode()):
        r = token_app.post("/api/broadcast/bulletins", content=BAD_BULLETIN, headers={"Authorization": wrong})
        assert r.status_code == 401, wrong
    assert token_app.get("/api/broadcast/jobs").status_code == 401  # jobs name uploaded files
    assert token_app.get("/api/broadcast/jobs", headers=AUTH).status_code == 200


def test_embargoed_and_expired_segments_are_absent_from_every_public_view(token_app, catalog):
    current, embargoed, expired = catalog["current"], catalog["embargoed"], catalog["expired"]
    hidden = (embargoed, expired)

    listed = token_app.get("/api/broadcast/segments").json()["segments"]
    assert [s["id"] for s in listed] == [current.id]
    assert token_app.get("/api/broadcast/segments", params={"all": "true"}).status_code == 401
    for seg in hidden:
        assert token_app.get(f"/api/broadcast/segments/{seg.id}").status_code == 404
        assert token_app.get(f"/truyen-thanh/tep/{seg.id}/{seg.file}").status_code == 404
        assert token_app.head(f"/truyen-thanh/tep/{seg.id}/{seg.file}").status_code == 404
        # A wrong file name must not reveal the segment by redirecting to the right one.
        assert token_app.get(f"/truyen-thanh/tep/{seg.id}/x.mp3", follow_redirects=False).status_code == 404
    assert "Kịch bản công khai" in token_app.get(f"/api/broadcast/segments/{current.id}").text
    assert token_app.get(f"/truyen-thanh/tep/{current.id}/{current.file}").status_code == 200

    page = token_app.get("/truyen-thanh/xa-do-luong").text
    feed = token_app.get("/truyen-thanh/xa-do-luong/rss.xml").content
    items = ET.fromstring(feed).find("channel").findall("item")
    assert [i.find("title").text for i in items] == ["Đang phát"]
    bundle = zipfile.ZipFile(
        io.BytesIO(token_app.get("/truyen-thanh/xa-do-luong/goi-ngoai-tuyen.zip").content)
    )
    assert [n for n in bundle.namelist() if n.endswith(".mp3")] == ["01-hien-hanh.mp3"]
    for seg in hidden:
        assert seg.title not in page and seg.title.encode() not in feed


def test_a_writer_sees_hidden_segments_and_they_stay_out_of_shared_caches(token_app, catalog):
    embargoed = catalog["embargoed"]
    every = token_app.get("/api/broadcast/segments", params={"all": "true"}, headers=AUTH).json()
    assert len(every["segments"]) == 3
    one = token_app.get(f"/api/broadcast/segments/{embargoed.id}", headers=AUTH).json()
    assert one["script"] == "Kịch bản chưa công bố"
    r = token_app.get(f"/truyen-thanh/tep/{embargoed.id}/{embargoed.file}", headers=AUTH)
    assert r.status_code == 200 and r.headers["cache-control"] == "private, no-store"
    r = token_app.get(f"/api/broadcast/segments/{embargoed.id}", headers={"Authorization": "Bearer sai"})
    assert r.status_code == 401


def test_links_come_from_the_settings_not_from_the_host_header(tmp_path):
    with _client(tmp_path, HOTLINE_WEB__PUBLIC_URL="https://radio.nghean.example/") as client:
        add_segment(client.app.state.broadcast, "lien-ket")
        spoofed = {"Host": "ke-gian.example"}
        feed = client.get("/truyen-thanh/xa-do-luong/rss.xml", headers=spoofed).text
        listed = client.get("/api/broadcast/segments", headers=spoofed).json()["segments"]
    assert "ke-gian" not in feed and "https://radio.nghean.example/truyen-thanh/xa-do-luong" in feed
    assert listed[0]["url"].startswith("https://radio.nghean.example/truyen-thanh/tep/")


def test_without_a_public_url_links_use_the_bind_address(tmp_path):
    with _client(tmp_path, HOTLINE_WEB__HOST="127.0.0.2", HOTLINE_WEB__PORT="8181") as client:
        add_segment(client.app.state.broadcast, "lien-ket")
        listed = client.get("/api/broadcast/segments", headers={"Host": "ke-gian.example"}).json()
    assert listed["segments"][0]["url"].startswith("http://127.0.0.2:8181/truyen-thanh/tep/")
