"""Tickets (table `tickets`): lists by status, one ticket, its private fields, the reply callers hear."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.masking import mask_personal
from ivr.models import Ticket
from ivr.store import CallStore, StoreError

OPEN_STATUSES = ("new", "in_progress")
PAGE_SIZE = 50


def count_with_status(s: Session, statuses: Iterable[str]) -> int:
    """Tickets whose status is one of `statuses` (inside the caller's session)."""
    return s.scalar(select(func.count(Ticket.id)).where(Ticket.status.in_(tuple(statuses)))) or 0


def of_call(s: Session, call_id: int) -> list[tuple[str, str]]:
    """(number, status) of the tickets a call opened (inside the caller's session)."""
    return [(t.number, t.status) for t in s.scalars(select(Ticket).where(Ticket.call_id == call_id))]


@dataclass(frozen=True)
class TicketRow:
    number: str
    status: str
    reason: str
    caller_masked: str
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    duration_ms: int
    has_audio: bool
    transcript: str  # masked
    reply_note: str
    call_id: int | None
    commune: str | None  # code of the commune whose digital technology team the ticket is for


def _ticket_row(t: Ticket) -> TicketRow:
    return TicketRow(
        t.number,
        t.status,
        t.reason,
        t.caller_masked,
        t.created_at,
        t.updated_at,
        t.closed_at,
        t.duration_ms,
        bool(t.audio_path),
        mask_personal(t.transcript or ""),
        t.reply_note or "",
        t.call_id,
        t.commune,
    )


def list_tickets(
    factory: sessionmaker[Session], status: str = "", page: int = 1
) -> tuple[list[TicketRow], int]:
    with factory() as s:
        q = select(Ticket)
        count = select(func.count(Ticket.id))
        if status == "open":
            q, count = (
                q.where(Ticket.status.in_(OPEN_STATUSES)),
                count.where(Ticket.status.in_(OPEN_STATUSES)),
            )
        elif status:
            q, count = q.where(Ticket.status == status), count.where(Ticket.status == status)
        total = s.scalar(count) or 0
        rows = s.scalars(
            q.order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
        return [_ticket_row(t) for t in rows], total


def ticket_detail(factory: sessionmaker[Session], number: str) -> TicketRow | None:
    with factory() as s:
        t = s.scalar(select(Ticket).where(Ticket.number == number))
        return _ticket_row(t) if t else None


def ticket_private(factory: sessionmaker[Session], number: str) -> tuple[str, str | None] | None:
    """(raw caller, audio path) of a ticket: only for audited routes."""
    with factory() as s:
        row = s.execute(select(Ticket.caller, Ticket.audio_path).where(Ticket.number == number)).first()
        return (row[0] or "", row[1]) if row else None


def reply(factory: sessionmaker[Session], recordings: Path, number: str, note: str, status: str) -> bool:
    """Save the reply note and status callers hear back; False when there is no such ticket."""

    try:
        CallStore(factory, recordings).reply_ticket(number, note, status)
    except StoreError:
        return False
    return True
