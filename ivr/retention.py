"""Retention of the call side's personal data: recordings, transcripts, caller numbers, replies, call logs.

Run by the service every few hours and by `hotline calls purge`. Besides what the database points at,
it sweeps what nothing points at: a complaint recording whose ticket row was never written (a crash
between the two) and messages the dialplan fallback recorded that were never imported.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db import affected, transaction
from ivr.models import Call, Ticket, TicketReply, Turn
from ivr.review_store import purge_review
from ivr.store import utcnow

logger = logging.getLogger(__name__)

# A recording younger than this may be one whose ticket row is being written right now.
ORPHAN_GRACE_S = 3600.0


def purge(
    factory: sessionmaker[Session],
    *,
    recording_days: int,
    transcript_days: int,
    now: datetime | None = None,
    recordings_dir: Path | None = None,
    messages_dir: Path | None = None,
) -> dict[str, int]:
    """Delete recordings and transcripts older than their retention periods (privacy settings).

    `now` is naive UTC like the database's times; file ages are measured against it too.
    """
    now = now or utcnow()
    rec_cut = now - timedelta(days=recording_days)
    txt_cut = now - timedelta(days=transcript_days)
    files = 0
    with transaction(factory) as s:
        old_audio = s.scalars(
            select(Ticket).where(Ticket.created_at < rec_cut, Ticket.audio_path.is_not(None))
        ).all()
        for t in old_audio:
            try:
                Path(t.audio_path).unlink(missing_ok=True)  # type: ignore[arg-type]
                files += 1
            except OSError as exc:
                logger.warning("cannot delete recording of ticket %s: %s", t.number, exc)
                continue
            t.audio_path = None
        # Every old ticket, whatever it holds: one left without a transcript (never transcribed, or
        # keyed) still has the caller's number and the operator's reply.
        blanked = affected(
            s.execute(
                update(Ticket)
                .where(
                    Ticket.created_at < txt_cut,
                    or_(Ticket.transcript != "", Ticket.caller != ""),
                )
                .values(transcript="", caller="")
            )
        )
        old_tickets = select(Ticket.id).where(Ticket.created_at < txt_cut)
        # Replies may quote the caller; who replied, when and the status they set stay for the figures.
        s.execute(
            update(TicketReply)
            .where(TicketReply.ticket_id.in_(old_tickets), TicketReply.text != "")
            .values(text="")
        )
        old_calls = select(Call.id).where(Call.started_at < txt_cut)
        turns = affected(s.execute(delete(Turn).where(Turn.call_id.in_(old_calls))))
        s.execute(update(Ticket).where(Ticket.call_id.in_(old_calls)).values(call_id=None))
        calls = affected(s.execute(delete(Call).where(Call.started_at < txt_cut)))
        # What the recognizer heard, kept for the review queue: a recording like the others.
        review_files, review_blanked = purge_review(s, rec_cut, txt_cut)
        kept = {str(p) for p in s.scalars(select(Ticket.audio_path).where(Ticket.audio_path.is_not(None)))}
    counts = {"recordings": files, "ticket_transcripts": blanked, "turns": turns, "calls": calls}
    counts["review_audio"], counts["review_transcripts"] = review_files, review_blanked
    now_s = now.replace(tzinfo=UTC).timestamp()
    if recordings_dir is not None:
        counts["orphan_recordings"] = _sweep_orphans(recordings_dir, kept, now_s - ORPHAN_GRACE_S)
    if messages_dir is not None:
        cut_s = rec_cut.replace(tzinfo=UTC).timestamp()
        counts["fallback_messages"] = _remove_older(messages_dir.glob("*"), cut_s)
    return counts


def _sweep_orphans(recordings_dir: Path, kept: set[str], cut_s: float) -> int:
    """Recordings under <recordings>/YYYY/MM/ no ticket points at, and temp files a crash left.

    The crash-recovery spool (<recordings>/.incoming) is not matched: recovery turns it into tickets.
    """
    if not recordings_dir.is_dir():
        return 0
    kept_resolved = {str(Path(p).resolve()) for p in kept}
    candidates = [
        f
        for f in recordings_dir.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/*")
        if f.is_file() and str(f.resolve()) not in kept_resolved
    ]
    removed = _remove_older(candidates, cut_s)
    if removed:
        logger.warning("removed %d recording file(s) no ticket points at", removed)
    return removed


def _remove_older(paths: Iterable[Path], cut_s: float) -> int:
    removed = 0
    for path in paths:
        try:
            if path.is_file() and path.stat().st_mtime < cut_s:
                path.unlink()
                removed += 1
        except OSError as exc:
            logger.warning("retention: cannot remove %s: %s", path.name, exc)
    return removed
