"""The dashboard's time axis: a range of local (Vietnam) days cut into days, weeks or months.

Pure date arithmetic, no database: the queries group by local day and these functions fold days into the
chosen periods, so one SQL shape serves all three choices.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from console.data.times import local_day_bounds
from core.clock import zone

# At most about 13 months of days: bounds every query and keeps a chart's bars wide enough to read.
MAX_DAYS = 400
DEFAULT_DAYS = 30  # the range shown when none is asked for: the last 30 days, today included
FIRST_YEAR, LAST_YEAR = 2000, 2099  # years a typed date may name
SHIPPED_ZONE = zone()  # the default of locale.time_zone


class Period(StrEnum):
    """How the dashboard's range is cut (the `period` query parameter)."""

    DAY = "day"
    WEEK = "week"  # Monday to Sunday, as Vietnamese calendars and offices count weeks
    MONTH = "month"


PERIOD_VI = {Period.DAY: "Ngày", Period.WEEK: "Tuần", Period.MONTH: "Tháng"}


class RangeError(ValueError):
    """A date the operator typed that is not a date; the message is Vietnamese, for the page."""


def parse_day(text: str, field: str) -> dt.date | None:
    """A day typed as dd/mm/yyyy (also d/m/yyyy); ISO yyyy-mm-dd is accepted for links. Empty -> None."""
    text = text.strip()
    if not text:
        return None
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            found = dt.date(year, month, day)
        else:
            found = dt.date.fromisoformat(text)
        if not FIRST_YEAR <= found.year <= LAST_YEAR:
            raise ValueError(text)  # also keeps period arithmetic away from the calendar's ends
        return found
    except ValueError:
        raise RangeError(
            f"Ngày không hợp lệ ở ô “{field}”: {text} (nhập dạng ngày/tháng/năm, ví dụ 05/11/2026)."
        ) from None


def format_day(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def period_start(day: dt.date, period: Period) -> dt.date:
    """The first day of the period `day` falls in."""
    if period is Period.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if period is Period.MONTH:
        return day.replace(day=1)
    return day


def next_period(start: dt.date, period: Period) -> dt.date:
    """The first day of the period after the one starting on `start`."""
    if period is Period.WEEK:
        return start + dt.timedelta(days=7)
    if period is Period.MONTH:
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start + dt.timedelta(days=1)


def period_label(start: dt.date, period: Period, *, short: bool = False) -> str:
    """How a period reads: on an axis "05/11", "T11/2026"; in a table "05/11/2026", "Tháng 11/2026"."""
    if period is Period.MONTH:
        return start.strftime("T%m/%Y" if short else "Tháng %m/%Y")
    if period is Period.WEEK:
        return start.strftime("%d/%m") if short else f"Tuần từ {format_day(start)}"
    return start.strftime("%d/%m") if short else format_day(start)


@dataclass(frozen=True)
class DayRange:
    """Local days [first, last], both included, already widened to whole periods and bounded."""

    first: dt.date
    last: dt.date
    period: Period
    shortened: bool = False  # the asked range was longer than MAX_DAYS: its start was moved later
    tz: dt.tzinfo = field(kw_only=True)  # the zone whose calendar days these are (`locale.time_zone`)

    @property
    def utc_bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) as naive UTC, the way times are stored."""
        return local_day_bounds(self.first, self.tz)[0], local_day_bounds(self.last, self.tz)[1]

    def periods(self) -> list[dt.date]:
        """The first day of every period in the range, in order."""
        out = []
        start = self.first
        while start <= self.last:
            out.append(start)
            start = next_period(start, self.period)
        return out

    def months(self) -> list[dt.date]:
        """The first day of every calendar month the range touches (ticket figures are monthly)."""
        out = []
        start = self.first.replace(day=1)
        while start <= self.last:
            out.append(start)
            start = next_period(start, Period.MONTH)
        return out


def day_range(
    first: dt.date | None,
    last: dt.date | None,
    period: Period,
    today: dt.date,
    tz: dt.tzinfo = SHIPPED_ZONE,  # the console passes `locale.time_zone`; `make bench` counts in this one
) -> DayRange:
    """The range to show: defaults to the last DEFAULT_DAYS days, swapped when typed backwards, widened to
    whole periods (a month chart never shows half a month as a month), then at most MAX_DAYS long."""
    last = last or today
    first = first or (last - dt.timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        first, last = last, first
    first = period_start(first, period)
    last = next_period(period_start(last, period), period) - dt.timedelta(days=1)
    shortened = (last - first).days + 1 > MAX_DAYS
    if shortened:
        earliest = last - dt.timedelta(days=MAX_DAYS - 1)
        first = period_start(earliest, period)
        if first < earliest:
            first = next_period(first, period)
    return DayRange(first, last, period, shortened, tz=tz)
