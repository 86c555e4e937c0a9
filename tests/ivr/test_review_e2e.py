"""The review queue end to end: a real call the hotline does not understand, taught in headless Chromium.

A real recording over real SIP/RTP through Asterisk is not understood; it appears in "Cần xem xét" with
the audio the recognizer heard (the player's source serves real WAV bytes); the operator teaches it in
one click; the same recording called again is understood. Two calls.
"""

from __future__ import annotations

import io
import time

import pytest
import soundfile as sf
from sqlalchemy import select

from ivr.models import ReviewItem
from tests.browser import chromium, log_in_on_the_way, serve
from tests.console.helpers import PASSWORD, add_operator
from tests.ivr.test_call_e2e import SPEECH, greeted, place, wait_call_closed

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]

WRITABLE_CATALOG = True  # the hotline fixture runs on a copy of the test catalog: this test edits it
CLIP = SPEECH / "doan_south_female.wav"  # out of scope for the test catalog (test_out_of_scope_speech...)
TAUGHT = "coach"


def ask(asterisk, tmp_path):
    # Hung up once the reply (not understood, or the answer) has started: the speech turn is logged.
    script = greeted().play(CLIP).wait_for_audio(timeout=10).wait(1.0).hangup()
    place(asterisk, script, tmp_path)


def wait_for(what, check, limit_s: float = 15.0):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {limit_s} s")


def test_a_call_not_understood_is_taught_in_one_click_and_understood_next_time(hotline, asterisk, tmp_path):
    from web.app import create_app

    settings = hotline.settings
    add_operator(settings, "review", "operator")
    ask(asterisk, tmp_path)
    first = wait_call_closed(hotline)
    speech = [t for t in first.turns if t.kind == "speech"]
    assert speech and speech[0].intent is None, [(t.kind, t.intent, t.action) for t in first.turns]

    def queued():
        with hotline.factory() as s:
            return s.scalars(select(ReviewItem).where(ReviewItem.call_id == first.id)).first()

    item = wait_for("the review item", queued)
    assert item.reason == "not_understood" and item.transcript == speech[0].transcript and item.audio_path

    with serve(create_app(settings)) as base, chromium() as browser:
        page = browser.new_page()
        log_in_on_the_way(page, base, "/console/review", "review", PASSWORD)
        row = page.locator(f"#review-{item.id}")
        assert item.transcript in row.locator(".transcript").inner_text()
        assert "Không hiểu" in row.inner_text()
        # The player's source serves the audio the recognizer heard: a real WAV of the utterance.
        src = row.locator("audio").get_attribute("src")
        heard = page.request.get(base + src)
        assert heard.status == 200 and heard.headers["content-type"] == "audio/wav"
        samples, rate = sf.read(io.BytesIO(heard.body()))
        assert rate == 8000 and len(samples) / rate > 1.0
        row.locator("select").select_option(TAUGHT)
        row.locator("button.teach").click()  # the one click
        page.wait_for_url("**/console/review?status=open&done=taught")
        assert page.locator(f"#review-{item.id}").count() == 0
        page.goto(f"{base}/console/review?status=taught")
        assert "Đã dạy" in page.locator(f"#review-{item.id}").inner_text()
        page.close()

    # The running hotline reloads the catalog on its own (hot reload): the taught words now match.
    wait_for(
        "the hotline's reload",
        lambda: hotline.app.s.understanding.current()[1].match(item.transcript).intent == TAUGHT,
    )
    ask(asterisk, tmp_path)
    second = wait_call_closed(hotline)
    assert second.id != first.id
    assert [t.intent for t in second.turns if t.kind == "speech"][:1] == [TAUGHT]
    hotline.wait_idle()
