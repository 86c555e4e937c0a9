"""Tickets (tables `tickets`, `ticket_replies`): search and filters, one ticket with its reply history, its
private fields, replies and assignment."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from core.callerid import national_caller
from core.masking import mask_personal
from ivr.models import Ticket
from ivr.store import TICKET_DIGITS, CallStore, StoreError
from ivr.ticket_rules import Standing, standing

OPEN_STATUSES = ("new", "in_progress")
PAGE_SIZE = 50


def count_with_status(s: Session, statuses: Iterable[str]) -> int:
    """Tickets whose status is one of `statuses` (inside the caller's session)."""
    return s.scalar(select(func.count(Ticket.id)).where(Ticket.status.in_(tuple(statuses)))) or 0


def of_call(s: Session, call_id: int) -> list[tuple[str, str]]:
    """(number, status) of the tickets a call opened (inside the caller's session)."""
    return [(t.number, t.status) for t in s.scalars(select(Ticket).where(Ticket.call_id == call_id))]


@dataclass(frozen=True)
class ReplyRow:
    at: dt.datetime
    author: str  # operator username; "" from the command line
    status: str
    text: str


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
    reply_note: str  # the newest reply: what the caller hears by phone
    call_id: int | None
    commune: str | None  # code of the commune whose digital technology team the ticket is for
    category: str = ""  # ivr.tickets ids ("": not chosen)
    agency: str = ""
    assignee: str = ""
    due_date: dt.date | None = None
    handled_at: dt.datetime | None = None
    replies: tuple[ReplyRow, ...] = ()  # oldest first (only on the ticket's own page)

    def standing(self, today: dt.date, tz: dt.tzinfo) -> Standing:
        """Against its deadline on the local day `today`; handled on the local day of `tz`."""
        return standing(self.due_date, self.handled_at, today, tz)


def _ticket_row(t: Ticket, *, history: bool = False) -> TicketRow:
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
        t.latest_reply if history else "",
        t.call_id,
        t.commune,
        t.category,
        t.agency,
        t.assignee,
        t.due_date,
        t.handled_at,
        tuple(ReplyRow(r.at, r.author, r.status, r.text) for r in t.replies) if history else (),
    )


@dataclass(frozen=True)
class TicketQuery:
    """The ticket list's search and filters (every field optional)."""

    status: str = "open"  # "open" (new or in progress), a status, or "" for all
    q: str = ""  # a ticket number, a caller's number (full or its last digits), or words of the text
    overdue: bool = False  # open and past the due date
    category: str = ""
    commune: str = ""
    agency: str = ""
    assignee: str = ""

    @property
    def by_number(self) -> bool:
        """A search that names callers by their number (audited: it tells whose tickets these are)."""
        digits = _digits(self.q)
        return len(digits) >= 6 and not _is_ticket_number(self.q)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _is_ticket_number(text: str) -> bool:
    t = unicodedata.normalize("NFC", text).strip().lower().removeprefix("phiếu").strip()
    t = t.removeprefix("số").strip()  # "Phiếu số 482913", as pages show ticket numbers
    return len(t) == TICKET_DIGITS and t.isdigit()


def _filters(query: TicketQuery, today: dt.date) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.status == "open":
        where.append(Ticket.status.in_(OPEN_STATUSES))
    elif query.status:
        where.append(Ticket.status == query.status)
    if query.overdue:
        where += [Ticket.handled_at.is_(None), Ticket.due_date < today]
    for column, value in (
        (Ticket.category, query.category),
        (Ticket.agency, query.agency),
        (Ticket.assignee, query.assignee),
        (Ticket.commune, query.commune),
    ):
        if value:
            where.append(column == value)
    q = unicodedata.normalize("NFC", query.q).strip()
    if q:
        digits = _digits(q)
        if _is_ticket_number(q):
            where.append(Ticket.number == digits)
        elif len(digits) >= 6 and len(digits) >= len(q.replace(" ", "")) - 1:
            # A phone number, typed in any form: its national form, or its last digits.
            national = national_caller(q) or digits
            where.append(or_(Ticket.caller == national, Ticket.caller.endswith(digits[-9:])))
        else:
            words = [w for w in q.split() if w][:8]
            where += [Ticket.transcript.contains(w, autoescape=True) for w in words]
    return where


def list_tickets(
    factory: sessionmaker[Session], status: str | TicketQuery = "", page: int = 1, *, today: dt.date
) -> tuple[list[TicketRow], int]:
    query = status if isinstance(status, TicketQuery) else TicketQuery(status=status)
    where = _filters(query, today)
    with factory() as s:
        total = s.scalar(select(func.count(Ticket.id)).where(*where)) or 0
        rows = s.scalars(
            select(Ticket)
            .where(*where)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
        return [_ticket_row(t) for t in rows], total


def ticket_detail(factory: sessionmaker[Session], number: str) -> TicketRow | None:
    with factory() as s:
        t = s.scalar(select(Ticket).where(Ticket.number == number))
        return _ticket_row(t, history=True) if t else None


def ticket_private(factory: sessionmaker[Session], number: str) -> tuple[str, str | None] | None:
    """(raw caller, audio path) of a ticket: only for audited routes."""
    with factory() as s:
        row = s.execute(select(Ticket.caller, Ticket.audio_path).where(Ticket.number == number)).first()
        return (row[0] or "", row[1]) if row else None


def reply(
    factory: sessionmaker[Session], recordings: Path, number: str, note: str, status: str, author: str
) -> bool:
    """A step of the handling (status, and a reply callers hear); False when there is no such ticket."""

    try:
        CallStore(factory, recordings).reply_ticket(number, note, status, author=author)
    except StoreError:
        return False
    return True


def assign(store: CallStore, number: str, **fields: str) -> bool:
    """Category, agency, assignee, commune as an operator chose them; False when there is no such ticket."""
    try:
        store.assign_ticket(number, **fields)
    except StoreError:
        return False
    return True
