"""The catalog service: publish/replace atomically, list per commune, search, expiry, delete, prune."""

from __future__ import annotations

import datetime as dt
import errno

import pytest

from broadcast.bulletin import parse_bulletin
from broadcast.render import RenderError, RenderOptions
from broadcast.service import BroadcastService, NotFound
from core.db import engine_for, session_factory
from hotline.db import upgrade
from tests.broadcast.catalog import FUTURE, add_segment
from tests.broadcast.conftest import make_settings, short_bulletin

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("svc"))
    upgrade(settings.database_url)
    service = BroadcastService(settings, session_factory(engine_for(settings)))
    return service


@pytest.fixture(scope="module")
def published(svc):
    a = svc.publish(parse_bulletin(short_bulletin(title="Tin chung", date="2026-11-20"), "a.md"))
    b = svc.publish(
        parse_bulletin(short_bulletin(title="Tin chung", date="2026-11-20"), "a.md"),
        RenderOptions(commune="Đô Lương"),
    )
    c = svc.publish(
        parse_bulletin(
            short_bulletin(title="Tin Cửa Lò", date="2026-11-22", communes="[Cửa Lò]", priority="ưu tiên"),
            "c.md",
        )
    )
    return a, b, c


def test_lists_per_commune_newest_first_with_own_version(svc, published):
    a, b, c = published
    do_luong = svc.communes.resolve("Đô Lương")
    cua_lo = svc.communes.resolve("Cửa Lò")
    anh_son = svc.communes.resolve("Anh Sơn")
    assert [s.id for s in svc.list_segments(do_luong)] == [b.id]  # its own greeting replaces the generic one
    assert [s.id for s in svc.list_segments(cua_lo)] == [c.id, a.id]  # newest bulletin first
    assert [s.id for s in svc.list_segments(anh_son)] == [a.id]
    assert {s.id for s in svc.list_segments()} == {a.id, b.id, c.id}
    assert svc.latest(cua_lo).id == c.id and svc.latest(do_luong).id == b.id


def test_search_by_title_and_date(svc, published):
    a, b, c = published
    cua_lo = svc.communes.resolve("Cửa Lò")
    assert [s.id for s in svc.list_segments(cua_lo, "cua lo")] == [c.id]
    assert [s.id for s in svc.list_segments(cua_lo, "20/11/2026")] == [a.id]
    assert [s.id for s in svc.list_segments(cua_lo, "2026-11-22")] == [c.id]
    assert svc.list_segments(cua_lo, "không có") == []


def test_files_exist_and_match_catalog(svc, published):
    from broadcast.mp3 import sha256_file

    for seg in published:
        path = svc.path_of(seg)
        assert path.is_file() and path.stat().st_size == seg.size_bytes
        assert sha256_file(path) == seg.checksum
        assert svc.sidecar_of(seg)["title"] == seg.title


def test_failed_republish_keeps_the_previous_segment(svc, published, monkeypatch):
    import broadcast.mp3 as mp3_mod  # where segments are encoded

    a = published[0]
    before = sorted(p.name for p in svc.segments_dir.iterdir())

    def full(path, chunk, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mp3_mod, "write_mp3", full)
    with pytest.raises(RenderError, match="ổ đĩa đã đầy"):
        svc.publish(parse_bulletin(short_bulletin(title="Tin chung", date="2026-11-20"), "a.md"))
    assert sorted(p.name for p in svc.segments_dir.iterdir()) == before
    again = svc.get(a.id)
    assert again.file == a.file and again.checksum == a.checksum and svc.path_of(again).is_file()


def test_expiry_publish_date_delete_and_prune(svc, published):
    text = short_bulletin(title="Tin hết hạn", date="2026-11-01", extra="expires: 2026-11-02")
    old = svc.publish(parse_bulletin(text, "e.md"))
    future = svc.publish(
        parse_bulletin(short_bulletin(title="Tin sắp phát", extra="publish: 2099-01-01"), "f.md")
    )
    now = dt.datetime(2026, 11, 25)
    ids = {s.id for s in svc.list_segments(now=now)}
    assert old.id not in ids and future.id not in ids
    assert {old.id, future.id} <= {s.id for s in svc.list_segments(include_hidden=True, now=now)}
    removed = svc.prune(now=now)
    assert [s.id for s in removed] == [old.id]
    assert not svc.path_of(old).exists()
    with pytest.raises(NotFound):
        svc.get(old.id)
    svc.delete(future.id)
    assert not svc.path_of(future).exists()
    with pytest.raises(NotFound):
        svc.delete(future.id)


def test_republish_replaces_and_removes_old_file(svc, published):
    c = published[2]
    again = svc.publish(
        parse_bulletin(
            short_bulletin(title="Tin Cửa Lò", date="2026-11-22", communes="[Cửa Lò]", priority="ưu tiên"),
            "c.md",
        )
    )
    assert again.id == c.id and again.file != c.file
    assert svc.path_of(again).is_file() and not (svc.segments_dir / c.file).exists()


def test_catalog_rows_and_render_jobs_on_each_back_end(migrated_db_url, tmp_path):
    """The catalog's queries without rendering (stand-in files), on SQLite and on PostgreSQL."""
    settings = make_settings(tmp_path, HOTLINE_DATABASE__URL=migrated_db_url)
    upgrade(settings.database_url)
    engine = engine_for(settings)
    svc = BroadcastService(settings, session_factory(engine))
    try:
        do_luong, cua_lo = svc.communes.resolve("Đô Lương"), svc.communes.resolve("Cửa Lò")
        day = dt.date(2026, 11, 20)
        made = dt.datetime(2026, 11, 20, 1, 0)
        generic = add_segment(svc, "so-hoa", title="Số hoá", bulletin_date=day, created_at=made)
        own = add_segment(
            svc, "so-hoa--xa-do-luong", commune_code=do_luong.code, bulletin_date=day, created_at=made
        )
        later = add_segment(
            svc, "cua-lo", communes=[cua_lo.code], bulletin_date=dt.date(2026, 11, 22), created_at=made,
            expires_at=dt.datetime(2026, 11, 30),
        )  # fmt: skip
        held = add_segment(svc, "sap-phat", publish_at=FUTURE, created_at=made)
        now = dt.datetime(2026, 11, 25)
        assert [s.id for s in svc.list_segments(do_luong, now=now)] == [own.id]
        assert [s.id for s in svc.list_segments(cua_lo, now=now)] == [later.id, generic.id]
        assert [s.id for s in svc.list_segments(cua_lo, "so hoa", now=now)] == [generic.id]
        assert held.id in {s.id for s in svc.list_segments(include_hidden=True, now=now)}
        assert held.id not in {s.id for s in svc.list_segments(now=now)}
        assert svc.new_communes(7, now=dt.datetime(2026, 11, 21)) is None  # a province-wide one is new
        assert [s.id for s in svc.prune(now=dt.datetime(2026, 12, 1))] == [later.id]
        assert not svc.path_of(later).exists()
        with pytest.raises(NotFound):
            svc.get(later.id)

        first, second = svc.create_job("a.md", None), svc.create_job("b.md", "Đô Lương")
        svc._update_job(first, status="done", finished=True)
        assert svc.fail_interrupted_jobs() == 1  # the unfinished one; a boolean column on both back-ends
        jobs = {j.id: j for j in svc.jobs()}
        assert jobs[second].status == "failed" and jobs[second].finished and jobs[first].status == "done"
    finally:
        engine.dispose()
