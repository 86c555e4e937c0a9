"""Read-only queries behind the console pages (calls, turns, tickets, dashboard figures)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from core.masking import mask_personal
from ivr.models import Call, Ticket, Turn

VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")  # Vietnam has no daylight saving time
OPEN_STATUSES = ("new", "in_progress")
PAGE_SIZE = 50


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """A local (UTC+7) calendar day as naive UTC bounds, as stored in the database."""
    start = dt.datetime.combine(day, dt.time(), VN_TZ).astimezone(dt.UTC).replace(tzinfo=None)
    return start, start + dt.timedelta(days=1)


def today_local(now: dt.datetime | None = None) -> dt.date:
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    return now.astimezone(VN_TZ).date()


@dataclass(frozen=True)
class Dashboard:
    day: dt.date
    calls_today: int
    degraded_today: int
    open_tickets: int
    new_tickets: int
    satisfaction_avg: float | None  # over the last 7 days
    satisfaction_n: int
    intents: list[tuple[str, int]]  # last 7 days, most asked first
    outcomes: list[tuple[str, int]]  # today


def dashboard(factory: sessionmaker[Session], now: dt.datetime | None = None) -> Dashboard:
    day = today_local(now)
    start, end = local_day_bounds(day)
    week_start = start - dt.timedelta(days=6)
    with factory() as s:
        today = (Call.started_at >= start, Call.started_at < end)
        calls_today = s.scalar(select(func.count(Call.id)).where(*today)) or 0
        degraded = s.scalar(select(func.count(Call.id)).where(*today, Call.degraded.is_(True))) or 0
        open_tickets = s.scalar(select(func.count(Ticket.id)).where(Ticket.status.in_(OPEN_STATUSES))) or 0
        new_tickets = s.scalar(select(func.count(Ticket.id)).where(Ticket.status == "new")) or 0
        avg, n = s.execute(
            select(func.avg(Call.satisfaction), func.count(Call.satisfaction)).where(
                Call.started_at >= week_start, Call.satisfaction.is_not(None)
            )
        ).one()
        intents = s.execute(
            select(Turn.intent, func.count(Turn.id))
            .join(Call, Call.id == Turn.call_id)
            .where(Call.started_at >= week_start, Turn.intent.is_not(None))
            .group_by(Turn.intent)
            .order_by(func.count(Turn.id).desc(), Turn.intent)
        ).all()
        outcomes = s.execute(
            select(Call.outcome, func.count(Call.id))
            .where(*today)
            .group_by(Call.outcome)
            .order_by(func.count(Call.id).desc())
        ).all()
    return Dashboard(
        day,
        calls_today,
        degraded,
        open_tickets,
        new_tickets,
        float(avg) if avg is not None else None,
        n or 0,
        [(i, c) for i, c in intents if i],
        [(o, c) for o, c in outcomes],
    )


@dataclass(frozen=True)
class CallFilter:
    day_from: dt.date | None = None
    day_to: dt.date | None = None
    intent: str = ""
    outcome: str = ""
    page: int = 1

    def apply(self, q: Select) -> Select:
        if self.day_from:
            q = q.where(Call.started_at >= local_day_bounds(self.day_from)[0])
        if self.day_to:
            q = q.where(Call.started_at < local_day_bounds(self.day_to)[1])
        if self.outcome:
            q = q.where(Call.outcome == self.outcome)
        if self.intent:
            q = q.where(Call.id.in_(select(Turn.call_id).where(Turn.intent == self.intent)))
        return q


@dataclass(frozen=True)
class CallRow:
    id: int
    caller_masked: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    outcome: str
    satisfaction: int | None
    degraded: bool
    turns: int
    intents: list[str] = field(default_factory=list)


def list_calls(factory: sessionmaker[Session], flt: CallFilter) -> tuple[list[CallRow], int]:
    """One page of calls (newest first) and the total number matching the filter."""
    with factory() as s:
        total = s.scalar(flt.apply(select(func.count(Call.id)))) or 0
        q = (
            flt.apply(
                select(Call, func.count(Turn.id)).outerjoin(Turn, Turn.call_id == Call.id).group_by(Call.id)
            )
            .order_by(Call.started_at.desc(), Call.id.desc())
            .limit(PAGE_SIZE)
            .offset((flt.page - 1) * PAGE_SIZE)
        )
        rows = s.execute(q).all()
        ids = [c.id for c, _ in rows]
        intents: dict[int, list[str]] = {}
        if ids:
            for call_id, intent in s.execute(
                select(Turn.call_id, Turn.intent)
                .where(Turn.call_id.in_(ids), Turn.intent.is_not(None))
                .order_by(Turn.call_id, Turn.seq)
            ):
                seen = intents.setdefault(call_id, [])
                if intent and intent not in seen:
                    seen.append(intent)
        return [
            CallRow(
                c.id,
                c.caller_masked,
                c.started_at,
                c.ended_at,
                c.outcome,
                c.satisfaction,
                c.degraded,
                n,
                intents.get(c.id, []),
            )
            for c, n in rows
        ], total


def filter_choices(factory: sessionmaker[Session]) -> tuple[list[str], list[str]]:
    """Intents and outcomes present in the log (for the filter drop-downs)."""
    with factory() as s:
        intents = s.scalars(
            select(Turn.intent).where(Turn.intent.is_not(None)).distinct().order_by(Turn.intent)
        )
        outcomes = s.scalars(select(Call.outcome).distinct().order_by(Call.outcome))
        return [i for i in intents if i], [o for o in outcomes if o]


@dataclass(frozen=True)
class TurnRow:
    seq: int
    at: dt.datetime
    kind: str
    transcript: str  # masked
    confidence: float | None
    intent: str | None
    score: float | None
    dtmf: str
    action: str | None
    asr_ms: int | None
    response_ms: int | None


@dataclass(frozen=True)
class CallDetail:
    call: CallRow
    turns: list[TurnRow]
    tickets: list[tuple[str, str]]  # (number, status)


def call_detail(factory: sessionmaker[Session], call_id: int) -> CallDetail | None:
    with factory() as s:
        c = s.get(Call, call_id)
        if c is None:
            return None
        turns = [
            # Stored transcripts are already masked; masking again protects rows written by older code.
            TurnRow(
                t.seq,
                t.at,
                t.kind,
                mask_personal(t.transcript or ""),
                t.confidence,
                t.intent,
                t.score,
                mask_personal(t.dtmf or ""),
                t.action,
                t.asr_ms,
                t.response_ms,
            )
            for t in c.turns
        ]
        tickets = [(t.number, t.status) for t in s.scalars(select(Ticket).where(Ticket.call_id == c.id))]
        intents = list(dict.fromkeys(t.intent for t in turns if t.intent))
        row = CallRow(
            c.id,
            c.caller_masked,
            c.started_at,
            c.ended_at,
            c.outcome,
            c.satisfaction,
            c.degraded,
            len(turns),
            intents,
        )
        return CallDetail(row, turns, tickets)


def raw_caller_of_call(factory: sessionmaker[Session], call_id: int) -> str | None:
    with factory() as s:
        return s.scalar(select(Call.caller).where(Call.id == call_id))


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
