"""Offline bundles: built once per catalog change, dropped when the catalog changes, within a disk budget."""

from __future__ import annotations

import io
import threading
import zipfile

import pytest
from fastapi.testclient import TestClient

from hotline.db import upgrade
from tests.broadcast.catalog import add_segment
from tests.broadcast.conftest import make_settings

COMMUNES = ("xa-do-luong", "xa-anh-son", "phuong-cua-lo", "xa-yen-thanh", "xa-quynh-luu")


def _app(tmp_path, **env):
    from web.app import create_app

    settings = make_settings(tmp_path, **env)
    upgrade(settings.database_url)
    return create_app(settings)


@pytest.fixture
def writes(monkeypatch):
    """Counts zip files opened for writing (each is one bundle built)."""
    count = [0]
    real = zipfile.ZipFile

    def counting(file, mode="r", *args, **kwargs):
        if mode == "w":
            count[0] += 1
        return real(file, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile, "ZipFile", counting)
    return count


def _zips(svc) -> list:
    return sorted(svc.bundles_dir.glob("*.zip")) if svc.bundles_dir.is_dir() else []


def test_a_bundle_is_built_once_and_then_served_from_disk(tmp_path, writes):
    app = _app(tmp_path)
    svc = app.state.broadcast
    add_segment(svc, "mot")
    with TestClient(app) as client:
        url = "/truyen-thanh/xa-do-luong/goi-ngoai-tuyen.zip"
        first = client.get(url)
        assert client.head(url).status_code == 200
        second = client.get(url)
    assert first.content == second.content and writes[0] == 1
    assert zipfile.ZipFile(io.BytesIO(first.content)).namelist()[0] == "01-mot.mp3"


def test_parallel_requests_build_one_bundle(tmp_path, writes):
    svc = _app(tmp_path).state.broadcast
    add_segment(svc, "mot")
    commune = svc.communes.by_slug("xa-do-luong")
    paths = []
    threads = [threading.Thread(target=lambda: paths.append(svc.bundle(commune))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(set(paths)) == 1 and len(paths) == 8 and writes[0] == 1


def test_a_deleted_segment_leaves_no_bundle_behind(tmp_path):
    app = _app(tmp_path)
    svc = app.state.broadcast
    keep, gone = add_segment(svc, "giu-lai"), add_segment(svc, "se-xoa")
    with TestClient(app) as client:
        for slug in COMMUNES[:3]:
            assert client.get(f"/truyen-thanh/{slug}/goi-ngoai-tuyen.zip").status_code == 200
        assert len(_zips(svc)) == 3
        svc.delete(gone.id)
        assert _zips(svc) == []  # no copy of the deleted audio stays on disk
        r = client.get("/truyen-thanh/xa-do-luong/goi-ngoai-tuyen.zip")
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert [n for n in names if n.endswith(".mp3")] == [f"01-{keep.key}.mp3"]


def test_prune_drops_bundles(tmp_path):
    svc = _app(tmp_path).state.broadcast
    add_segment(svc, "mot")
    svc.bundle(svc.communes.by_slug("xa-do-luong"))
    svc.prune()
    assert _zips(svc) == []


def test_bundles_stay_within_the_disk_budget_least_recently_served_first(tmp_path):
    # Three 150 kB segments: each commune's bundle is about 450 kB, and the budget is 1 MB.
    svc = _app(tmp_path, HOTLINE_BROADCAST__BUNDLE_CACHE_MB="1").state.broadcast
    for key in ("mot", "hai", "ba"):
        add_segment(svc, key, size=150_000)
    units = [svc.communes.by_slug(slug) for slug in COMMUNES]
    for unit in units:
        svc.bundle(unit)
        assert sum(p.stat().st_size for p in _zips(svc)) <= 1_000_000
    kept = {p.name.rsplit("-", 1)[0] for p in _zips(svc)}
    assert kept == {"xa-yen-thanh", "xa-quynh-luu"}
    svc.bundle(units[3])  # served again: now the most recent
    svc.bundle(units[0])  # rebuilt; the least recently served one goes
    assert {p.name.rsplit("-", 1)[0] for p in _zips(svc)} == {"xa-yen-thanh", "xa-do-luong"}
