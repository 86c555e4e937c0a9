"""Writes from another site's page, or through a DNS-rebinding name, are refused before any route runs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from core.config import WebSettings
from hotline.db import upgrade
from tests.broadcast.conftest import make_settings
from web.guard import same_site_write

TOKEN = "mot-ma-truy-cap-dai-du-32-ky-tu-x"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BULLETIN = "/api/broadcast/bulletins"
BAD_BULLETIN = b"# no front matter"  # 422 once through the guard and the token check: nothing rendered


@pytest.fixture
def client(tmp_path):
    from web.app import create_app

    settings = make_settings(
        tmp_path, HOTLINE_BROADCAST__API_TOKEN=TOKEN, HOTLINE_WEB__PUBLIC_URL="https://radio.nghean.example"
    )
    upgrade(settings.database_url)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8080") as c:
        yield c


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://ke-gian.example"},  # a cross-site form or fetch
        {"Origin": "null"},  # a sandboxed frame or a data: page
        {"Origin": "http://ke-gian.example:8080", "Host": "ke-gian.example:8080"},  # DNS rebinding
        {"Origin": "http://127.0.0.1:9999"},  # another service on this machine
        {"Referer": "http://ke-gian.example/trang.html"},  # an older browser sends only Referer
    ],
)
def test_a_write_from_a_foreign_page_is_refused_even_with_the_token(client, headers):
    r = client.post(BULLETIN, content=BAD_BULLETIN, headers={**AUTH, **headers, "content-type": "text/plain"})
    assert r.status_code == 403 and "trang web khác" in r.json()["error"]["message"]
    r = client.post("/console/login", data={"username": "a", "password": "b"}, headers=headers)
    assert r.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {},  # not a browser: curl, scripts (the token is what protects the route)
        {"Origin": "http://127.0.0.1:8080"},  # our own page, reached by address
        {"Origin": "https://radio.nghean.example"},  # our own page behind the TLS proxy of public_url
        {"Origin": "http://localhost:8080", "Host": "localhost:8080"},
        {"Referer": "http://127.0.0.1:8080/api/docs"},
    ],
)
def test_a_write_from_our_own_pages_or_a_plain_client_passes(client, headers):
    r = client.post(BULLETIN, content=BAD_BULLETIN, headers={**AUTH, **headers})
    assert r.status_code == 422, r.text


def test_reads_are_not_guarded(client):
    assert client.get("/truyen-thanh/", headers={"Origin": "http://ke-gian.example"}).status_code == 200


def test_same_site_write_rules():
    web = WebSettings(host="0.0.0.0", port=8080, public_url="https://tongdai.example/")
    assert same_site_write("https://tongdai.example", "127.0.0.1:8080", web)
    assert same_site_write("http://10.0.0.5:8080", "10.0.0.5:8080", web)
    assert same_site_write("http://[::1]:8080", "[::1]:8080", web)
    assert same_site_write("http://tongdai.example:8080", "tongdai.example:8080", web)
    assert not same_site_write("http://tongdai.example", "tongdai.example:8080", web)  # port differs
    assert not same_site_write("http://evil.example:8080", "evil.example:8080", web)
    assert not same_site_write("https://tongdai.example.evil.example", "127.0.0.1:8080", web)
    assert not same_site_write("file:///etc/passwd", "127.0.0.1:8080", web)
    assert not same_site_write("http://127.0.0.1:99999", "127.0.0.1:99999", web)
    plain = WebSettings()
    assert same_site_write("http://127.0.0.1:8080", "127.0.0.1:8080", plain)
    assert not same_site_write("http://tongdai.example", "tongdai.example", plain)
