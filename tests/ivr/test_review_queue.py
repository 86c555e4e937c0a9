"""The review queue's writer on a real SQLite file: guesses from the real matcher, the audio as a WAV,
the row, nothing for a clear match; retention clears the audio and the words; the migration matches."""

from __future__ import annotations

import asyncio
import json
import re
import stat
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import inspect, select

from core.db import engine_for, session_factory
from hotline.db import upgrade
from intents.catalog import load_catalog
from intents.matcher import Matcher
from ivr.enums import TurnKind
from ivr.flow import Turn
from ivr.models import ReviewItem
from ivr.retention import purge
from ivr.review_queue import ReviewQueue
from ivr.review_store import ReviewStore, open_review_count
from ivr.store import CallStore
from voice.audio import AudioChunk, read_audio

CATALOG = Path(__file__).resolve().parents[1] / "fixtures" / "ivr" / "intents"
AT = datetime(2026, 3, 2, 8, 0)  # naive UTC, like the database


@pytest.fixture
def db(settings):
    upgrade(settings.database_url)
    factory = session_factory(engine_for(settings))
    return factory, CallStore(factory, settings.data_dir / "recordings"), settings.data_dir / "review-audio"


def tone(seconds: float = 0.5, rate: int = 8000) -> AudioChunk:
    t = np.arange(int(seconds * rate)) / rate
    return AudioChunk((np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes(), rate)


def run_queue(
    factory, audio_dir: Path, call_id: int, turns: list[tuple[Turn, AudioChunk | None]]
) -> ReviewQueue:
    matcher = Matcher(load_catalog(CATALOG))
    queue = ReviewQueue(
        ReviewStore(factory, audio_dir), call_id=lambda _ch: call_id, matcher=lambda: matcher, low_margin=0.10
    )

    async def main() -> None:
        queue.start_writer()
        for seq, (turn, audio) in enumerate(turns, 1):
            queue.turn("chan-1", seq, turn, audio)
        queue.end("chan-1")
        await asyncio.wait_for(queue.close(), 10)

    asyncio.run(main())
    return queue


def test_a_turn_not_understood_is_queued_with_its_audio_and_guesses(db):
    factory, store, audio_dir = db
    call_id = store.start_call("chan-1", "0912345678")
    said = "nuôi con theo phong cách do thái gọi 0912345678"
    queue = run_queue(
        factory,
        audio_dir,
        call_id,
        [
            (Turn(kind=TurnKind.SPEECH, transcript=said), tone()),
            (Turn(kind=TurnKind.SPEECH, transcript=said), tone()),  # the same words again: once
            (
                Turn(kind=TurnKind.SPEECH, transcript="muốn làm huấn luyện viên", intent="coach", score=0.9),
                tone(),
            ),
        ],
    )
    assert (queue.queued, queue.dropped) == (1, 0)
    with factory() as s:
        rows = s.scalars(select(ReviewItem)).all()
        assert len(rows) == 1 and open_review_count(s) == 1
        item = rows[0]
        assert (item.call_id, item.turn_seq, item.reason, item.status) == (
            call_id,
            1,
            "not_understood",
            "open",
        )
        assert "0912345678" not in item.transcript and item.transcript.startswith("nuôi con")
        guesses = json.loads(item.guesses)
        assert len(guesses) == 3 and guesses[0][1] >= guesses[1][1] >= guesses[2][1]
        path = Path(item.audio_path)
    assert path.is_relative_to(audio_dir) and stat.S_IMODE(path.stat().st_mode) == 0o600
    heard = read_audio(path)
    assert heard.rate == 8000 and abs(heard.duration_s - 0.5) < 0.01 and item.audio_ms == 500


def test_retention_removes_the_audio_then_the_words(db):
    factory, store, audio_dir = db
    review = ReviewStore(factory, audio_dir)
    old = review.add(
        call_id=None,
        turn_seq=1,
        at=AT,
        reason="not_understood",
        transcript="câu cũ",
        guesses=[("coach", 0.4)],
        audio=tone(),
    )
    new = review.add(
        call_id=None,
        turn_seq=1,
        at=AT + timedelta(days=80),
        reason="not_understood",
        transcript="câu mới",
        guesses=[],
        audio=tone(),
    )
    old_path, new_path = review.audio_path(old), review.audio_path(new)
    counts = purge(factory, recording_days=90, transcript_days=365, now=AT + timedelta(days=100))
    assert (counts["review_audio"], counts["review_transcripts"]) == (1, 0)
    assert not old_path.exists() and new_path.exists() and review.audio_path(old) is None
    assert review.get(old).transcript == "câu cũ"
    counts = purge(factory, recording_days=90, transcript_days=365, now=AT + timedelta(days=450))
    assert counts["review_transcripts"] == 2
    assert review.get(old).transcript == "" and review.get(old).guesses == [] and not new_path.exists()


def test_the_review_migration_matches_the_model(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from core.db import make_engine

    url = f"sqlite:///{tmp_path / 'h.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), ReviewItem.metadata)
        assert "review_items" in inspect(conn).get_table_names()
    engine.dispose()
    assert [d for d in diff if re.search(r"\breview_items\b", repr(d))] == []
