"""The retention purge as the service runs it (`purge_expired`), on a real SQLite file and real files.

Ages are relative to the moment the test runs: rows and files are made old by moving their times back.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, text

from core.db import engine_for, session_factory
from hotline.db import upgrade
from hotline.service import purge_expired
from ivr import store as S
from ivr.models import Ticket
from ivr.retention import purge
from voice.audio import AudioChunk, wav_bytes

DAY = 86400.0


@pytest.fixture
def db(settings):
    upgrade(settings.database_url)
    factory = session_factory(engine_for(settings))
    return settings, factory, S.CallStore(factory, settings.data_dir / settings.ivr.recordings_dir)


def age(factory, number: str, days: int) -> None:
    with factory() as s, s.begin():
        t = s.scalar(select(Ticket).where(Ticket.number == number))
        t.created_at = t.updated_at = S.utcnow() - timedelta(days=days)


def backdate(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def tone(seconds: float = 1.0) -> AudioChunk:
    return AudioChunk.from_array((3000 * np.sin(np.arange(int(8000 * seconds)) / 3)).astype(np.int16), 8000)


def test_an_old_ticket_without_a_transcript_loses_the_callers_number_and_the_reply(db):
    settings, factory, store = db
    keyed = store.create_ticket(  # a message never transcribed (recognizer down): transcript ""
        call_id=None, caller="0912345678", reason="message", audio_path=None, duration_ms=0
    )
    store.reply_ticket(keyed, "Đã gọi lại cho anh Nam ở số 0912345678.", "closed")
    spoken = store.create_ticket(
        call_id=None, caller="0987654321", reason="feedback", audio_path=None, duration_ms=0, transcript="x"
    )
    store.reply_ticket(spoken, "Đã xử lý.")
    recent = store.create_ticket(
        call_id=None, caller="0911000222", reason="message", audio_path=None, duration_ms=0
    )
    age(factory, keyed, 400)
    age(factory, spoken, 400)

    counts = purge_expired(settings)

    assert counts["ticket_transcripts"] == 2
    for number in (keyed, spoken):
        t = store.ticket(number)
        assert (t.caller, t.latest_reply, t.transcript) == ("", "", ""), number
        assert [r.status for r in t.replies] and all(r.text == "" for r in t.replies), number
        assert t.caller_masked.endswith(("678", "321")) and t.status in ("closed", "answered")
    assert store.ticket(recent).caller == "0911000222"  # within the period: untouched
    assert purge_expired(settings)["ticket_transcripts"] == 0  # nothing left to blank


def test_a_recording_whose_ticket_could_not_be_inserted_is_not_left_behind(db):
    settings, factory, store = db
    path = store.save_recording(tone(), "7-rec1")
    with factory() as s, s.begin():  # the table is gone: every insert fails, as on a broken database
        s.execute(text("ALTER TABLE tickets RENAME TO tickets_away"))
    with pytest.raises(Exception, match="tickets"):
        store.create_ticket(
            call_id=None, caller="0912345678", reason="feedback", audio_path=path, duration_ms=1000
        )
    assert not path.exists()


def test_recordings_no_ticket_points_at_are_swept_after_a_grace_period(db):
    settings, factory, store = db
    kept = store.save_recording(tone(), "1-rec1")
    number = store.create_ticket(
        call_id=None, caller="0912345678", reason="feedback", audio_path=kept, duration_ms=1000
    )
    orphan = store.save_recording(tone(), "2-rec1")  # the process died before its ticket row
    fresh = store.save_recording(tone(), "3-rec1")  # its ticket row may be being written right now
    part = orphan.with_name(f".{orphan.name}.part")  # a write cut by a crash
    part.write_bytes(b"RIFF")
    spool = store.recordings_dir / ".incoming" / "9-hl-media-x-rec1.raw"  # recovery's, not the sweep's
    spool.parent.mkdir(parents=True)
    spool.write_bytes(bytes(3200))
    for path in (kept, orphan, part, spool):
        backdate(path, 2 * 3600)

    counts = purge_expired(settings)

    assert not orphan.exists() and not part.exists()
    assert kept.exists() and fresh.exists() and spool.exists()
    assert store.ticket(number).audio_path == str(kept)
    assert counts["orphan_recordings"] == 2


def test_synthesized_sentences_unused_for_the_period_are_removed_and_used_ones_kept(db):
    from voice.tts.cache import RenderCache, cache_key

    settings, _, _ = db
    days = settings.privacy.render_cache_days
    cache = RenderCache(settings.cache_dir / "tts")
    ticket_sentence = cache_key("espeak", "vi", "Mã phiếu của anh chị là 4 8 2 9 1 3", 1.0)
    greeting = cache_key("espeak", "vi", "Xin chào", 1.0)
    for key in (ticket_sentence, greeting):
        cache.put(key, tone(0.2))
        backdate(cache.path_for(key), (days + 1) * DAY)
    reply = settings.cache_dir / "ivr" / "prompts" / "texts" / "abc.wav"  # a reply read out, for calls
    reply.parent.mkdir(parents=True)
    reply.write_bytes(cache.path_for(greeting).read_bytes())
    backdate(reply, (days + 1) * DAY)
    assert cache.get(greeting, 8000) is not None  # played today: its use is recorded

    counts = purge_expired(settings)

    assert not cache.path_for(ticket_sentence).exists() and not reply.exists()
    assert cache.path_for(greeting).exists()
    assert counts["render_cache"] == 2


def test_stale_fallback_messages_are_removed_after_the_recording_period(db, tmp_path):
    _, factory, _ = db
    messages = tmp_path / "spool" / "messages"
    messages.mkdir(parents=True)
    old, new = messages / "hotline-1.0.wav", messages / "hotline-2.0.wav"
    for path in (old, old.with_suffix(".caller"), new):
        path.write_bytes(b"x")
    backdate(old, 91 * DAY)
    backdate(old.with_suffix(".caller"), 91 * DAY)
    counts = purge(factory, recording_days=90, transcript_days=365, messages_dir=messages)
    assert counts["fallback_messages"] == 2 and sorted(messages.iterdir()) == [new]


async def test_a_sentence_played_from_its_rendered_file_is_marked_used(settings):
    from ivr.prompts import Prompts

    prompts = Prompts(settings, synth=None)  # no synthesizer: the file alone must serve the call
    path = prompts.text_path("Phiếu 482913 đã có trả lời")
    path.parent.mkdir(parents=True)
    path.write_bytes(wav_bytes(tone(0.2)))
    backdate(path, 40 * DAY)
    assert (await prompts.text_audio("Phiếu 482913 đã có trả lời")).duration_s == pytest.approx(0.2)
    assert time.time() - path.stat().st_mtime < 60
