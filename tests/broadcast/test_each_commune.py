"""One bulletin for several communes, each greeted by name: the shared body is synthesized once.

Real espeak-ng renders with a spy around the real synthesizer counting what it is asked to say; the
130-commune timing is `make bench` (bench/broadcast_communes.py).
"""

from __future__ import annotations

from collections import Counter

import pytest

from broadcast.bulletin import parse_bulletin
from broadcast.render import SpeechRenderer
from broadcast.service import BroadcastService
from core.db import engine_for, session_factory
from hotline.db import upgrade
from tests.broadcast.conftest import make_settings, short_bulletin

pytestmark = pytest.mark.slow

COMMUNES = ["Anh Sơn", "Đô Lương", "Phường Cửa Lò"]


def test_the_body_is_synthesized_once_for_every_commune(tmp_path):
    # 16 kHz: the cheapest rate the renderer takes (the test counts syntheses; loudness is test_render's).
    settings = make_settings(tmp_path, HOTLINE_BROADCAST__SAMPLE_RATE="16000")
    upgrade(settings.database_url)
    svc = BroadcastService(settings, session_factory(engine_for(settings)))
    names = ", ".join(COMMUNES)
    bulletin = parse_bulletin(short_bulletin(title="Tin chung", communes=f"[{names}]"), "chung.md")
    speech = SpeechRenderer(settings, reuse=True)
    asked: Counter[str] = Counter()
    real = speech.synth.synthesize_blocking

    def spy(text, **kw):
        asked[text] += 1
        return real(text, **kw)

    speech.synth.synthesize_blocking = spy  # type: ignore[method-assign]  # the spy wraps the real engine
    try:
        segments = svc.publish_each_commune(bulletin, speech=speech)
    finally:
        speech.close()
    assert [s.commune_code for s in segments] == [17329, 17662, 16732]
    scripts = [svc.sidecar_of(s)["script"] for s in segments]
    for script, name in zip(scripts, ("xã Anh Sơn", "xã Đô Lương", "phường Cửa Lò"), strict=True):
        assert f"bà con nhân dân {name}".lower() in script.lower()
    assert max(asked.values()) == 1, asked.most_common(3)  # nothing said twice
    shared = {t for t in asked if all(t in script for script in scripts)}
    own = [{t for t in asked if t in script} - shared for script in scripts]
    assert len(shared) >= 3 and all(own)  # the title and body, and each commune's greeting
    assert len(asked) == len(shared) + sum(len(o) for o in own) == speech.synthesized
    # Each version reads the whole body: three times the shared sentences were spoken, once synthesized.
    read = sum(svc.sidecar_of(seg)["sentences"] for seg in segments)
    assert read >= 3 * len(shared) + sum(len(o) for o in own)
    for seg in segments:  # each version is mastered on its own (measured on its decoded MP3)
        assert abs(seg.loudness_lufs - settings.broadcast.loudness_target_lufs) <= 0.3
    attempts = [svc.sidecar_of(s)["mp3_attempts"] for s in segments]
    assert attempts[1:] <= [attempts[0]] * (len(attempts) - 1)  # later versions start from the first's
    # Each commune's page lists its own version, not another's.
    anh_son = svc.list_segments(svc.communes.resolve("Anh Sơn"))
    assert [s.id for s in anh_son] == [segments[0].id]
