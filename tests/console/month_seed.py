"""A seeded month for the dashboard tests: November 2026 (Vietnam time) of calls with known outcomes, turns
with known response times and not-understood turns, rating questions and ratings, and tickets; plus a few
calls just outside the month. The expected figures are computed here by hand from the plain list, apart
from the code under test."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

VN = dt.timezone(dt.timedelta(hours=7))
MONTH_FIRST, MONTH_LAST = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
# An outcome the console may not have a label for yet (outcomes are being added): shown generically.
NEW_OUTCOME = "transfer_missed"
OUTCOMES = (
    "answered",
    "answered",
    "answered",
    "transferred",
    "abandoned",
    "not_understood",
    "ticket",
    NEW_OUTCOME,
)
INTENTS = ("cccd", "feedback", "e_tax", "birth_registration")
# Day 10 has exactly these response times (nothing else): p50 = 50 and p95 = 100 by the nearest rank.
DAY10 = dt.date(2026, 11, 10)
DAY10_MS = (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)


@dataclass
class SeedTurn:
    kind: str
    action: str | None = None
    intent: str | None = None
    response_ms: int | None = None


@dataclass
class SeedCall:
    local: dt.datetime  # Vietnam wall-clock time, naive
    outcome: str
    satisfaction: int | None = None
    turns: list[SeedTurn] = field(default_factory=list)

    @property
    def day(self) -> dt.date:
        return self.local.date()

    @property
    def asked(self) -> bool:
        return any(t.action == "rating_asked" for t in self.turns)


@dataclass
class SeedTicket:
    created: dt.datetime  # local
    closed: dt.datetime | None  # local


def month_calls() -> list[SeedCall]:
    rng = random.Random(20261101)
    calls: list[SeedCall] = []
    day = MONTH_FIRST
    while day <= MONTH_LAST:
        if day == DAY10:
            calls.append(
                SeedCall(
                    dt.datetime.combine(day, dt.time(9)),
                    "answered",
                    turns=[SeedTurn("speech", intent="cccd", response_ms=ms) for ms in DAY10_MS],
                )
            )
            day += dt.timedelta(days=1)
            continue
        for _ in range(2 + (day.day * 7) % 5):
            at = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=rng.randint(0, 24 * 60 - 1))
            turns = []
            for _ in range(rng.randint(0, 3)):
                if rng.random() < 0.3:
                    turns.append(
                        SeedTurn("speech", action="fail:not_understood", response_ms=rng.randint(300, 900))
                    )
                else:
                    turns.append(
                        SeedTurn("speech", intent=rng.choice(INTENTS), response_ms=rng.randint(200, 3000))
                    )
            if rng.random() < 0.4:
                turns.append(SeedTurn("dtmf", intent=rng.choice(INTENTS), response_ms=rng.randint(40, 200)))
            if rng.random() < 0.2:
                turns.append(SeedTurn("dtmf", action="fail:not_understood"))  # keys: not a speech turn
            satisfaction = None
            if rng.random() < 0.6:
                turns.append(SeedTurn("action", action="rating_asked"))
                if rng.random() < 0.7:
                    satisfaction = rng.randint(1, 5)
            calls.append(SeedCall(at, rng.choice(OUTCOMES), satisfaction, turns))
        day += dt.timedelta(days=1)
    # The month's edges in local time: 00:10 on the 1st is still 31 October in UTC; 23:50 on the 30th.
    calls.append(
        SeedCall(
            dt.datetime(2026, 11, 1, 0, 10),
            "radio",
            turns=[SeedTurn("speech", intent="cccd", response_ms=777)],
        )
    )
    calls.append(
        SeedCall(
            dt.datetime(2026, 11, 30, 23, 50), "answered", 5, [SeedTurn("action", action="rating_asked")]
        )
    )
    # A rating without the question (logged before the question was): not part of the response rate.
    calls.append(SeedCall(dt.datetime(2026, 11, 12, 8, 0), "answered", 1))
    # Just outside the month, inside the weeks around it.
    calls.append(
        SeedCall(dt.datetime(2026, 10, 31, 23, 59), "answered", 2, [SeedTurn("speech", response_ms=5000)])
    )
    calls.append(
        SeedCall(
            dt.datetime(2026, 12, 1, 0, 0, 30), "abandoned", 3, [SeedTurn("action", action="rating_asked")]
        )
    )
    return calls


def month_tickets() -> list[SeedTicket]:
    d = dt.datetime
    return [
        SeedTicket(d(2026, 10, 20, 9), d(2026, 11, 2, 10)),  # opened in October, closed in November
        SeedTicket(d(2026, 11, 1, 0, 5), d(2026, 11, 3, 9)),
        SeedTicket(d(2026, 11, 5, 14), None),
        SeedTicket(d(2026, 11, 20, 8), d(2026, 12, 1, 0, 30)),  # closed in December
        SeedTicket(d(2026, 11, 30, 23, 30), None),
        SeedTicket(d(2026, 12, 1, 0, 1), None),
    ]


def _utc(local: dt.datetime) -> dt.datetime:
    return local.replace(tzinfo=VN).astimezone(dt.UTC).replace(tzinfo=None)


def seed_month(settings) -> tuple[list[SeedCall], list[SeedTicket]]:
    """Writes the month into the migrated database of `settings`."""
    from core.db import engine_for, session_factory, transaction
    from ivr.models import Call, Ticket, Turn

    calls, tickets = month_calls(), month_tickets()
    factory = session_factory(engine_for(settings))
    with transaction(factory) as s:
        for n, c in enumerate(calls):
            row = Call(
                channel_id=f"month-{n}",
                started_at=_utc(c.local),
                ended_at=_utc(c.local) + dt.timedelta(minutes=2),
                outcome=c.outcome,
                satisfaction=c.satisfaction,
            )
            s.add(row)
            s.flush()
            for seq, t in enumerate(c.turns, 1):
                s.add(
                    Turn(
                        call_id=row.id,
                        seq=seq,
                        at=_utc(c.local) + dt.timedelta(seconds=seq),
                        kind=t.kind,
                        action=t.action,
                        intent=t.intent,
                        response_ms=t.response_ms,
                        transcript="",
                    )
                )
        for n, t in enumerate(tickets):
            s.add(
                Ticket(
                    number=f"7000{n:02d}",
                    created_at=_utc(t.created),
                    updated_at=_utc(t.created),
                    closed_at=_utc(t.closed) if t.closed else None,
                    status="closed" if t.closed else "new",
                )
            )
    return calls, tickets


# --- the figures, by hand --------------------------------------------------------------------------
def nearest_rank(values: list[int], p: float) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(p / 100 * len(ordered)) - 1]


@dataclass
class Expected:
    calls: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    speech: int = 0
    not_understood: int = 0
    latencies: list[int] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)
    asked: int = 0
    asked_and_rated: int = 0

    @property
    def not_understood_rate(self) -> float | None:
        return self.not_understood / self.speech if self.speech else None

    @property
    def p50(self) -> int | None:
        return nearest_rank(self.latencies, 50)

    @property
    def p95(self) -> int | None:
        return nearest_rank(self.latencies, 95)

    @property
    def satisfaction(self) -> float | None:
        return sum(self.ratings) / len(self.ratings) if self.ratings else None

    @property
    def response_rate(self) -> float | None:
        return self.asked_and_rated / self.asked if self.asked else None


def expected(calls: list[SeedCall], bucket: Callable[[dt.date], dt.date | None]) -> dict[dt.date, Expected]:
    """Figures per bucket (the first day of a period); `bucket` returns None for days outside the range."""
    out: dict[dt.date, Expected] = {}
    for c in calls:
        key = bucket(c.day)
        if key is None:
            continue
        e = out.setdefault(key, Expected())
        e.calls += 1
        e.outcomes[c.outcome] = e.outcomes.get(c.outcome, 0) + 1
        for t in c.turns:
            if t.kind == "speech":
                e.speech += 1
                e.not_understood += t.action == "fail:not_understood"
            if t.response_ms is not None:
                e.latencies.append(t.response_ms)
        if c.satisfaction is not None:
            e.ratings.append(c.satisfaction)
        if c.asked:
            e.asked += 1
            e.asked_and_rated += c.satisfaction is not None
    return out


def topic_calls(calls: list[SeedCall], first: dt.date, last: dt.date) -> dict[str, int]:
    """Calls in [first, last] that reached each intent."""
    out: dict[str, int] = {}
    for c in calls:
        if first <= c.day <= last:
            for intent in {t.intent for t in c.turns if t.intent}:
                out[intent] = out.get(intent, 0) + 1
    return out
