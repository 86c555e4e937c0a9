"""Pages, feed, downloads (ranges, conditional GET), bundle and API through the real FastAPI app."""

from __future__ import annotations

import io
import time
import zipfile
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from broadcast.render import RenderOptions
from hotline.db import upgrade
from tests.broadcast.conftest import make_settings, short_bulletin

pytestmark = pytest.mark.slow

TOKEN = "mot-ma-truy-cap-dai-du-32-ky-tu-x"
AUTH = {"Authorization": f"Bearer {TOKEN}"}  # writes need the token (or a console session)


@pytest.fixture(scope="module")
def app_and_segments(tmp_path_factory):
    from web.app import create_app

    settings = make_settings(tmp_path_factory.mktemp("web"), HOTLINE_BROADCAST__API_TOKEN=TOKEN)
    upgrade(settings.database_url)
    app = create_app(settings)
    svc = app.state.broadcast
    general = svc.publish(
        svc.parse(short_bulletin(title="Dịch vụ công trực tuyến", date="2026-11-20"), "a.md")
    )
    urgent = svc.publish(
        svc.parse(short_bulletin(title="Cảnh giác lừa đảo", date="2026-11-24", priority="khẩn cấp"), "b.md"),
        RenderOptions(commune="Đô Lương"),
    )
    with TestClient(app) as client:
        yield client, svc, general, urgent


def test_index_lists_and_searches_communes(app_and_segments):
    client = app_and_segments[0]
    r = client.get("/truyen-thanh/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.text.count("<li data-name=") == 130
    r = client.get("/truyen-thanh/", params={"q": "do luong"})
    assert "Xã Đô Lương" in r.text and "Phường Cửa Lò" not in r.text
    assert client.get("/truyen-thanh", follow_redirects=False).status_code == 308


def test_commune_page(app_and_segments):
    client, svc, general, urgent = app_and_segments
    r = client.get("/truyen-thanh/xa-do-luong")
    assert r.status_code == 200 and 'lang="vi"' in r.text
    page = r.text
    assert page.index("Cảnh giác lừa đảo") < page.index("Dịch vụ công trực tuyến")  # newest first
    assert "Khẩn cấp" in page and f'src="/truyen-thanh/tep/{urgent.id}/{urgent.file}"' in page
    assert "<script" not in page  # light pages: no JavaScript at all
    assert len(r.content) < 20_000
    r = client.get("/truyen-thanh/xa-do-luong", params={"q": "20/11/2026"})
    assert "Dịch vụ công trực tuyến" in r.text and "Cảnh giác lừa đảo" not in r.text
    other = client.get("/truyen-thanh/xa-anh-son").text
    assert "Dịch vụ công trực tuyến" in other and "Cảnh giác lừa đảo" not in other


def test_unknown_commune_page_is_a_vietnamese_404(app_and_segments):
    client = app_and_segments[0]
    r = client.get("/truyen-thanh/xa-khong-co", headers={"accept": "text/html"})
    assert r.status_code == 404 and "Không có xã, phường" in r.text


def test_download_ranges_and_conditional_get(app_and_segments):
    client, svc, general, _ = app_and_segments
    url = f"/truyen-thanh/tep/{general.id}/{general.file}"
    data = svc.path_of(general).read_bytes()
    r = client.get(url)
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "audio/mpeg" and r.headers["accept-ranges"] == "bytes"
    etag, last_modified = r.headers["etag"], r.headers["last-modified"]
    assert etag == f'"{general.checksum[:32]}"'

    r = client.get(url, headers={"Range": "bytes=100-1099"})
    assert r.status_code == 206 and r.content == data[100:1100]
    assert r.headers["content-range"] == f"bytes 100-1099/{len(data)}"
    r = client.get(url, headers={"Range": "bytes=-500"})
    assert r.status_code == 206 and r.content == data[-500:]
    r = client.get(url, headers={"Range": f"bytes={len(data) + 10}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{len(data)}"

    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status_code == 200

    head = client.head(url)
    assert (
        head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) == len(data)
    )
    r = client.get(url, params={"tai-ve": "1"})
    assert r.headers["content-disposition"].startswith("attachment")
    assert client.get(f"/truyen-thanh/tep/{general.id}/khac.mp3", follow_redirects=False).status_code == 301
    assert client.get("/truyen-thanh/tep/9999/x.mp3").status_code == 404


def test_feed(app_and_segments):
    client, svc, general, urgent = app_and_segments
    r = client.get("/truyen-thanh/xa-do-luong/rss.xml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/rss+xml")
    items = ET.fromstring(r.content).find("channel").findall("item")
    assert [i.find("category").text for i in items] == ["emergency", "normal"]
    for item, seg in zip(items, (urgent, general), strict=True):
        enc = item.find("enclosure")
        assert int(enc.get("length")) == svc.path_of(seg).stat().st_size
        path = enc.get("url").split("://", 1)[1].split("/", 1)[1]
        assert client.get("/" + path).content == svc.path_of(seg).read_bytes()
    assert client.get("/truyen-thanh/xa-do-luong/rss.xml").content.count(b"<guid") == 2


def test_bundle(app_and_segments):
    client, svc, general, urgent = app_and_segments
    r = client.get("/truyen-thanh/xa-do-luong/goi-ngoai-tuyen.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    names = zf.namelist()
    assert names[0].startswith("01-2026-11-24-canh-giac-lua-dao") and names[1].startswith("02-2026-11-20")
    assert zf.read(names[0]) == svc.path_of(urgent).read_bytes()
    playlist = zf.read("danh-sach-phat.m3u").decode()
    assert playlist.startswith("#EXTM3U") and names[0] in playlist
    schedule = zf.read("lich-phat-song.txt").decode("utf-8-sig")
    assert "Cảnh giác lừa đảo" in schedule and "PHÁT NGAY" in schedule and "Xã Đô Lương".upper() in schedule


def test_api_list_get_and_communes(app_and_segments):
    client, svc, general, urgent = app_and_segments
    r = client.get("/api/broadcast/segments", params={"commune": "Đô Lương"})
    assert [s["id"] for s in r.json()["segments"]] == [urgent.id, general.id]
    one = client.get(f"/api/broadcast/segments/{urgent.id}").json()
    assert one["priority"] == "emergency" and "xã Đô Lương" in one["script"]
    assert client.get("/api/broadcast/segments/9999").status_code == 404
    assert client.get("/api/broadcast/segments", params={"commune": "Không Có"}).status_code == 404
    communes = client.get("/api/broadcast/communes", params={"q": "cua lo"}).json()
    assert [c["slug"] for c in communes["communes"]] == ["phuong-cua-lo"]


def test_api_upload_render_job_and_delete(app_and_segments):
    client, svc, *_ = app_and_segments
    old_bundle = client.get("/truyen-thanh/xa-anh-son/goi-ngoai-tuyen.zip")
    assert old_bundle.status_code == 200 and len(list(svc.bundles_dir.glob("xa-anh-son-*.zip"))) == 1
    text = short_bulletin(title="Tin tải lên", date="2026-11-25")
    r = client.post(
        "/api/broadcast/bulletins",
        files={"file": ("tai-len.md", text.encode(), "text/markdown")},
        params={"commune": "anh son"},
        headers=AUTH,
    )
    assert r.status_code == 202, r.text
    job_url = r.headers["location"]
    deadline = time.monotonic() + 180
    job = {}
    while time.monotonic() < deadline:
        job = client.get(job_url, headers=AUTH).json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.5)
    assert job["status"] == "done", job
    assert job["progress"] == 1.0 and job["total"] > 0
    assert list(svc.bundles_dir.glob("*.zip")) == []  # the publish dropped the bundles it outdated
    seg = client.get(f"/api/broadcast/segments/{job['segment_id']}").json()
    assert seg["title"] == "Tin tải lên" and seg["commune_code"] == svc.communes.resolve("Anh Sơn").code
    assert "Tin tải lên" in client.get("/truyen-thanh/xa-anh-son").text
    assert client.delete(f"/api/broadcast/segments/{seg['id']}").status_code == 401
    assert client.delete(f"/api/broadcast/segments/{seg['id']}", headers=AUTH).status_code == 200
    assert client.get(f"/api/broadcast/segments/{seg['id']}").status_code == 404
    assert "Tin tải lên" not in client.get("/truyen-thanh/xa-anh-son").text


def test_api_rejects_bad_bulletins_with_reasons(app_and_segments):
    client = app_and_segments[0]
    r = client.post("/api/broadcast/bulletins", headers=AUTH, content="# Không có front matter\n".encode())
    assert r.status_code == 422 and "thiếu phần khai báo đầu" in r.json()["error"]["message"]
    r = client.post(
        "/api/broadcast/bulletins", headers=AUTH, content=short_bulletin(communes="[Đô Lươnh]").encode()
    )
    assert r.status_code == 422 and "có phải: Xã Đô Lương" in r.json()["error"]["message"]
    r = client.post(
        "/api/broadcast/bulletins",
        content=short_bulletin().encode(),
        params={"commune": "Không Có"},
        headers=AUTH,
    )
    assert r.status_code == 422
    big = b"x" * 300_000
    assert client.post("/api/broadcast/bulletins", headers=AUTH, content=big).status_code == 413
    assert client.post("/api/broadcast/bulletins", headers=AUTH, content=b"\xff\xfe").status_code == 422


def test_api_token(tmp_path):
    from web.app import create_app

    settings = make_settings(tmp_path, HOTLINE_BROADCAST__API_TOKEN="s3cret")
    upgrade(settings.database_url)
    with TestClient(create_app(settings)) as client:
        body = b"# no front matter"
        assert client.post("/api/broadcast/bulletins", content=body).status_code == 401
        r = client.post("/api/broadcast/bulletins", content=body, headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 422
        assert client.delete("/api/broadcast/segments/1").status_code == 401


def test_readings_interrupted_by_a_restart_are_reported_failed(tmp_path):
    from web.app import create_app

    settings = make_settings(tmp_path, HOTLINE_BROADCAST__API_TOKEN=TOKEN)
    upgrade(settings.database_url)
    first = create_app(settings)
    job_id = first.state.broadcast.create_job("x.md", None)  # queued, then the process "dies"
    with TestClient(create_app(settings)) as client:
        job = client.get(f"/api/broadcast/jobs/{job_id}", headers=AUTH).json()
    assert job["status"] == "failed" and "bị gián đoạn" in job["message"]


def test_a_fan_out_queued_when_the_process_died_renders_every_commune_at_the_next_start(tmp_path):
    """In-process (SQLite): the API's render job is stored with its row; the next app's start runs it, and
    the fan-out's first version queues one job for the other commune."""
    from broadcast.communes import load_communes
    from web.app import create_app

    settings = make_settings(tmp_path, HOTLINE_BROADCAST__API_TOKEN=TOKEN)
    upgrade(settings.database_url)
    first = create_app(settings)
    first.state.job_runner.close()  # the process dies before its render thread takes the job
    text = short_bulletin(title="Tin hai xã", communes="[Anh Sơn, Đô Lương]").encode()
    r = TestClient(first).post("/api/broadcast/bulletins?each=true", content=text, headers=AUTH)
    assert r.status_code == 202, r.text
    job_id = r.json()["job"]
    refused = TestClient(first).post(
        "/api/broadcast/bulletins?each=true&commune=Anh%20S%C6%A1n", content=text, headers=AUTH
    )
    assert refused.status_code == 422
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 120
        while (job := client.get(f"/api/broadcast/jobs/{job_id}", headers=AUTH).json())["status"] != "done":
            assert job["status"] in ("queued", "running"), job
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
        assert (job["done"], job["total"]) == (2, 2)
        segments = client.get("/api/broadcast/segments?all=true", headers=AUTH).json()
    index = load_communes(settings.broadcast.province)
    own = {index.by_code(s["commune_code"]).name for s in segments["segments"] if s.get("commune_code")}
    assert own == {"Xã Anh Sơn", "Xã Đô Lương"}
