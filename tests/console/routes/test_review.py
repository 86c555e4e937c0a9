"""The review queue page over real HTTP: bulk closing, one-click teaching, the audited audio."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from ivr.review_store import ReviewStore
from tests.console.helpers import csrf_of
from tests.console.intent_helpers import load
from voice.audio import AudioChunk

AT = datetime(2026, 3, 2, 8, 0)


def seed(settings, *texts: str) -> tuple[ReviewStore, list[int]]:
    from core.db import engine_for, session_factory

    store = ReviewStore(
        session_factory(engine_for(settings)), settings.data_dir / settings.ivr.review.audio_dir
    )
    audio = AudioChunk((np.ones(4000) * 1000).astype("<i2").tobytes(), 8000)
    ids = [
        store.add(
            call_id=None,
            turn_seq=1,
            at=AT,
            reason="not_understood",
            transcript=t,
            guesses=[("cccd", 0.5), ("vneid", 0.4)],
            audio=audio,
        )
        for t in texts
    ]
    return store, ids


def test_bulk_close_teach_and_listen(client, edit_settings, catalog_dir):
    from console.data.audit import recent

    store, (a, b, c) = seed(edit_settings, "câu một", "câu hai", "cấp lại thẻ căn cước bị mất ở xã")
    page = client.get("/console/review")
    assert page.status_code == 200 and "câu một" in page.text
    assert "<li>cccd" not in page.text  # guesses by title, not by id
    csrf = csrf_of(page.text)
    r = client.post(
        "/console/review",
        data={"csrf": csrf, "bulk": "out_of_scope", "ids": [str(a), str(b)]},
        follow_redirects=False,
    )
    assert r.status_code == 303 and store.get(a).status == store.get(b).status == "out_of_scope"
    assert store.get(a).resolved_by == "lan"
    r = client.post(
        "/console/review",
        data={"csrf": "wrong", "one": f"teach:{c}", f"intent-{c}": "cccd"},
        follow_redirects=False,
    )
    assert r.status_code == 403 and store.get(c).status == "open"
    r = client.post(
        "/console/review",
        data={"csrf": csrf, "one": f"teach:{c}", f"intent-{c}": "cccd"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and store.get(c).status == "taught" and store.get(c).intent == "cccd"
    assert "cấp lại thẻ căn cước bị mất ở xã" in load(catalog_dir).get("cccd").examples
    audio = client.get(f"/console/review/{c}/audio", headers={"Range": "bytes=0-"})
    assert audio.status_code in (200, 206) and audio.content[:4] == b"RIFF"
    from core.db import engine_for, session_factory

    factory = session_factory(engine_for(edit_settings))
    assert [e.target for e in recent(factory, action="listen_review_audio")] == [f"review:{c}"]
    assert recent(factory, action="edit_intent")[0].target == "intent:cccd"
    client.cookies.clear()
    assert client.get(f"/console/review/{c}/audio").status_code == 401
