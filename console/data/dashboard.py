"""The dashboard's figures: today's calls, open tickets, satisfaction and intents over a week."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from console.data import calls, tickets
from console.data.times import local_day_bounds, today_local
from console.data.voice_coverage import Coverage, voice_coverage


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
    voice: Coverage | None = None  # last 7 days: the share of what callers heard that was a human voice


def dashboard(
    factory: sessionmaker[Session],
    tz: dt.tzinfo,
    now: dt.datetime | None = None,
    prompt_name: Callable[[str], str] | None = None,
) -> Dashboard:
    """Every figure read in one session (a consistent picture); "today" is the local day in `tz`.

    With `prompt_name` (prompt id -> what operators call it) the voice coverage of the week is read too.
    """
    day = today_local(tz, now)
    start, end = local_day_bounds(day, tz)
    week_start = start - dt.timedelta(days=6)
    with factory() as s:
        calls_today = calls.count_between(s, start, end)
        degraded = calls.count_between(s, start, end, degraded=True)
        open_tickets = tickets.count_with_status(s, tickets.OPEN_STATUSES)
        new_tickets = tickets.count_with_status(s, ("new",))
        avg, n = calls.satisfaction_since(s, week_start)
        intents = calls.intents_since(s, week_start)
        outcomes = calls.outcomes_between(s, start, end)
        voice = voice_coverage(s, week_start, end, prompt_name) if prompt_name is not None else None
    return Dashboard(day, calls_today, degraded, open_tickets, new_tickets, avg, n, intents, outcomes, voice)
