"""A commune operator reads a bulletin for the commune in a real headless chromium, with a fake microphone
playing a real recording: the studio's recorder on the reading page, live progress of the mastering, the
commune's own version heard with the checks' advice, released by the commune, then what the commune's
listeners and devices get."""

from __future__ import annotations

import pytest

from tests.broadcast.catalog import add_segment
from tests.browser import chromium, log_in_on_the_way, serve
from tests.console.edit.test_takes import speech
from tests.console.helpers import PASSWORD, audit_rows
from tests.console.routes.test_radio_reading import BULLETIN, _commune_account, _with_source
from voice.audio import write_wav

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_a_commune_records_its_own_reading_in_the_browser_and_releases_it(console_settings, tmp_path):
    from web.app import create_app

    mic = write_wav(tmp_path / "mic.wav", speech())  # played in a loop by chromium's fake microphone
    flags = [
        "--use-fake-ui-for-media-stream",  # the permission prompt answered "allow"
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={mic}",
    ]
    app = create_app(console_settings)
    with serve(app) as base, chromium(flags) as browser:
        radio = app.state.broadcast
        a = radio.communes.resolve("Đô Lương")
        shared = add_segment(radio, "2026-12-03-lich-tiem-chung", title="Lịch tiêm chủng", communes=[a.code])
        _with_source(radio, shared, BULLETIN.format(title="Lịch tiêm chủng", commune="Đô Lương"))
        _commune_account(console_settings, "xa-a", a.code)
        page = browser.new_context().new_page()
        reading = f"/console/truyen-thanh/ban-tin/{shared.id}/giong-doc"
        log_in_on_the_way(page, base, reading, "xa-a", PASSWORD)
        assert "Kính thưa bà con nhân dân xã Đô Lương." in page.inner_text("#script")
        page.click("#rec-start")
        page.wait_for_selector("#rec-stop:not([disabled])", timeout=10_000)
        page.wait_for_timeout(3_000)  # the operator reads
        page.click("#rec-stop")
        page.wait_for_url("**/truyen-thanh/viec/*", timeout=30_000)
        page.wait_for_selector("#result:not([hidden])", timeout=60_000)  # live progress to the end
        # Left for later, the held reading is found again on the commune's own page.
        page.goto(f"{base}/console/truyen-thanh/xa")
        page.click("#held a")
        page.wait_for_url("**/truyen-thanh/ban-tin/*")
        assert page.inner_text("#voice") == "phát thanh viên (ghi âm trên trình duyệt)"
        # Three seconds for a whole bulletin: the studio's length check advises, it does not refuse.
        assert "có thể thiếu chữ" in page.inner_text("#reading-advice")
        own_id = int(page.url.rsplit("/", 1)[-1].split("?")[0])
        assert [s.id for s in radio.list_segments(a)] == [shared.id]  # held: the shared one still airs
        page.click("#publish button")
        page.wait_for_selector("#done")
        assert [s.id for s in radio.list_segments(a)] == [own_id]  # its listeners hear its own reading
    own = radio.get(own_id)
    assert own.commune_code == a.code and own.read_by_person and not own.held
    entries = audit_rows(console_settings, "record_reading")
    assert len(entries) == 1 and "(browser)" in entries[0].detail and f"commune={a.code}" in entries[0].detail
