"""The dashboard's charts from its figures: Vietnamese names for codes, removed topics, later series."""

from __future__ import annotations

import dataclasses
import datetime as dt

from console.dashboard_charts import OTHER_OUTCOME, OTHER_TOPICS, charts, tiles, totals
from console.data.periods import Period, day_range
from console.data.trends import TOP_TOPICS, Trends

NOV = dt.date(2026, 11, 1)


def _trends(**changes) -> Trends:
    span = day_range(NOV, dt.date(2026, 11, 30), Period.MONTH, dt.date(2026, 12, 1))
    base = Trends(
        range=span,
        periods=[NOV],
        outcomes={"answered": [5], "a_future_outcome": [2]},
        calls=[7],
        speech_turns=[8],
        not_understood=[2],
        not_understood_rate=[0.25],
        latency_n=[8],
        latency_p50=[900],
        latency_p95=[2400],
        satisfaction_n=[3],
        satisfaction_avg=[4.0],
        rating_asked=[4],
        rating_given=[3],
        response_rate=[0.75],
        topics=[("cccd", 4), ("gone_a", 2), ("gone_b", 2)],
        months=[NOV],
        tickets_opened=[3],
        tickets_closed=[1],
    )
    return dataclasses.replace(base, **changes)


def _title(intent: str) -> str:
    return {"cccd": "Căn cước công dân"}.get(intent, "Chủ đề đã xóa")


def test_codes_become_vietnamese_and_removed_topics_share_one_bar():
    by_id = {c.id: c for c in charts(_trends(), _title)}
    assert by_id["calls-by-outcome"].columns == ["Kỳ", "Đã trả lời", OTHER_OUTCOME, "Tổng số cuộc gọi"]
    assert by_id["calls-by-outcome"].rows == [["Tháng 11/2026", "5", "2", "7"]]
    assert by_id["topics"].rows == [["Căn cước công dân", "4"], ["Chủ đề đã xóa", "4"]]
    assert by_id["latency"].rows == [["Tháng 11/2026", "900 ms", "2.400 ms", "8"]]
    assert "on-time" not in by_id and by_id["tickets"].columns == ["Kỳ", "Tiếp nhận", "Đã đóng"]
    assert [(t.id, t.value) for t in tiles(totals(_trends()))] == [
        ("range-calls", "7"),
        ("range-not-understood", "25,0%"),
        ("range-satisfaction", "4,00"),
        ("range-response-rate", "75,0%"),
    ]


def test_many_topics_end_with_the_rest_and_later_series_appear_when_given():
    many = [(f"t{i:02d}", 100 - i) for i in range(TOP_TOPICS + 3)]
    later = _trends(topics=many, tickets_overdue=[1], on_time_rate=[2 / 3])
    by_id = {c.id: c for c in charts(later, lambda i: f"Chủ đề {i[1:]}")}
    rows = by_id["topics"].rows
    assert len(rows) == TOP_TOPICS + 1 and rows[-1] == [
        OTHER_TOPICS,
        str(sum(n for _, n in many[TOP_TOPICS:])),
    ]
    assert by_id["tickets"].rows == [["Tháng 11/2026", "3", "1", "1"]]
    assert by_id["on-time"].rows == [["Tháng 11/2026", "66,7%"]]
