"""Times as stored (naive UTC) and as operators read them (Vietnam, UTC+7)."""

from __future__ import annotations

import datetime as dt

VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")  # Vietnam has no daylight saving time


def utcnow() -> dt.datetime:
    """Now as the database stores times: naive UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """A local (UTC+7) calendar day as naive UTC bounds, as stored in the database."""
    start = dt.datetime.combine(day, dt.time(), VN_TZ).astimezone(dt.UTC).replace(tzinfo=None)
    return start, start + dt.timedelta(days=1)


def today_local(now: dt.datetime | None = None) -> dt.date:
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    return now.astimezone(VN_TZ).date()
