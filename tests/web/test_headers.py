"""Security headers on radio pages, feeds, audio, the API, the console and error pages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hotline.db import upgrade
from tests.broadcast.catalog import add_segment
from tests.broadcast.conftest import make_settings


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from web.app import create_app

    settings = make_settings(tmp_path_factory.mktemp("headers"))
    upgrade(settings.database_url)
    app = create_app(settings)
    seg = add_segment(app.state.broadcast, "mot")
    with TestClient(app) as c:
        c.segment_url = f"/truyen-thanh/tep/{seg.id}/{seg.file}"
        yield c


PATHS = [
    "/",
    "/truyen-thanh/",
    "/truyen-thanh/xa-do-luong",
    "/truyen-thanh/xa-do-luong/rss.xml",
    "/truyen-thanh/xa-do-luong/goi-ngoai-tuyen.zip",
    "/truyen-thanh/style.css",
    "/api/broadcast/segments",
    "/api/openapi.json",
    "/console/login",
    "/console/calls",  # a redirect to the login page
    "/truyen-thanh/xa-khong-co",  # a 404 page
    "/healthz",
]


@pytest.mark.parametrize("path", [*PATHS, "segment"])
def test_every_response_carries_the_security_headers(client, path):
    r = client.get(client.segment_url if path == "segment" else path, follow_redirects=False)
    assert r.status_code < 500
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    policy = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    if path == "/truyen-thanh/":  # the commune list's filter: our own script file, nothing inline
        script_rule = policy.split("script-src")[1].split(";")[0]
        assert script_rule.strip() == "'self'"
    else:
        assert "script-src" not in policy  # our other pages run no script at all


def test_the_api_docs_page_may_run_our_own_scripts_and_nothing_else(client):
    policy = client.get("/api/docs").headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-inline' https" not in policy
    assert "http" not in policy  # no other site, no CDN
    assert "frame-ancestors 'none'" in policy


def test_an_unhandled_error_page_carries_them_too(tmp_path):
    from web.app import create_app

    settings = make_settings(tmp_path)
    upgrade(settings.database_url)
    app = create_app(settings)

    def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/boom", boom)
    r = TestClient(app, raise_server_exceptions=False).get("/boom", headers={"accept": "text/html"})
    assert r.status_code == 500 and "Đã có lỗi xảy ra" in r.text
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_a_response_s_own_value_is_kept():
    from starlette.responses import PlainTextResponse

    from web.headers import SecurityHeaders

    own = PlainTextResponse("x", headers={"X-Frame-Options": "SAMEORIGIN"})
    r = TestClient(SecurityHeaders(own)).get("/")
    assert r.headers["x-frame-options"] == "SAMEORIGIN" and r.headers["x-content-type-options"] == "nosniff"
