"""A seeded month in a real SQLite file: the on-time rate computed by hand here, and the figures module,
the console's report page, its CSV and XLSX downloads and `hotline report` all agree with it.

February 2026 holds Tết (16-20/2, with the weekends around it): a deadline that ignored it would call
ticket T2 late. The month is long past, so every deadline has passed whenever the test runs.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

VN = dt.timedelta(hours=7)


def utc(*local: int) -> dt.datetime:
    """A Vietnam local time as stored (naive UTC)."""
    return dt.datetime(*local) - VN


@pytest.fixture
def month(console_settings):
    """Seven tickets and five calls around February 2026 (local time), through the store calls use."""
    from core.db import engine_for, session_factory, transaction
    from ivr.models import Call, Turn
    from ivr.store import CallStore
    from ivr.ticket_rules import ticket_rules

    factory = session_factory(engine_for(console_settings))
    rules = ticket_rules(console_settings.ivr.tickets, console_settings.locale.time_zone)
    store = CallStore(factory, console_settings.data_dir / "recordings", rules)

    def ticket(at, reason="feedback", topic=None):
        return store.create_ticket(
            call_id=None, caller="0912345678", reason=reason, audio_path=None, duration_ms=0, topic=topic,
            at=at,
        )  # fmt: skip

    n = {
        # Sunday 1/2 00:30 local is still 31/1 in UTC: February's. 5 days -> due Fri 6/2; handled 23:30.
        "T6": ticket(utc(2026, 2, 1, 0, 30)),
        "T1": ticket(utc(2026, 2, 2, 9, 0)),  # due Mon 9/2, answered Thu 5/2: on time
        "T3": ticket(utc(2026, 2, 3, 8, 0), topic="scam_report"),  # 2 days: due 5/2, answered 6/2: late
        "T5": ticket(utc(2026, 2, 10, 10, 0), topic="land"),  # 10 days across Tết: due 3/3, still open
        "T2": ticket(utc(2026, 2, 12, 10, 0)),  # 5 days across Tết: due 26/2, closed 26/2: on time
        "T4": ticket(utc(2026, 2, 25, 14, 0), reason="callback"),  # 1 day: due 26/2, never handled
        "T7": ticket(utc(2026, 3, 1, 0, 30)),  # March (local), though 28/2 in UTC
    }
    store.reply_ticket(n["T6"], "Đã giải đáp.", "answered", author="lan", at=utc(2026, 2, 6, 23, 30))
    store.reply_ticket(n["T1"], "", "in_progress", author="lan", at=utc(2026, 2, 3, 9, 0))
    store.reply_ticket(n["T1"], "Đã hướng dẫn.", "answered", author="lan", at=utc(2026, 2, 5, 9, 0))
    store.reply_ticket(n["T3"], "Đã báo công an.", "answered", author="minh", at=utc(2026, 2, 6, 9, 0))
    store.reply_ticket(n["T2"], "Đã xử lý xong.", "closed", author="minh", at=utc(2026, 2, 26, 16, 0))
    store.reply_ticket(n["T5"], "", "in_progress", author="minh", at=utc(2026, 2, 11, 9, 0))
    with transaction(factory) as s:
        calls = []
        for i, (day, rating, asked) in enumerate(
            [(3, 4, True), (4, 2, True), (5, None, True), (6, None, False), (28, None, False)]
        ):
            at = utc(2026, 2, day, 10, 0) if day != 28 else utc(2026, 3, 1, 0, 30)  # the last is March's
            call = Call(channel_id=f"m-{i}", started_at=at, ended_at=at, outcome="answered")
            call.satisfaction = rating if day != 28 else 5
            s.add(call)
            s.flush()
            calls.append(call.id)
            if asked:
                s.add(Turn(call_id=call.id, seq=1, at=at, kind="action", action="rating_asked"))
    return n


# Worked out by hand from the seed above.
RECEIVED, ON_TIME, LATE, OVERDUE = 6, 3, 1, 2  # T1 T2 T6 on time; T3 late; T4 T5 overdue
ON_TIME_RATE = ON_TIME / (ON_TIME + LATE + OVERDUE)  # 0.5
SATISFACTION, RESPONSE_RATE = (4 + 2) / 2, 2 / 3  # 2 ratings of 3 calls asked; 4 calls in February


def test_the_figures_module_counts_the_month_by_hand(console_settings, month):
    from console.data.ticket_figures import month_figures
    from core.db import engine_for, session_factory

    with session_factory(engine_for(console_settings))() as s:
        fig = month_figures(s, 2026, 2, now=dt.datetime(2026, 6, 1), tz=console_settings.locale.tz)
    t = fig.total
    assert (t.received, t.handled_on_time, t.handled_late) == (RECEIVED, ON_TIME, LATE)
    assert t.overdue_open == OVERDUE
    assert t.on_time_rate == pytest.approx(ON_TIME_RATE) == 0.5
    assert {g.key: (g.received, g.on_time_rate) for g in fig.by_category} == {
        "khac": (3, 1.0), "lua_dao": (1, 0.0), "dat_dai": (1, 0.0), "goi_lai": (1, 0.0),
    }  # fmt: skip
    assert {g.key: g.received for g in fig.by_agency} == {"": 4, "cong_an": 1, "so_nnmt": 1}
    assert (fig.calls, fig.rated, fig.rating_asked) == (4, 2, 3)
    assert fig.satisfaction_avg == pytest.approx(SATISFACTION)
    assert fig.response_rate == pytest.approx(RESPONSE_RATE)
    due = {line.number: line.due for line in fig.tickets}
    assert due[month["T2"]] == dt.date(2026, 2, 26) and due[month["T5"]] == dt.date(2026, 3, 3)
    assert month["T7"] not in due and [line.number for line in fig.tickets][0] == month["T6"]


def test_the_dashboard_charts_the_same_overdue_count_and_on_time_rate(logged_in, month):
    from tests.console.routes.test_dashboard import _pct, _section, _table

    page = logged_in.get("/console/?period=month&from=01/02/2026&to=28/02/2026").text
    assert _table(_section(page, "tickets"))[1][0::3] == ["Tháng 02/2026", str(OVERDUE)]
    assert _table(_section(page, "tickets"))[1][1] == str(RECEIVED)
    assert _table(_section(page, "on-time"))[1] == ["Tháng 02/2026", _pct(ON_TIME_RATE)]


def test_the_report_page_and_its_csv_and_xlsx_say_the_same(console_settings, logged_in, month):
    from openpyxl import load_workbook

    from tests.console.helpers import audit_rows

    page = logged_in.get("/console/report?month=02/2026")
    assert page.status_code == 200
    html = page.text
    assert "tháng 02/2026" in html and "50,0 %" in html and "66,7 %" in html and "3,00" in html
    assert f"Phiếu số {month['T2']}" in html and "Lừa đảo trực tuyến" in html and "Quá hạn" in html

    r = logged_in.get("/console/report/download?month=2026-02&format=csv")
    assert r.status_code == 200 and "bao-cao-phan-anh-2026-02.csv" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    summary = {row[0]: row[1] for row in rows if len(row) == 2}
    assert summary["Phiếu tiếp nhận trong tháng"] == str(RECEIVED)
    assert summary["Xử lý đúng hạn"] == str(ON_TIME) and summary["Quá hạn, chưa xử lý"] == str(OVERDUE)
    assert summary["Tỷ lệ xử lý đúng hạn"] == "50,0 %" and summary["Tỷ lệ người gọi chấm điểm"] == "66,7 %"
    listed = {row[0]: row for row in rows if row and row[0].startswith("Phiếu số ")}
    t2 = listed[f"Phiếu số {month['T2']}"]
    assert t2[1] == "12/02/2026 10:00" and t2[7] == "26/02/2026" and t2[10] == "Xử lý đúng hạn"
    assert listed[f"Phiếu số {month['T6']}"][1] == "01/02/2026 00:30" and len(listed) == RECEIVED
    # Nothing internal: no category or status codes, no caller numbers.
    text = r.content.decode("utf-8-sig")
    for code in ("khac", "lua_dao", "goi_lai", "in_progress", "handled_on_time", "0912345678", "*678"):
        assert code not in text, code

    r = logged_in.get("/console/report/download?month=02/2026&format=xlsx")
    wb = load_workbook(io.BytesIO(r.content))
    cells = {row[0]: row[1] for row in wb["Tổng hợp"].iter_rows(values_only=True) if row[0] and len(row) > 1}
    assert cells["Phiếu tiếp nhận trong tháng"] == RECEIVED and cells["Đã xử lý"] == ON_TIME + LATE
    assert cells["Tỷ lệ xử lý đúng hạn"] == pytest.approx(ON_TIME_RATE)
    assert cells["Điểm hài lòng trung bình (1–5)"] == pytest.approx(SATISFACTION)
    sheet = list(wb["Danh sách phiếu"].iter_rows(values_only=True))
    assert sheet[0][0] == "Số phiếu" and len(sheet) == 1 + RECEIVED
    t2 = next(row for row in sheet if row[0] == f"Phiếu số {month['T2']}")
    assert t2[1] == dt.datetime(2026, 2, 12, 10, 0) and t2[7] == dt.datetime(2026, 2, 26)
    assert [e.detail for e in audit_rows(console_settings, "export_report")] == ["csv", "xlsx"]


def test_hotline_report_writes_the_same_month(console_settings, month, tmp_path):
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from hotline.cli import app

    out = tmp_path / "thang-2.xlsx"
    r = CliRunner().invoke(app, ["report", "--month", "02/2026", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "6 phiếu" in r.output and "50,0 %" in r.output
    cells = {row[0]: row[1] for row in load_workbook(out)["Tổng hợp"].iter_rows(values_only=True) if row[0]}
    assert cells["Tỷ lệ xử lý đúng hạn"] == pytest.approx(ON_TIME_RATE)
    bad = CliRunner().invoke(app, ["report", "--month", "13/2026"])
    assert bad.exit_code != 0 and "MM/YYYY" in str(bad.output) + str(bad.exception)
