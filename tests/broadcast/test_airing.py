"""Proof of airing on a real SQLite file and a PostgreSQL database: device tokens (hashed, rotated),
downloads per commune, airing confirmations (one per commune and bulletin, never in the future) and the
per-commune report."""

from __future__ import annotations

import datetime as dt

from broadcast.airing import AiringLog, bulletin_key
from broadcast.communes import load_communes
from broadcast.service import BroadcastService
from core.db import engine_for, session_factory
from hotline.db import upgrade
from tests.broadcast.catalog import add_segment
from tests.broadcast.conftest import make_settings


def test_tokens_downloads_and_confirmations(migrated_db_url, tmp_path):
    bsettings = make_settings(tmp_path, HOTLINE_DATABASE__URL=migrated_db_url)
    upgrade(bsettings.database_url)
    sessions = session_factory(engine_for(bsettings))
    svc, log = BroadcastService(bsettings, sessions), AiringLog(sessions)
    index = load_communes(bsettings.broadcast.province)
    a, b = index.resolve("Đô Lương"), index.resolve("Anh Sơn")
    generic = add_segment(svc, "chu-ky-so", communes=[a.code, b.code])
    own = add_segment(svc, "chu-ky-so--xa-do-luong", commune_code=a.code)  # A's own greeting version
    assert bulletin_key(own) == bulletin_key(generic) == "chu-ky-so"

    first = log.issue_token(a.code, "hoa")
    assert log.commune_of(first) == a.code and log.token_issued(a.code) is not None
    second = log.issue_token(a.code, "hoa")  # rotated: the old token stops working at once
    assert log.commune_of(first) is None and log.commune_of(second) == a.code
    assert log.commune_of("tt_" + "x" * 200) is None and log.commune_of("not-a-device-token") is None

    log.record_download(own, a.code)
    log.record_download(generic, a.code)
    log.record_download(generic, None)  # a listener without a token
    aired = dt.datetime(2026, 11, 25, 1, 0)
    assert log.confirm_aired(own, a.code, "device", aired) == aired
    later = log.confirm_aired(generic, a.code, "xa-do-luong", dt.datetime(2026, 11, 26, 1, 0))
    assert log.aired("chu-ky-so", a.code) == later  # the latest confirmation of the bulletin is kept
    future = dt.datetime(2999, 1, 1)
    assert log.confirm_aired(generic, b.code, "device", future) < future  # a device's clock ahead of ours

    rows = {r.commune.code: r for r in log.report("chu-ky-so", [a, b])}
    assert rows[a.code].downloads == 2 and rows[a.code].confirmed_by == "xa-do-luong"
    assert rows[b.code].downloads == 0 and rows[b.code].first_download is None
    assert log.anonymous_downloads("chu-ky-so") == 1
    assert rows[a.code].aired_by(dt.datetime(2026, 11, 26, 16, 59)) and not rows[a.code].aired_by(aired)
