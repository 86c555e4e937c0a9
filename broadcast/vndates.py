"""Dates as Vietnamese editors write them: 24/11/2026 and 24/11/2026 06:00 (ISO is still accepted)."""

from __future__ import annotations

import datetime as dt
import re

# dd/mm/yyyy (also with - or .), optionally followed by a time HH:MM or HHhMM.
_DAY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:\s+(\d{1,2})\s*[:hH]\s*(\d{2}))?\s*$")


def parse_vn_date(value: object, *, with_time: bool) -> object:
    """A dd/mm/yyyy string -> date (or datetime when a time follows and `with_time`); others unchanged.

    Anything else goes on to pydantic as it came (ISO dates, YAML dates), so its errors still apply.
    """
    if not isinstance(value, str):
        return value
    m = _DAY.match(value)
    if m is None:
        return value
    day, month, year, hour, minute = m.groups()
    if hour is not None and not with_time:
        raise ValueError("chỉ ghi ngày, không ghi giờ")
    try:
        date = dt.date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"không có ngày {int(day):02d}/{int(month):02d}/{year}") from None
    if hour is None:
        return date
    if int(hour) > 23 or int(minute) > 59:
        raise ValueError(f"không có giờ {hour}:{minute}")
    return dt.datetime.combine(date, dt.time(int(hour), int(minute)))
