"""The newsroom's forms through the real app: an uploaded bulletin previewed, mistakes explained in
Vietnamese with the typed text kept, a commune operator's "aired" button, an administrator's device token;
each audited."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.broadcast.catalog import add_segment
from tests.console.helpers import PASSWORD, add_operator, logged_in_client

UPLOADED = """---
title: Thông báo lịch tiêm chủng
date: 02/12/2026
communes: [Đô Lương]
template: thong-bao-xa
---
Trạm y tế xã tiêm chủng vào ngày 5/12/2026.
"""


@pytest.fixture
def app(console_settings):
    from web.app import create_app

    with TestClient(create_app(console_settings)) as client:
        yield client.app


_logged_in = logged_in_client


def _audit(app) -> list[tuple[str, str, str]]:
    from console.models import AuditEntry

    with app.state.sessions() as s:
        return [(e.action, e.target, e.detail) for e in s.query(AuditEntry).order_by(AuditEntry.id)]


def test_an_uploaded_bulletin_is_previewed_and_mistakes_are_explained(app, console_settings):
    add_operator(console_settings, "bien", "editor")
    client, csrf = _logged_in(app, "bien")
    r = client.post(
        "/console/truyen-thanh/soan",
        data={"csrf": csrf, "action": "preview"},
        files={"file": ("tiem-chung.md", UPLOADED.encode(), "text/markdown")},
    )
    assert r.status_code == 200
    preview = re.search(r'<section class="card" id="preview">(.*?)</section>', r.text, re.S).group(1)
    assert "xã Đô Lương" in preview and "ngày năm tháng mười hai" in preview
    # A typed bulletin with an impossible date: the parser's Vietnamese reason, the typed body kept.
    typed = {
        "csrf": csrf,
        "action": "render",
        "title": "Tin thử",
        "date": "31/02/2026",
        "body": "Nội dung giữ lại.",
    }
    r = client.post("/console/truyen-thanh/soan", data=typed)
    assert r.status_code == 422 and "không có ngày 31/02/2026" in r.text and "Nội dung giữ lại." in r.text
    error = re.search(r'id="error"[^>]*>(.*?)</p>', r.text, re.S).group(1)
    assert error.startswith("phần khai báo đầu") and ".md" not in error  # no lines the editor never saw
    r = client.post(
        "/console/truyen-thanh/soan", data={**typed, "date": "02/12/2026", "communes": "99999999"}
    )
    # A commune not in the province (a hand-made form) is refused, never widened to the whole province.
    assert r.status_code == 422 and "99999999" in r.text, r.text[-3000:]
    assert (
        app.state.broadcast.list_segments(include_hidden=True) == []
    )  # previews and refusals render nothing
    r = client.post(
        "/console/truyen-thanh/soan", data={"csrf": csrf, "action": "preview", "title": "", "body": ""}
    )
    assert r.status_code == 422 and "Hãy nhập tiêu đề và nội dung" in r.text
    assert [a for a, _t, _d in _audit(app) if a != "login"] == []


def test_a_commune_confirms_airing_and_an_administrator_makes_a_device_token(app, console_settings):
    from console.data.operators import add_operator as add
    from core.db import engine_for, session_factory

    radio, airing = app.state.broadcast, app.state.broadcast_airing
    a = radio.communes.resolve("Đô Lương")
    seg = add_segment(radio, "tiem-chung", title="Tiêm chủng", communes=[a.code])
    add(session_factory(engine_for(console_settings)), "xa-a", PASSWORD, "commune", commune_code=a.code)
    add_operator(console_settings, "hoa", "admin")
    commune, csrf = _logged_in(app, "xa-a")
    page = commune.get("/console/truyen-thanh/xa").text
    assert "Tiêm chủng" in page and "Chưa xác nhận" in page and f"/truyen-thanh/{a.slug}/rss.xml" in page
    r = commune.post(f"/console/truyen-thanh/xa/da-phat/{seg.id}", data={"csrf": csrf}, follow_redirects=True)
    assert r.status_code == 200 and "Đã phát lúc" in r.text
    assert airing.aired("tiem-chung", a.code) is not None
    admin, admin_csrf = _logged_in(app, "hoa")
    r = admin.post("/console/truyen-thanh/ma-thiet-bi", data={"csrf": admin_csrf, "commune": str(a.code)})
    token = re.search(r'<code id="token">(tt_[\w-]+)</code>', r.text).group(1)
    assert airing.commune_of(token) == a.code
    assert "Xác nhận đã phát</button>" not in r.text  # the administrator sees the page, cannot confirm for it
    entries = _audit(app)
    assert ("confirm_aired", f"bulletin:{seg.id}", f"commune={a.code}") in entries
    assert ("issue_device_token", f"commune:{a.code}", "") in entries
    assert all(token not in detail and token not in target for _a, target, detail in entries)


def test_the_province_view_counts_a_communes_own_version_under_its_bulletin(app, console_settings):
    radio = app.state.broadcast
    a, b = radio.communes.resolve("Đô Lương"), radio.communes.resolve("Anh Sơn")
    generic = add_segment(radio, "chu-ky-so", title="Chữ ký số", communes=[a.code, b.code])
    own = add_segment(radio, "chu-ky-so--xa-do-luong", title="Chữ ký số", commune_code=a.code)
    app.state.broadcast_airing.confirm_aired(own, a.code, "device")
    add_operator(console_settings, "bien", "editor")
    editor, _csrf = _logged_in(app, "bien")
    # Either segment opens the same bulletin's sheet. The stand-in segments were made in 2001: the default
    # deadline (2 working days later) has passed, so A aired late and B is missing.
    for seg in (generic, own):
        page = editor.get(f"/console/truyen-thanh/phat-song/{seg.id}").text
        assert f'id="c-{a.code}" data-standing="aired_late"' in page
        assert f'id="c-{b.code}" data-standing="missing"' in page and page.count('data-standing="') == 2
    overview = editor.get("/console/truyen-thanh/phat-song").text
    assert overview.count("Chữ ký số") == 1 and "1 / 2" in overview
