"""The dashboard page on a seeded month: every chart's table and drawing agree with the figures by hand."""

from __future__ import annotations

import datetime as dt
import html
import re
import xml.etree.ElementTree as ET

import pytest

from tests.console.month_seed import (
    DAY10,
    MONTH_FIRST,
    MONTH_LAST,
    NEW_OUTCOME,
    expected,
    seed_month,
    topic_calls,
)

SVG = "{http://www.w3.org/2000/svg}"
NOVEMBER = "/console/?period={}&from=01/11/2026&to=30/11/2026"


def _section(page: str, chart_id: str) -> str:
    m = re.search(rf'<section class="card chart-card" id="{chart_id}".*?</section>', page, re.S)
    assert m, f"no chart {chart_id}"
    return m.group(0)


def _svg(section: str) -> ET.Element:
    return ET.fromstring(re.search(r"<svg .*?</svg>", section, re.S).group(0))


def _bars(section: str) -> list[ET.Element]:
    return [g for g in _svg(section).iter(f"{SVG}g") if g.get("class") == "bar"]


def _table(section: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", section.split("<table", 1)[1], re.S)
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in rows
    ]


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.1f}".replace(".", ",") + "%"


def _ms(x: int | None) -> str:
    return "–" if x is None else f"{x:,} ms".replace(",", ".")


@pytest.fixture
def month(console_settings, logged_in):
    calls, tickets = seed_month(console_settings)
    return logged_in, calls, tickets


def test_days_of_a_month_on_the_page_agree_with_the_database(month):
    from console.labels import OUTCOME_VI

    client, calls, _ = month
    page = client.get(NOVEMBER.format("day")).text
    by_hand = expected(calls, lambda d: d if MONTH_FIRST <= d <= MONTH_LAST else None)
    days = [MONTH_FIRST + dt.timedelta(days=i) for i in range(30)]
    assert 'id="range-first">01/11/2026<' in page and 'id="range-last">30/11/2026<' in page
    assert f'id="range-calls">{sum(e.calls for e in by_hand.values())}<' in page

    outcome = _section(page, "calls-by-outcome")
    bars = _bars(outcome)
    assert len(bars) == 30
    assert bars[9].find(f"{SVG}title").text == f"10/11/2026: {by_hand[DAY10].calls}"
    header, *rows = _table(outcome)
    assert [r[0] for r in rows] == [d.strftime("%d/%m/%Y") for d in days]
    assert [int(r[-1]) for r in rows] == [by_hand[d].calls for d in days]
    labels = {code: OUTCOME_VI.get(code, "Kết quả khác") for e in by_hand.values() for code in e.outcomes}
    assert set(header[1:-1]) == set(labels.values()) and NEW_OUTCOME not in outcome
    for code, label in labels.items():
        column = header.index(label)
        assert [int(r[column]) for r in rows] == [by_hand[d].outcomes.get(code, 0) for d in days], code

    nu = _table(_section(page, "not-understood"))[1:]
    assert [r[1] for r in nu] == [_pct(by_hand[d].not_understood_rate) for d in days]
    assert [int(r[2]) for r in nu] == [by_hand[d].speech for d in days]
    latency = _table(_section(page, "latency"))[1:]
    assert [(r[1], r[2]) for r in latency] == [(_ms(by_hand[d].p50), _ms(by_hand[d].p95)) for d in days]
    assert latency[9][1:3] == ["50 ms", "100 ms"]
    satisfaction = _table(_section(page, "satisfaction"))[1:]
    assert [r[1] for r in satisfaction] == [
        "–" if by_hand[d].satisfaction is None else f"{by_hand[d].satisfaction:.2f}".replace(".", ",")
        for d in days
    ]
    rated = _table(_section(page, "rating-response"))[1:]
    assert [(r[1], int(r[2]), int(r[3])) for r in rated] == [
        (_pct(by_hand[d].response_rate), by_hand[d].asked, by_hand[d].asked_and_rated) for d in days
    ]


def test_the_month_as_one_period_with_topics_by_title_and_tickets(month, console_settings):
    from console.data.catalog import CatalogView

    client, calls, _ = month
    page = client.get(NOVEMBER.format("month")).text
    (e,) = expected(calls, lambda d: MONTH_FIRST if MONTH_FIRST <= d <= MONTH_LAST else None).values()
    outcome = _section(page, "calls-by-outcome")
    assert len(_bars(outcome)) == 1
    assert _table(outcome)[1][0] == "Tháng 11/2026" and int(_table(outcome)[1][-1]) == e.calls
    assert f'id="range-not-understood">{_pct(e.not_understood_rate)}<' in page
    assert f'id="range-response-rate">{_pct(e.response_rate)}<' in page
    assert f'id="range-satisfaction">{e.satisfaction:.2f}<'.replace(".", ",") in page
    assert _table(_section(page, "latency"))[1][1:3] == [_ms(e.p50), _ms(e.p95)]

    catalog = CatalogView(console_settings).state().catalog
    topics = _section(page, "topics")
    assert {r[0]: int(r[1]) for r in _table(topics)[1:]} == {
        catalog.get(i).title: n for i, n in topic_calls(calls, MONTH_FIRST, MONTH_LAST).items()
    }
    assert not re.search(r"\b(cccd|e_tax|birth_registration|feedback)\b", topics)  # titles, never ids
    # Tickets from before deadlines existed: none overdue, no on-time rate yet (the report's own test,
    # tests/console/test_monthly_report.py, checks the deadline figures on the dashboard too).
    assert _table(_section(page, "tickets"))[1] == ["Tháng 11/2026", "4", "2", "0"]
    assert _table(_section(page, "on-time"))[1] == ["Tháng 11/2026", "–"]


def test_a_mistyped_date_is_explained_and_the_default_range_shown(month):
    client, _, _ = month
    r = client.get("/console/?period=week&from=31/02/2026&to=30/11/2026")
    assert r.status_code == 200
    alert = re.search(r'<div class="error" role="alert" id="range-error">(.*?)</div>', r.text).group(1)
    assert "Ngày không hợp lệ ở ô “từ ngày”: 31/02/2026" in html.unescape(alert)
    # The day typed correctly is kept; the other is the default: the 30 days up to it, in whole weeks.
    assert 'id="range-first">26/10/2026<' in r.text and 'id="range-last">06/12/2026<' in r.text
    assert len(_bars(_section(r.text, "calls-by-outcome"))) == 6
    odd = client.get("/console/?period=year&from=01/11/2026&to=30/11/2026").text
    assert "Không có cách xem này" in odd and len(_bars(_section(odd, "calls-by-outcome"))) == 30
    long = client.get("/console/?period=day&from=01/01/2020&to=30/11/2026").text
    assert 'id="range-shortened"' in long
    assert (
        len([g for g in _svg(_section(long, "calls-by-outcome")).iter(f"{SVG}g") if g.get("class") == "bar"])
        == 400
    )
