"""The review queue's table (`review_items`): every read and write of it, and its audio files.

The audio is what the recognizer heard, kept as a WAV under `ivr.review.audio_dir` (0600, like
complaint recordings) only for queued utterances; retention deletes it after the recording period and
blanks the transcript after the transcript period (`purge`).
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db import affected, transaction
from core.masking import mask_personal
from ivr.models import ReviewItem
from ivr.review_rules import Guesses, ReviewStatus
from ivr.store import utcnow
from voice.audio import write_wav

if TYPE_CHECKING:
    from voice.audio import AudioChunk

logger = logging.getLogger(__name__)

PAGE_SIZE = 50


@dataclass(frozen=True)
class ReviewRow:
    """One queue item as the console shows it (no file path: the audio is served by id)."""

    id: int
    call_id: int | None
    turn_seq: int | None
    at: datetime
    reason: str
    transcript: str
    has_audio: bool
    audio_ms: int
    guesses: Guesses
    status: str
    intent: str | None
    resolved_by: str | None
    resolved_at: datetime | None


def _row(r: ReviewItem) -> ReviewRow:
    try:
        guesses = [(str(i), float(s)) for i, s in json.loads(r.guesses or "[]")]
    except (ValueError, TypeError):
        guesses = []
    return ReviewRow(
        r.id,
        r.call_id,
        r.turn_seq,
        r.at,
        r.reason,
        r.transcript,
        bool(r.audio_path),
        r.audio_ms,
        guesses,
        r.status,
        r.intent,
        r.resolved_by,
        r.resolved_at,
    )


class ReviewStore:
    """The queue's rows and audio files (blocking: call from a thread)."""

    def __init__(self, factory: sessionmaker[Session], audio_dir: Path) -> None:
        self.factory = factory
        self.audio_dir = audio_dir

    def _write_audio(self, audio: AudioChunk, at: datetime) -> Path:
        path = self.audio_dir / at.strftime("%Y/%m") / f"{uuid.uuid4().hex}.wav"
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        old = os.umask(0o077)  # the caller's voice: readable by the service only
        try:
            write_wav(path, audio)
        finally:
            os.umask(old)
        return path

    def add(
        self,
        *,
        call_id: int | None,
        turn_seq: int | None,
        at: datetime,
        reason: str,
        transcript: str,
        guesses: Guesses,
        audio: AudioChunk | None,
    ) -> int:
        """Queue an item (its audio written first; removed again if the row cannot be written)."""
        path = self._write_audio(audio, at) if audio is not None and audio.samples else None
        try:
            with transaction(self.factory) as s:
                item = ReviewItem(
                    call_id=call_id,
                    turn_seq=turn_seq,
                    at=at,
                    reason=reason,
                    transcript=mask_personal(transcript),
                    audio_path=str(path) if path else None,
                    audio_ms=int(audio.duration_s * 1000) if path and audio is not None else 0,
                    guesses=json.dumps([[i, round(sc, 3)] for i, sc in guesses]),
                    status=ReviewStatus.OPEN,
                )
                s.add(item)
                s.flush()
                return item.id
        except BaseException:
            if path is not None:
                path.unlink(missing_ok=True)
            raise

    def items(self, status: str = ReviewStatus.OPEN, page: int = 1) -> tuple[list[ReviewRow], int]:
        """A page of items with `status` ("" = all), newest first, and how many there are."""
        with self.factory() as s:
            q = select(ReviewItem)
            n = select(func.count(ReviewItem.id))
            if status:
                q, n = q.where(ReviewItem.status == status), n.where(ReviewItem.status == status)
            rows = s.scalars(
                q.order_by(ReviewItem.at.desc(), ReviewItem.id.desc())
                .limit(PAGE_SIZE)
                .offset((page - 1) * PAGE_SIZE)
            ).all()
            return [_row(r) for r in rows], int(s.scalar(n) or 0)

    def get(self, item_id: int) -> ReviewRow | None:
        with self.factory() as s:
            r = s.get(ReviewItem, item_id)
            return _row(r) if r is not None else None

    def audio_path(self, item_id: int) -> Path | None:
        """The item's audio file (personal data: serve only to logged-in operators, audited)."""
        with self.factory() as s:
            r = s.get(ReviewItem, item_id)
            return Path(r.audio_path) if r is not None and r.audio_path else None

    def resolve(
        self,
        ids: list[int],
        status: ReviewStatus,
        by: str,
        *,
        intent: str | None = None,
        now: datetime | None = None,
    ) -> int:
        """Close the open items among `ids` with `status`; returns how many were open."""
        if not ids or status is ReviewStatus.OPEN:
            return 0
        with transaction(self.factory) as s:
            return affected(
                s.execute(
                    update(ReviewItem)
                    .where(ReviewItem.id.in_(ids), ReviewItem.status == ReviewStatus.OPEN)
                    .values(status=status, intent=intent, resolved_by=by, resolved_at=now or utcnow())
                )
            )


def open_review_count(session: Session) -> int:
    """Items waiting for an operator (the dashboard's tile)."""
    q = select(func.count(ReviewItem.id)).where(ReviewItem.status == ReviewStatus.OPEN)
    return int(session.scalar(q) or 0)


def purge_review(session: Session, recording_cut: datetime, transcript_cut: datetime) -> tuple[int, int]:
    """Retention: audio of items older than `recording_cut` deleted, transcripts and guesses of items
    older than `transcript_cut` blanked. Returns (files deleted, items blanked)."""
    files = 0
    for r in session.scalars(
        select(ReviewItem).where(ReviewItem.at < recording_cut, ReviewItem.audio_path.is_not(None))
    ).all():
        try:
            Path(r.audio_path or "").unlink(missing_ok=True)
        except OSError as exc:
            logger.warning("cannot delete the audio of review item %d: %s", r.id, exc)
            continue
        r.audio_path = None
        files += 1
    blanked = affected(
        session.execute(
            update(ReviewItem)
            .where(ReviewItem.at < transcript_cut, ReviewItem.transcript != "")
            .values(transcript="", guesses="[]")
        )
    )
    return files, blanked
