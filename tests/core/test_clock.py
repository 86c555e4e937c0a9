"""One time zone for what people read (`core.clock`): fixed moments, never today's date."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock

HCM = clock.zone("Asia/Ho_Chi_Minh")
STORED = dt.datetime(2026, 12, 31, 17, 30, 5)  # naive UTC, as the database keeps it


def test_a_stored_time_reads_as_local_time_on_the_next_day():
    assert clock.format_local(STORED, HCM) == "01/01/2027 00:30"
    assert clock.iso_local(STORED, HCM) == "2027-01-01T00:30:05+07:00"
    assert clock.format_local(None, HCM) == "–" and clock.iso_local(None, HCM) is None


def test_aware_times_are_converted_not_relabelled():
    aware = STORED.replace(tzinfo=dt.UTC).astimezone(clock.zone("Europe/Paris"))
    assert clock.to_local(aware, HCM) == clock.to_local(STORED, HCM)


def test_a_local_day_as_stored_bounds():
    start, end = clock.local_day_bounds(dt.date(2027, 1, 1), HCM)
    assert (start, end) == (dt.datetime(2026, 12, 31, 17), dt.datetime(2027, 1, 1, 17))
    assert start <= STORED < end
    assert clock.today_local(HCM, STORED) == dt.date(2027, 1, 1)


def test_an_unknown_zone_is_named():
    with pytest.raises(ValueError, match="Asia/Hanoi_City"):
        clock.zone("Asia/Hanoi_City")
