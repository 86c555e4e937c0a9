"""Ticket deadlines and where a ticket stands against them (pure: dates and the calendar are passed in).

A ticket is due on the N-th working day after the day it was received (N from the SLA of its category,
`ivr.tickets`), the way Vietnamese offices count time limits: the day of receipt does not count, nor do
Saturdays, Sundays, public holidays (Tết and the days off in lieu, from the `holidays` package) and the
province's extra days off; Saturdays the province declares worked (`extra_working_days`) do count.

"Handled" is the first time an officer's reply or status change left the ticket answered or closed
(`tickets.handled_at`, set once, kept if the ticket is reopened): the caller had an answer by then.
Handled on time: handled on or before the due date (local calendar day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from ivr.settings import MAX_SLA_DAYS, TicketSettings

HANDLED_STATUSES = ("answered", "closed")  # a ticket reaching one of these is handled


class Standing(StrEnum):
    """Where a ticket stands against its deadline (computed, never stored)."""

    ON_TIME = "on_time"  # open, due today or later
    OVERDUE = "overdue"  # open, the due date has passed
    HANDLED_ON_TIME = "handled_on_time"
    HANDLED_LATE = "handled_late"
    NO_DEADLINE = "no_deadline"  # received before deadlines existed


class WorkingCalendar:
    """Which days are working days: Monday to Friday except Vietnam's public holidays and extra days off."""

    def __init__(
        self, days_off: Iterable[dt.date] = (), working_days: Iterable[dt.date] = (), *, vietnam: bool = True
    ) -> None:
        self._off = frozenset(days_off)
        self._on = frozenset(working_days)
        self._holidays: Callable[[dt.date], bool]
        if vietnam:
            from holidays.countries.vietnam import Vietnam  # computed offline, lunar calendar included

            national = Vietnam()
            self._holidays = national.__contains__
        else:
            self._holidays = lambda _day: False

    def is_working_day(self, day: dt.date) -> bool:
        if day in self._on:
            return True
        return day.weekday() < 5 and day not in self._off and not self._holidays(day)

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The `days`-th working day after `start` (`start` itself never counts)."""
        if not 1 <= days <= MAX_SLA_DAYS:
            raise ValueError(f"{days}: a deadline is 1 to {MAX_SLA_DAYS} working days")
        day, counted = start, 0
        # Bounded: even a year of holidays leaves working days within three times the span.
        for _ in range(days * 3 + 60):
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
                if counted == days:
                    return day
        raise ValueError(f"no {days} working days after {start}: check ivr.tickets.extra_days_off")


@dataclass(frozen=True)
class TicketRules:
    """Category of a new ticket and its due date: built once from `ivr.tickets` (`ticket_rules`)."""

    calendar: WorkingCalendar
    tz: dt.tzinfo
    default_days: int
    category_days: dict[str, int]  # category id -> working days (only those with an SLA of their own)
    topic_category: dict[str, str]  # intent id -> category id
    default_category: str
    callback_category: str  # a call-back or message for a person: the caller asked for nobody in particular
    category_agency: dict[str, str]  # category id -> the agency its new tickets go to

    def category_for(self, reason: str, topic: str | None) -> str:
        """The category a new ticket gets: its topic's, else by why it exists."""
        if topic and topic in self.topic_category:
            return self.topic_category[topic]
        if reason in ("message", "callback"):
            return self.callback_category
        return self.default_category

    def local_date(self, at_utc: dt.datetime) -> dt.date:
        """The local calendar day of a stored (naive UTC) time."""
        return at_utc.replace(tzinfo=dt.UTC).astimezone(self.tz).date()

    def due_date(self, category: str, created_utc: dt.datetime) -> dt.date:
        days = self.category_days.get(category, self.default_days)
        return self.calendar.add_working_days(self.local_date(created_utc), days)


def standing(due: dt.date | None, handled_at: dt.datetime | None, today: dt.date, tz: dt.tzinfo) -> Standing:
    """Where a ticket stands: `handled_at` naive UTC (None: not handled yet); `today` local."""
    if due is None:
        return Standing.NO_DEADLINE
    if handled_at is not None:
        handled_day = handled_at.replace(tzinfo=dt.UTC).astimezone(tz).date()
        return Standing.HANDLED_ON_TIME if handled_day <= due else Standing.HANDLED_LATE
    return Standing.ON_TIME if today <= due else Standing.OVERDUE


def ticket_rules(tickets: TicketSettings, timezone: str, *, vietnam: bool = True) -> TicketRules:
    """The rules of `ivr.tickets`, dates read in `timezone` (`locale.time_zone`: the zone people read)."""
    return TicketRules(
        calendar=WorkingCalendar(tickets.extra_days_off, tickets.extra_working_days, vietnam=vietnam),
        tz=ZoneInfo(timezone),
        default_days=tickets.sla_days,
        category_days={c.id: c.sla_days for c in tickets.categories if c.sla_days is not None},
        topic_category={t: c.id for c in tickets.categories for t in c.topics},
        default_category=tickets.default_category,
        callback_category=tickets.callback_category,
        category_agency={c.id: c.agency for c in tickets.categories if c.agency},
    )


def default_rules() -> TicketRules:
    """The rules of the default settings (tests and tools that build a store without settings)."""
    return ticket_rules(TicketSettings(), "Asia/Ho_Chi_Minh")
