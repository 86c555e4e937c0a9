"""The call log (tables `calls` and `turns`): lists, one call's turns, the figures of the dashboard."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from console.data.tickets import of_call
from console.data.times import local_day_bounds
from core.masking import mask_personal
from ivr.models import Call, Turn

PAGE_SIZE = 50

_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")  # a SELECT of any columns


# --- figures for the dashboard (inside the dashboard's session) ------------------------------------
def count_between(s: Session, start: dt.datetime, end: dt.datetime, *, degraded: bool = False) -> int:
    """Calls started in [start, end); only those that fell back to the keypad with `degraded`."""
    where = [Call.started_at >= start, Call.started_at < end]
    if degraded:
        where.append(Call.degraded.is_(True))
    return s.scalar(select(func.count(Call.id)).where(*where)) or 0


def satisfaction_since(s: Session, since: dt.datetime) -> tuple[float | None, int]:
    """(average rating, number of ratings) of calls started since `since`."""
    avg, n = s.execute(
        select(func.avg(Call.satisfaction), func.count(Call.satisfaction)).where(
            Call.started_at >= since, Call.satisfaction.is_not(None)
        )
    ).one()
    return (float(avg) if avg is not None else None), (n or 0)


def intents_since(s: Session, since: dt.datetime) -> list[tuple[str, int]]:
    """Intents recognized in calls started since `since`, most asked first."""
    rows = s.execute(
        select(Turn.intent, func.count(Turn.id))
        .join(Call, Call.id == Turn.call_id)
        .where(Call.started_at >= since, Turn.intent.is_not(None))
        .group_by(Turn.intent)
        .order_by(func.count(Turn.id).desc(), Turn.intent)
    ).all()
    return [(i, c) for i, c in rows if i]


def outcomes_between(s: Session, start: dt.datetime, end: dt.datetime) -> list[tuple[str, int]]:
    """How calls started in [start, end) ended, most frequent first."""
    rows = s.execute(
        select(Call.outcome, func.count(Call.id))
        .where(Call.started_at >= start, Call.started_at < end)
        .group_by(Call.outcome)
        .order_by(func.count(Call.id).desc())
    ).all()
    return [(o, c) for o, c in rows]


# --- the call log ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CallFilter:
    day_from: dt.date | None = None
    day_to: dt.date | None = None
    intent: str = ""
    outcome: str = ""
    page: int = 1
    tz: dt.tzinfo = field(kw_only=True)  # the days are local days of the configured zone

    def apply(self, q: _Query) -> _Query:
        if self.day_from:
            q = q.where(Call.started_at >= local_day_bounds(self.day_from, self.tz)[0])
        if self.day_to:
            q = q.where(Call.started_at < local_day_bounds(self.day_to, self.tz)[1])
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
        tickets = of_call(s, c.id)
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
