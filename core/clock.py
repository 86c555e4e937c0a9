"""One time zone for everything people read: stored times are naive UTC, shown in the configured zone.

The database keeps naive UTC (`utcnow`); the CLI, the console, exports and feeds show local time through
these helpers and the zone set in `locale.time_zone` (Asia/Ho_Chi_Minh), so the same call never reads
07:15 in one place and 00:15 in another.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIME_ZONE = "Asia/Ho_Chi_Minh"


@lru_cache(maxsize=8)
def zone(name: str = DEFAULT_TIME_ZONE) -> ZoneInfo:
    """The zone called `name`; ValueError names it when the system does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone (e.g. {DEFAULT_TIME_ZONE})") from None


def utcnow() -> dt.datetime:
    """Now as the database stores times: naive UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def to_local(value: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """A stored time (naive: UTC) or an aware one, in the zone `tz`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(tz)


def format_local(
    value: dt.datetime | None, tz: dt.tzinfo, fmt: str = "%d/%m/%Y %H:%M", empty: str = "–"
) -> str:
    """A stored time as people read it, in the zone `tz`; `empty` when there is none."""
    return empty if value is None else to_local(value, tz).strftime(fmt)


def iso_local(value: dt.datetime | None, tz: dt.tzinfo) -> str | None:
    """A stored time as ISO 8601 with its offset (2026-12-03T14:05:09+07:00), for JSON and exports."""
    return None if value is None else to_local(value, tz).isoformat(timespec="seconds")


def local_day_bounds(day: dt.date, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """A local calendar day as naive UTC bounds, as stored in the database."""

    def utc(d: dt.date) -> dt.datetime:
        return dt.datetime.combine(d, dt.time(), tz).astimezone(dt.UTC).replace(tzinfo=None)

    return utc(day), utc(day + dt.timedelta(days=1))


def today_local(tz: dt.tzinfo, now: dt.datetime | None = None) -> dt.date:
    """The local calendar day at `now` (default: the current time)."""
    return to_local(now or dt.datetime.now(dt.UTC), tz).date()
