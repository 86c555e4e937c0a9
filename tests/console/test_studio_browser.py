"""The recording studio in a real headless chromium with a fake microphone playing a real recording:
record a take, hear the verdicts, save it; the script sheet prints as a plain reading script."""

from __future__ import annotations

import pytest
import soundfile as sf

from tests.browser import chromium, log_in_on_the_way, serve
from tests.console.edit.test_takes import speech
from tests.console.helpers import PASSWORD, add_operator, audit_rows
from voice.audio import write_wav

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_operator_records_a_take_with_the_microphone_and_saves_it(console_settings, tmp_path):
    from web.app import create_app

    add_operator(console_settings, "lan", "operator")
    mic = write_wav(tmp_path / "mic.wav", speech())  # played in a loop by chromium's fake microphone
    flags = [
        "--use-fake-ui-for-media-stream",  # the permission prompt answered "allow"
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={mic}",
    ]
    target = console_settings.path(console_settings.ivr.prompts_dir) / "greeting.wav"
    with serve(create_app(console_settings)) as base, chromium(flags) as browser:
        page = browser.new_context().new_page()
        log_in_on_the_way(page, base, "/console/studio/greeting", "lan", PASSWORD)
        assert "Xin chào, đây là tổng đài" in page.inner_text(".read.big")
        page.click("#rec-start")
        page.wait_for_selector("#rec-stop:not([disabled])", timeout=10_000)
        page.wait_for_timeout(3_500)  # the operator reads for a few seconds
        page.click("#rec-stop")
        page.wait_for_url("**take=*", timeout=30_000)
        take = page.inner_text("#take")
        assert "ghi bằng trình duyệt" in take
        assert "Không nghe thấy tiếng nói" not in take and "Tiếng bị vỡ" not in take
        assert not target.exists()  # nothing callers hear changes before the operator accepts
        page.click("#accept")
        page.wait_for_url("**/console/studio?saved=greeting*")
        assert "đã ghi" in page.inner_text("#r-greeting")
        # The sheet prints as a reading script: no menu, buttons or links to record, every sentence.
        page.emulate_media(media="print")
        assert not page.is_visible("header") and not page.is_visible("[data-print]")
        assert page.is_visible("#r-goodbye") and not page.is_visible("#r-goodbye a")
    info = sf.info(str(target))
    assert info.samplerate == 16000 and 1.0 < info.duration < 4.2
    entries = audit_rows(console_settings, "record_prompt")
    assert len(entries) == 1 and "(browser)" in entries[0].detail
