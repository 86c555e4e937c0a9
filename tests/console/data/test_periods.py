"""The dashboard's time axis: typed dates, weeks from Monday, whole months, the bounded range."""

from __future__ import annotations

import datetime as dt

import pytest

from console.data.periods import MAX_DAYS, Period, RangeError, day_range, parse_day, period_label

TODAY = dt.date(2026, 11, 18)  # a Wednesday


def test_dates_are_typed_day_first_and_mistakes_are_explained_in_vietnamese():
    assert parse_day("05/11/2026", "từ ngày") == dt.date(2026, 11, 5)
    assert parse_day(" 5/1/2027 ", "từ ngày") == dt.date(2027, 1, 5)
    assert parse_day("2026-11-05", "từ ngày") == dt.date(2026, 11, 5)  # links from other pages
    assert parse_day("", "từ ngày") is None
    for bad in ("31/02/2026", "11/05", "hôm qua", "05/11/26", "01/01/9999", "1/2/3/4"):
        with pytest.raises(RangeError, match="Ngày không hợp lệ ở ô “đến ngày”"):
            parse_day(bad, "đến ngày")


def test_default_range_is_the_last_thirty_days_cut_into_days():
    span = day_range(None, None, Period.DAY, TODAY)
    assert (span.first, span.last) == (dt.date(2026, 10, 20), TODAY)
    assert len(span.periods()) == 30 and not span.shortened


def test_weeks_start_on_monday_and_months_are_whole():
    week = day_range(dt.date(2026, 11, 1), dt.date(2026, 11, 30), Period.WEEK, TODAY)  # Sunday .. Monday
    assert (week.first, week.last) == (dt.date(2026, 10, 26), dt.date(2026, 12, 6))
    assert [p.isoformat() for p in week.periods()][:2] == ["2026-10-26", "2026-11-02"] and len(
        week.periods()
    ) == 6
    month = day_range(dt.date(2026, 12, 15), dt.date(2026, 11, 20), Period.MONTH, TODAY)  # typed backwards
    assert (month.first, month.last) == (dt.date(2026, 11, 1), dt.date(2026, 12, 31))
    assert month.periods() == [dt.date(2026, 11, 1), dt.date(2026, 12, 1)] == month.months()
    assert period_label(dt.date(2026, 11, 1), Period.MONTH) == "Tháng 11/2026"
    assert period_label(dt.date(2026, 10, 26), Period.WEEK) == "Tuần từ 26/10/2026"


def test_a_long_range_is_shortened_from_its_start_to_whole_periods():
    days = day_range(dt.date(2020, 1, 1), dt.date(2026, 11, 18), Period.DAY, TODAY)
    assert days.shortened and len(days.periods()) == MAX_DAYS and days.last == TODAY
    months = day_range(dt.date(2000, 1, 1), dt.date(2099, 12, 31), Period.MONTH, TODAY)
    assert months.shortened and months.first.day == 1 and (months.last - months.first).days < MAX_DAYS
    assert len(months.periods()) == 13
