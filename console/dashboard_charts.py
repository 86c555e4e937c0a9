"""The managers' dashboard as charts: the figures of console.data.trends in Vietnamese words and SVG."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from console.charts import (
    Chart,
    Series,
    bar_chart,
    fmt_int,
    fmt_ms,
    fmt_pct,
    fmt_pct_axis,
    fmt_score,
    hbar_chart,
    line_chart,
)
from console.data.periods import Period, period_label
from console.data.trends import TOP_TOPICS, Trends
from console.labels import OUTCOME_VI

OTHER_OUTCOME = "Kết quả khác"  # an outcome newer than this console's labels: never its code
OTHER_TOPICS = "Các chủ đề khác"
PERIOD_WORD = {Period.DAY: "ngày", Period.WEEK: "tuần", Period.MONTH: "tháng"}


@dataclass(frozen=True)
class Totals:
    """The range as a whole (the tiles above the charts)."""

    calls: int
    not_understood_rate: float | None
    satisfaction_avg: float | None
    satisfaction_n: int
    response_rate: float | None


def totals(t: Trends) -> Totals:
    speech, nu = sum(t.speech_turns), sum(t.not_understood)
    sat_n = sum(t.satisfaction_n)
    sat_sum = sum(
        avg * n for avg, n in zip(t.satisfaction_avg, t.satisfaction_n, strict=True) if avg is not None
    )
    asked, given = sum(t.rating_asked), sum(t.rating_given)
    return Totals(
        calls=sum(t.calls),
        not_understood_rate=nu / speech if speech else None,
        satisfaction_avg=sat_sum / sat_n if sat_n else None,
        satisfaction_n=sat_n,
        response_rate=given / asked if asked else None,
    )


@dataclass(frozen=True)
class Tile:
    id: str
    value: str
    text: str


def tiles(t: Totals) -> list[Tile]:
    """The range's totals as the page shows them ("–" where there is nothing to compute from)."""

    def show(value: float | None, fmt: Callable[[float], str]) -> str:
        return "–" if value is None else fmt(value)

    out = [
        Tile("range-calls", fmt_int(t.calls), "cuộc gọi trong khoảng này"),
        Tile("range-not-understood", show(t.not_understood_rate, fmt_pct), "câu nói tổng đài không hiểu"),
        Tile(
            "range-satisfaction",
            show(t.satisfaction_avg, fmt_score),
            f"điểm hài lòng trung bình ({fmt_int(t.satisfaction_n)} lượt chấm)",
        ),
        Tile("range-response-rate", show(t.response_rate, fmt_pct), "người gọi chấm điểm khi được hỏi"),
    ]
    return out


def _counts(values: list[int]) -> list[str]:
    return [fmt_int(v) for v in values]


def charts(t: Trends, topic: Callable[[str], str]) -> list[Chart]:
    """Every chart of the dashboard, in page order; `topic` gives an intent's title."""
    period = t.range.period
    word = PERIOD_WORD[period]
    axis = [period_label(p, period, short=True) for p in t.periods]
    names = [period_label(p, period) for p in t.periods]
    month_axis = [period_label(m, Period.MONTH, short=True) for m in t.months]
    month_names = [period_label(m, Period.MONTH) for m in t.months]

    out = [
        bar_chart(
            "calls-by-outcome",
            f"Cuộc gọi theo {word}, theo kết quả",
            axis,
            names,
            [Series(OUTCOME_VI.get(code, OTHER_OUTCOME), values) for code, values in t.outcomes.items()],
            total_label="Tổng số cuộc gọi",
        ),
        hbar_chart(
            "topics",
            "Chủ đề người gọi hỏi (số cuộc gọi)",
            _topic_items(t.topics, topic),
            ("Chủ đề", "Số cuộc gọi"),
        ),
        line_chart(
            "not-understood",
            f"Tỷ lệ câu nói tổng đài không hiểu, theo {word}",
            axis,
            names,
            [Series("Không hiểu", t.not_understood_rate)],
            fmt=fmt_pct,
            axis_fmt=fmt_pct_axis,
            extra=[("Lượt nói", _counts(t.speech_turns)), ("Lượt không hiểu", _counts(t.not_understood))],
        ),
        line_chart(
            "latency",
            f"Thời gian trả lời theo {word}: trung vị và mức 95%",
            axis,
            names,
            [Series("Trung vị (p50)", t.latency_p50), Series("Mức 95% (p95)", t.latency_p95)],
            fmt=fmt_ms,
            extra=[("Số lượt trả lời", _counts(t.latency_n))],
        ),
        line_chart(
            "satisfaction",
            f"Điểm hài lòng trung bình theo {word} (thang 1–5)",
            axis,
            names,
            [Series("Điểm trung bình", t.satisfaction_avg)],
            fmt=fmt_score,
            axis_fmt=fmt_int,
            scale=(5.0, 1.0),
            extra=[("Lượt chấm", _counts(t.satisfaction_n))],
        ),
        line_chart(
            "rating-response",
            f"Tỷ lệ người gọi chấm điểm khi được hỏi, theo {word}",
            axis,
            names,
            [Series("Tỷ lệ chấm điểm", t.response_rate)],
            fmt=fmt_pct,
            axis_fmt=fmt_pct_axis,
            scale=(1.0, 0.25),
            extra=[("Được hỏi", _counts(t.rating_asked)), ("Đã chấm", _counts(t.rating_given))],
        ),
    ]
    ticket_series = [Series("Tiếp nhận", t.tickets_opened), Series("Đã đóng", t.tickets_closed)]
    if t.tickets_overdue is not None:
        ticket_series.append(Series("Quá hạn", t.tickets_overdue))
    out.append(
        bar_chart(
            "tickets",
            "Phản ánh, lời nhắn theo tháng",
            month_axis,
            month_names,
            ticket_series,
            stacked=False,
        )
    )
    if t.on_time_rate is not None:
        out.append(
            line_chart(
                "on-time",
                "Tỷ lệ xử lý đúng hạn theo tháng",
                month_axis,
                month_names,
                [Series("Đúng hạn", t.on_time_rate)],
                fmt=fmt_pct,
                axis_fmt=fmt_pct_axis,
                scale=(1.0, 0.25),
            )
        )
    return out


def _topic_items(topics: list[tuple[str, int]], topic: Callable[[str], str]) -> list[tuple[str, float]]:
    """The most asked topics by title (topics since removed from the catalog share one title, and one bar),
    the rest summed as one bar."""
    by_title: dict[str, float] = {}
    for intent, n in topics:
        title = topic(intent)
        by_title[title] = by_title.get(title, 0) + n
    ranked = sorted(by_title.items(), key=lambda item: -item[1])  # stable: ties keep the query's order
    items = ranked[:TOP_TOPICS]
    rest = sum(n for _, n in ranked[TOP_TOPICS:])
    if rest:
        items.append((OTHER_TOPICS, rest))
    return items
