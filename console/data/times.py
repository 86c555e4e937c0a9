"""Times as stored (naive UTC) and as operators read them: the configured zone (`locale.time_zone`).

Thin wrappers over `core.clock`; `tz` defaults to the product's default zone (Asia/Ho_Chi_Minh) for
callers that have no settings at hand.
"""

from __future__ import annotations

import datetime as dt

from core import clock
from core.clock import utcnow

__all__ = ["DEFAULT_TZ", "local_day_bounds", "today_local", "utcnow"]

DEFAULT_TZ = clock.zone()


def local_day_bounds(day: dt.date, tz: dt.tzinfo = DEFAULT_TZ) -> tuple[dt.datetime, dt.datetime]:
    """A local calendar day as naive UTC bounds, as stored in the database."""
    return clock.local_day_bounds(day, tz)


def today_local(now: dt.datetime | None = None, tz: dt.tzinfo = DEFAULT_TZ) -> dt.date:
    return clock.today_local(tz, now)
