from __future__ import annotations

from fastapi.testclient import TestClient

from hotline.db import upgrade
from web.app import create_app


def test_healthz_and_vietnamese_error_pages(settings):
    upgrade(settings.database_url)
    client = TestClient(create_app(settings))
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    r = client.get("/khong-co-trang-nay", headers={"accept": "text/html"})
    assert r.status_code == 404
    assert 'lang="vi"' in r.text and "Không tìm thấy trang" in r.text
    r = client.get("/api/khong-co", headers={"accept": "text/html"})
    assert r.status_code == 404 and r.json()["error"]["code"] == 404


def test_migrations_create_a_real_sqlite_file(settings):
    import sqlite3

    upgrade(settings.database_url)
    upgrade(settings.database_url)  # idempotent
    db = settings.data_dir / "hotline.db"
    assert db.is_file()
    tables = {r[0] for r in sqlite3.connect(db).execute("select name from sqlite_master where type='table'")}
    assert {"alembic_version", "app_meta"} <= tables


def test_home_page_links_the_areas(settings):
    upgrade(settings.database_url)
    r = TestClient(create_app(settings)).get("/")
    assert r.status_code == 200
    assert 'href="/truyen-thanh/"' in r.text and 'href="/console/"' in r.text
    assert r.headers["content-type"].startswith("text/html")
