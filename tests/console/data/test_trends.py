"""The managers' figures on a seeded month in a real SQLite file and a PostgreSQL database (each computes
local days and joins values its own way), against the same figures by hand."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from console.data.periods import Period, day_range, period_start
from console.data.trends import percentile, trends
from core.clock import zone
from tests.console.month_seed import (
    DAY10,
    MONTH_FIRST,
    MONTH_LAST,
    expected,
    seed_month,
    topic_calls,
)

TODAY = dt.date(2026, 12, 20)


@pytest.fixture
def month(db_settings):
    from core.db import engine_for, session_factory
    from hotline.db import upgrade

    upgrade(db_settings.database_url)
    calls, tickets = seed_month(db_settings)
    engine = engine_for(db_settings)
    yield session_factory(engine), calls, tickets
    engine.dispose()


def _check(t, by_hand) -> None:
    """Every per-period series of `t` equals the hand figures (periods without calls: zeros and None)."""
    for i, start in enumerate(t.periods):
        e = by_hand.get(start)
        if e is None:
            assert t.calls[i] == 0 and t.latency_p50[i] is None and t.satisfaction_avg[i] is None
            continue
        assert t.calls[i] == e.calls, start
        assert {o: v[i] for o, v in t.outcomes.items() if v[i]} == e.outcomes, start
        assert (t.speech_turns[i], t.not_understood[i]) == (e.speech, e.not_understood), start
        assert t.not_understood_rate[i] == pytest.approx(e.not_understood_rate), start
        assert (t.latency_n[i], t.latency_p50[i], t.latency_p95[i]) == (len(e.latencies), e.p50, e.p95), start
        assert t.satisfaction_n[i] == len(e.ratings), start
        assert t.satisfaction_avg[i] == pytest.approx(e.satisfaction), start
        assert (t.rating_asked[i], t.rating_given[i]) == (e.asked, e.asked_and_rated), start
        assert t.response_rate[i] == pytest.approx(e.response_rate), start


def test_days_of_the_month_agree_with_the_figures_by_hand(month):
    factory, calls, _ = month
    span = day_range(MONTH_FIRST, MONTH_LAST, Period.DAY, TODAY)
    t = trends(factory, span)
    assert len(t.periods) == 30
    _check(t, expected(calls, lambda d: d if MONTH_FIRST <= d <= MONTH_LAST else None))
    # The day whose ten response times are 10..100 ms: p50 50 ms, p95 100 ms (nearest rank).
    day10 = t.periods.index(DAY10)
    assert (t.latency_p50[day10], t.latency_p95[day10]) == (50, 100)
    # 00:10 on 1 November is 31 October in UTC: it counts on the 1st; 23:50 on the 30th on the 30th.
    assert t.outcomes["radio"][0] == 1
    assert dict(t.topics) == topic_calls(calls, MONTH_FIRST, MONTH_LAST)
    assert [n for _, n in t.topics] == sorted((n for _, n in t.topics), reverse=True)


def test_the_month_and_the_weeks_around_it_agree_with_the_figures_by_hand(month):
    factory, calls, tickets = month
    t = trends(factory, day_range(MONTH_FIRST, MONTH_LAST, Period.MONTH, TODAY))
    (e,) = expected(calls, lambda d: MONTH_FIRST if MONTH_FIRST <= d <= MONTH_LAST else None).values()
    _check(t, {MONTH_FIRST: e})
    # The legacy rating without a question counts in the average, not in the response rate.
    assert t.satisfaction_n[0] == t.rating_given[0] + 1
    assert t.months == [MONTH_FIRST]
    opened = sum(MONTH_FIRST <= k.created.date() <= MONTH_LAST for k in tickets)
    closed = sum(k.closed is not None and MONTH_FIRST <= k.closed.date() <= MONTH_LAST for k in tickets)
    assert (t.tickets_opened, t.tickets_closed) == ([opened], [closed]) == ([4], [2])
    assert t.tickets_overdue is None and t.on_time_rate is None

    weeks = trends(factory, day_range(MONTH_FIRST, MONTH_LAST, Period.WEEK, TODAY))
    assert weeks.periods[0] == dt.date(2026, 10, 26) and weeks.periods[-1] == dt.date(2026, 11, 30)
    # The weeks reach into October and December: the calls just outside the month count there.
    _check(weeks, expected(calls, lambda d: period_start(d, Period.WEEK)))
    assert sum(weeks.calls) == len(calls) == sum(t.calls) + 2


def test_the_place_for_ticket_deadlines_feeds_the_figures(month):
    factory, _, _ = month
    span = day_range(MONTH_FIRST, MONTH_LAST, Period.MONTH, TODAY)
    t = trends(factory, span, month_figures=lambda s, months: ([3] * len(months), [0.75]))
    assert (t.tickets_overdue, t.on_time_rate) == ([3], [0.75])


def test_percentiles_are_nearest_rank():
    assert percentile(Counter(), 50) is None
    assert percentile(Counter({700: 1}), 95) == 700
    assert percentile(Counter({100: 2, 300: 1, 900: 1}), 50) == 100  # 2 of 4 values <= 100
    assert percentile(Counter({100: 2, 300: 1, 900: 1}), 95) == 900


def test_days_are_those_of_the_zone_the_range_is_read_in(month):
    # 00:10 on 1 November in Vietnam (the seeded radio call) is still 31 October in UTC: a hotline whose
    # locale.time_zone is UTC does not count it in November.
    factory, _, _ = month
    vietnam = trends(factory, day_range(MONTH_FIRST, MONTH_LAST, Period.MONTH, TODAY, zone()))
    utc = trends(factory, day_range(MONTH_FIRST, MONTH_LAST, Period.MONTH, TODAY, dt.UTC))
    assert vietnam.range.tz is zone() and utc.range.tz is dt.UTC
    assert vietnam.outcomes["radio"][0] == utc.outcomes.get("radio", [0])[0] + 1
