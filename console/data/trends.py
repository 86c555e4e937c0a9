"""The managers' figures per period (tables `calls`, `call_turns`, `tickets`): calls by outcome, topics,
the not-understood rate, answer latency, satisfaction and the rating response rate, tickets per month.

Every query groups by local (Vietnam) calendar day in SQL over a bounded range of `calls.started_at` (an
indexed column); Python only folds at most MAX_DAYS rows per series into weeks or months. Definitions
shared with the rest of the hotline:
- not-understood rate = speech turns with action `fail:not_understood` / all speech turns;
- answer latency = `call_turns.response_ms` (end of speech or key to the first audio of the answer), as
  nearest-rank percentiles: p50 is the smallest value at least half of the turns did not exceed;
- rating response rate = calls that were asked the rating question (a turn with action `rating_asked`) and
  gave a rating / calls asked it.
A call's turns count in the period the call started in.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, case, cast, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from console.data.periods import DayRange, Period, period_start
from ivr.enums import Failure, TurnAction, TurnKind, failed
from ivr.models import Call, Ticket, Turn

RATING_ASKED = TurnAction.RATING_ASKED  # logged whenever the rating question is played
NOT_UNDERSTOOD = failed(Failure.NOT_UNDERSTOOD)
TOP_TOPICS = 12  # topics charted by name; the rest are summed as one bar

# Overdue tickets and the on-time handling rate (0..1) for each month given (its first day).
MonthFigures = Callable[[Session, list[dt.date]], tuple[list[int], list[float | None]]]


def _offset_minutes(tz: dt.tzinfo, day: dt.date) -> int:
    """The zone's offset from UTC on `day`. Vietnam keeps one offset all year (no daylight saving time), so
    one fixed shift turns UTC into local days; in a zone that changes its clocks, days within the range
    but across a change would be an hour off."""
    noon = dt.datetime.combine(day, dt.time(12), tz)
    return int((noon.utcoffset() or dt.timedelta()).total_seconds() // 60)


def _local_day(s: Session, column: Any, offset: int) -> ColumnElement[Any]:
    """The local day of a stored (naive UTC) time, `offset` minutes ahead of UTC, computed by the database."""
    if s.get_bind().dialect.name == "sqlite":
        return func.date(column, f"{offset:+d} minutes")
    return func.date(column + dt.timedelta(minutes=offset))  # PostgreSQL: timestamp + interval


def _as_date(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def percentile(counts: Counter[int], p: float) -> int | None:
    """Nearest-rank percentile of values given as {value: how many times}; None without values."""
    n = sum(counts.values())
    if n == 0:
        return None
    rank = max(1, math.ceil(p / 100 * n))
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    raise AssertionError("unreachable: the ranks add up to n")


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Trends:
    """Figures of one range, each list holding one value per period of `periods` (per month for tickets)."""

    range: DayRange
    periods: list[dt.date]
    outcomes: dict[str, list[int]]  # outcome code -> calls per period, most frequent outcome first
    calls: list[int]
    speech_turns: list[int]
    not_understood: list[int]
    not_understood_rate: list[float | None]  # 0..1; None: no speech turn in the period
    latency_n: list[int]  # turns with a response time
    latency_p50: list[int | None]  # ms
    latency_p95: list[int | None]  # ms
    satisfaction_n: list[int]
    satisfaction_avg: list[float | None]  # 1..5
    rating_asked: list[int]  # calls asked the rating question
    rating_given: list[int]  # of those, calls that gave a rating
    response_rate: list[float | None]  # 0..1
    topics: list[tuple[str, int]]  # (intent id, calls that reached it), most asked first, whole range
    months: list[dt.date]
    tickets_opened: list[int]  # per month
    tickets_closed: list[int]  # per month
    # Per month, from console.data.ticket_figures.month_figures once ticket deadlines exist (see
    # `trends`); None hides their chart.
    tickets_overdue: list[int] | None = None
    on_time_rate: list[float | None] | None = None  # 0..1


class _Folder:
    """Folds rows keyed by local day into the range's periods; `offset`: the zone's minutes ahead of UTC."""

    def __init__(self, periods: Sequence[dt.date], period: Period, offset: int) -> None:
        self.index = {start: i for i, start in enumerate(periods)}
        self.period = period
        self.n = len(periods)
        self.offset = offset

    def slot(self, day: str | dt.date) -> int | None:
        return self.index.get(period_start(_as_date(day), self.period))

    def sums(self, rows: Iterable[tuple[Any, ...]], width: int) -> list[list[int]]:
        """Rows (day, a1..aw) -> w lists of per-period sums."""
        out = [[0] * self.n for _ in range(width)]
        for day, *values in rows:
            i = self.slot(day)
            if i is None:
                continue
            for col, value in enumerate(values):
                out[col][i] += int(value or 0)
        return out


def _outcomes(s: Session, fold: _Folder, start: dt.datetime, end: dt.datetime) -> dict[str, list[int]]:
    day = _local_day(s, Call.started_at, fold.offset)
    rows = s.execute(
        select(day, Call.outcome, func.count(Call.id))
        .where(Call.started_at >= start, Call.started_at < end)
        .group_by(day, Call.outcome)
    ).all()
    out: dict[str, list[int]] = {}
    for d, outcome, n in rows:
        i = fold.slot(d)
        if i is not None:
            out.setdefault(outcome, [0] * fold.n)[i] += n
    return dict(sorted(out.items(), key=lambda item: (-sum(item[1]), item[0])))


def _values(s: Session, column: Any) -> ColumnElement[Any]:
    """A group's non-null values of an integer column as one comma-separated string (None without any)."""
    if s.get_bind().dialect.name == "sqlite":
        return func.group_concat(column)
    return func.string_agg(cast(column, String), ",")  # PostgreSQL


def _turns(
    s: Session, fold: _Folder, start: dt.datetime, end: dt.datetime
) -> tuple[list[int], list[int], list[Counter[int]]]:
    """Speech turns, not-understood speech turns and the response times per period, in one pass over the
    turns (reading them is what costs: one row per local day). The response times of a day come as one
    string rather than grouped by value, which would make SQLite sort every turn."""
    day = _local_day(s, Call.started_at, fold.offset)
    speech = Turn.kind == TurnKind.SPEECH
    rows = s.execute(
        select(
            day,
            func.sum(case((speech, 1), else_=0)),
            func.sum(case((speech & (Turn.action == NOT_UNDERSTOOD), 1), else_=0)),
            _values(s, Turn.response_ms),
        )
        .join(Call, Call.id == Turn.call_id)
        .where(Call.started_at >= start, Call.started_at < end)
        .group_by(day)
    ).all()
    speech_n, not_understood = [0] * fold.n, [0] * fold.n
    latency: list[Counter[int]] = [Counter() for _ in range(fold.n)]
    for d, n_speech, n_nu, values in rows:
        i = fold.slot(d)
        if i is None:
            continue
        speech_n[i] += int(n_speech or 0)
        not_understood[i] += int(n_nu or 0)
        if values:
            latency[i].update(int(v) for v in values.split(","))
    return speech_n, not_understood, latency


def _satisfaction(s: Session, fold: _Folder, start: dt.datetime, end: dt.datetime) -> list[list[int]]:
    day = _local_day(s, Call.started_at, fold.offset)
    rows = s.execute(
        select(day, func.count(Call.satisfaction), func.sum(Call.satisfaction))
        .where(Call.started_at >= start, Call.started_at < end, Call.satisfaction.is_not(None))
        .group_by(day)
    ).all()
    return fold.sums(rows, 2)


def _rating(s: Session, fold: _Folder, start: dt.datetime, end: dt.datetime) -> list[list[int]]:
    day = _local_day(s, Call.started_at, fold.offset)
    asked = exists().where(
        Turn.call_id == Call.id, Turn.action == RATING_ASKED
    )  # through ix_call_turns_call_id
    rows = s.execute(
        select(day, func.count(Call.id), func.count(Call.satisfaction))
        .where(Call.started_at >= start, Call.started_at < end, asked)
        .group_by(day)
    ).all()
    return fold.sums(rows, 2)


def _topics(s: Session, start: dt.datetime, end: dt.datetime) -> list[tuple[str, int]]:
    calls = func.count(func.distinct(Turn.call_id))
    rows = s.execute(
        select(Turn.intent, calls)
        .join(Call, Call.id == Turn.call_id)
        .where(Call.started_at >= start, Call.started_at < end, Turn.intent.is_not(None))
        .group_by(Turn.intent)
        .order_by(calls.desc(), Turn.intent)
    ).all()
    return [(intent, n) for intent, n in rows if intent]


def _tickets(
    s: Session, months: Sequence[dt.date], start: dt.datetime, end: dt.datetime, offset: int
) -> list[list[int]]:
    fold = _Folder(months, Period.MONTH, offset)
    out = []
    for column in (Ticket.created_at, Ticket.closed_at):
        day = _local_day(s, column, offset)
        rows = s.execute(
            select(day, func.count(Ticket.id)).where(column >= start, column < end).group_by(day)
        ).all()
        out.append(fold.sums(rows, 1)[0])
    return out


def trends(
    factory: sessionmaker[Session],
    span: DayRange,
    *,
    month_figures: MonthFigures | None = None,
) -> Trends:
    """Every figure of `span`, read in one session (one consistent picture).

    `month_figures` gives overdue tickets and the on-time handling rate per month; without it those
    figures are not shown.
    """
    periods = span.periods()
    months = span.months()
    fold = _Folder(periods, span.period, _offset_minutes(span.tz, span.first))
    start, end = span.utc_bounds
    month_start = DayRange(months[0], span.last, Period.MONTH, tz=span.tz).utc_bounds[0]
    with factory() as s:
        outcomes = _outcomes(s, fold, start, end)
        speech, not_understood, latency = _turns(s, fold, start, end)
        sat_n, sat_sum = _satisfaction(s, fold, start, end)
        asked, given = _rating(s, fold, start, end)
        topics = _topics(s, start, end)
        opened, closed = _tickets(s, months, month_start, end, fold.offset)
        overdue, on_time = month_figures(s, months) if month_figures else (None, None)
    calls = [sum(values[i] for values in outcomes.values()) for i in range(len(periods))]
    return Trends(
        range=span,
        periods=periods,
        outcomes=outcomes,
        calls=calls,
        speech_turns=speech,
        not_understood=not_understood,
        not_understood_rate=[_rate(a, b) for a, b in zip(not_understood, speech, strict=True)],
        latency_n=[sum(c.values()) for c in latency],
        latency_p50=[percentile(c, 50) for c in latency],
        latency_p95=[percentile(c, 95) for c in latency],
        satisfaction_n=sat_n,
        satisfaction_avg=[total / n if n else None for total, n in zip(sat_sum, sat_n, strict=True)],
        rating_asked=asked,
        rating_given=given,
        response_rate=[_rate(a, b) for a, b in zip(given, asked, strict=True)],
        topics=topics,
        months=months,
        tickets_opened=opened,
        tickets_closed=closed,
        tickets_overdue=overdue,
        on_time_rate=on_time,
    )
