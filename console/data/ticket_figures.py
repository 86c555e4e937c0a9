"""A month's figures for the province's report: tickets received and handled on time, calls, satisfaction.

Definitions (the README's "Tickets, deadlines and the monthly report" says the same to operators):
- a month's tickets are those received in that local calendar month;
- handled: first answered or closed (`tickets.handled_at`); on time: on or before the due date;
- overdue open: not handled and past the due date at `now`;
- on-time rate = handled on time / (handled + overdue open): tickets still open within their deadline
  are not judged yet, and tickets from before deadlines existed (no due date) are left out;
- satisfaction: the average of the month's calls' ratings; response rate = calls with a rating / calls
  where the rating question was played (a turn with action `rating_asked`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.enums import TurnAction
from ivr.models import Call, Ticket, Turn
from ivr.ticket_rules import Standing, standing

RATING_ASKED = TurnAction.RATING_ASKED  # logged whenever the rating question is played


@dataclass
class Tally:
    """Tickets of one group (all, a category, an agency) by where they stand."""

    key: str  # category or agency id; "" for all tickets, or tickets with none chosen
    received: int = 0
    handled_on_time: int = 0
    handled_late: int = 0
    overdue_open: int = 0
    open_on_time: int = 0
    no_deadline: int = 0

    @property
    def handled(self) -> int:
        return self.handled_on_time + self.handled_late

    @property
    def judged(self) -> int:
        """Tickets whose timeliness is settled: handled, or already past their due date."""
        return self.handled + self.overdue_open

    @property
    def on_time_rate(self) -> float | None:
        """Handled on time / judged (0..1); None while no ticket is judged."""
        return self.handled_on_time / self.judged if self.judged else None

    def add(self, where: Standing) -> None:
        self.received += 1
        if where is Standing.HANDLED_ON_TIME:
            self.handled_on_time += 1
        elif where is Standing.HANDLED_LATE:
            self.handled_late += 1
        elif where is Standing.OVERDUE:
            self.overdue_open += 1
        elif where is Standing.ON_TIME:
            self.open_on_time += 1
        else:
            self.no_deadline += 1


@dataclass(frozen=True)
class TicketLine:
    """One ticket of the month as the report lists it (no caller number: the report leaves the console)."""

    number: str
    received: dt.datetime  # local
    reason: str
    category: str  # id
    agency: str  # id
    commune: str | None  # code
    assignee: str
    status: str
    due: dt.date | None
    handled: dt.datetime | None  # local
    standing: Standing


@dataclass(frozen=True)
class MonthFigures:
    year: int
    month: int
    taken: dt.datetime  # local: when the figures were taken (overdue is judged against it)
    total: Tally
    by_category: list[Tally]  # most received first
    by_agency: list[Tally]
    calls: int
    rated: int  # calls with a rating
    rating_asked: int  # calls where the rating question was played
    satisfaction_avg: float | None
    tickets: list[TicketLine] = field(default_factory=list)  # oldest first

    @property
    def response_rate(self) -> float | None:
        return self.rated / self.rating_asked if self.rating_asked else None


def parse_month(text: str) -> tuple[int, int]:
    """(year, month) from "03/2027" (as people write it) or "2027-03" (a browser's month field)."""
    t = text.strip()
    try:
        if "/" in t:
            month, year = (int(p) for p in t.split("/"))
        else:
            year, month = (int(p) for p in t.split("-"))
        month_bounds(year, month, dt.UTC)  # only checks it is a month
    except ValueError:
        raise ValueError(f"{text!r}: write the month as MM/YYYY, e.g. 03/2027") from None
    return year, month


def month_bounds(year: int, month: int, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """A local calendar month as naive UTC bounds, as stored in the database."""
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise ValueError(f"{month:02d}/{year}: not a month")
    nxt = (year + month // 12, month % 12 + 1)

    def utc(y: int, m: int) -> dt.datetime:
        return dt.datetime(y, m, 1, tzinfo=tz).astimezone(dt.UTC).replace(tzinfo=None)

    return utc(year, month), utc(*nxt)


def _local(at: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC).astimezone(tz).replace(tzinfo=None)


def month_figures(s: Session, year: int, month: int, *, now: dt.datetime, tz: dt.tzinfo) -> MonthFigures:
    """The figures of local month `month`/`year`, judged at `now` (naive UTC), read in session `s`."""
    start, end = month_bounds(year, month, tz)
    today = _local(now, tz).date()
    total = Tally("")
    categories: dict[str, Tally] = {}
    agencies: dict[str, Tally] = {}
    lines: list[TicketLine] = []
    rows = s.scalars(
        select(Ticket)
        .where(Ticket.created_at >= start, Ticket.created_at < end)
        .order_by(Ticket.created_at, Ticket.id)
    )
    for t in rows:
        where = standing(t.due_date, t.handled_at, today, tz)
        total.add(where)
        categories.setdefault(t.category, Tally(t.category)).add(where)
        agencies.setdefault(t.agency, Tally(t.agency)).add(where)
        lines.append(
            TicketLine(
                t.number,
                _local(t.created_at, tz),
                t.reason,
                t.category,
                t.agency,
                t.commune,
                t.assignee,
                t.status,
                t.due_date,
                _local(t.handled_at, tz) if t.handled_at else None,
                where,
            )
        )
    in_month = (Call.started_at >= start, Call.started_at < end)
    calls = s.scalar(select(func.count(Call.id)).where(*in_month)) or 0
    avg, rated = s.execute(
        select(func.avg(Call.satisfaction), func.count(Call.satisfaction)).where(*in_month)
    ).one()
    asked = (
        s.scalar(
            select(func.count(func.distinct(Turn.call_id)))
            .join(Call, Call.id == Turn.call_id)
            .where(*in_month, Turn.action == RATING_ASKED)
        )
        or 0
    )
    return MonthFigures(
        year,
        month,
        _local(now, tz),
        total,
        _ranked(categories),
        _ranked(agencies),
        calls,
        rated or 0,
        asked,
        float(avg) if avg is not None else None,
        lines,
    )


def month_trend(
    s: Session, months: list[dt.date], *, now: dt.datetime, tz: dt.tzinfo
) -> tuple[list[int], list[float | None]]:
    """Overdue open tickets and the on-time handling rate of each month given (its first day), judged at
    `now` (naive UTC): the dashboard's ticket series, by the same definitions as the monthly report."""
    figures = [month_figures(s, m.year, m.month, now=now, tz=tz).total for m in months]
    return [f.overdue_open for f in figures], [f.on_time_rate for f in figures]


def _ranked(groups: Mapping[str, Tally]) -> list[Tally]:
    return sorted(groups.values(), key=lambda t: (-t.received, t.key))
