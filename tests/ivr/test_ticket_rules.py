"""Ticket deadlines in working days (Vietnam's weekends and public holidays) and where a ticket stands."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import ConfigError
from hotline.settings import load_settings
from ivr.settings import TicketSettings
from ivr.ticket_rules import Standing, WorkingCalendar, standing, ticket_rules
from tests.conftest import ROOT

D = dt.date
VN = dt.timezone(dt.timedelta(hours=7))


def test_working_days_skip_tet_2027_and_the_weekend():
    cal = WorkingCalendar()
    # Tết 2027: 29 Tết (Thu 4/2) to mùng năm (Wed 10/2) off, the weekend 6-7/2 inside it.
    assert [cal.is_working_day(D(2027, 2, d)) for d in range(3, 12)] == [
        True, False, False, False, False, False, False, False, True,
    ]  # fmt: skip
    # Received on Wed 3/2 (the last day at work): day 1 is Thu 11/2, day 3 Mon 15/2 (after a weekend).
    assert cal.add_working_days(D(2027, 2, 3), 1) == D(2027, 2, 11)
    assert cal.add_working_days(D(2027, 2, 3), 3) == D(2027, 2, 15)
    # Received on a holiday or a Sunday: counting starts with the next working day all the same.
    assert cal.add_working_days(D(2027, 2, 6), 3) == D(2027, 2, 15)
    # A plain weekend: Friday's ticket with two days is due Tuesday.
    assert cal.add_working_days(D(2027, 3, 5), 2) == D(2027, 3, 9)
    # 30/4 and 1/5 2027 (Fri and Sat) with the day in lieu on Mon 3/5: Thursday + 1 = Tue 4/5.
    assert cal.add_working_days(D(2027, 4, 29), 1) == D(2027, 5, 4)


def test_the_provinces_extra_days_off_and_worked_saturdays_count():
    cal = WorkingCalendar(days_off=[D(2027, 2, 11)], working_days=[D(2027, 2, 13)])
    # 11/2 is off; Saturday 13/2 is worked: from 3/2, day 1 is 12/2, day 2 Sat 13/2, day 3 Mon 15/2.
    assert [cal.add_working_days(D(2027, 2, 3), n) for n in (1, 2, 3)] == [
        D(2027, 2, 12), D(2027, 2, 13), D(2027, 2, 15),
    ]  # fmt: skip
    with pytest.raises(ValueError):
        cal.add_working_days(D(2027, 2, 3), 0)


def test_due_date_is_counted_from_the_local_day_and_the_category_chooses_the_days():
    settings = load_settings(ROOT / "config" / "hotline.yaml", env={})
    rules = ticket_rules(settings.ivr.tickets, "Asia/Ho_Chi_Minh")
    # 18:30 UTC on Tue 2/3 is already Wed 3/3 01:30 in Vietnam: counted from Wednesday.
    late = dt.datetime(2027, 3, 2, 18, 30)
    assert rules.due_date("khac", late) == D(2027, 3, 10)  # 5 working days
    assert rules.due_date("lua_dao", late) == D(2027, 3, 5)  # its own 2 days
    assert rules.category_for("feedback", "land") == "dat_dai"
    assert rules.category_for("feedback", None) == "khac"
    assert rules.category_for("callback", None) == "goi_lai"
    assert rules.category_agency["dat_dai"] == "so_nnmt"


def test_standing_against_the_deadline():
    due = D(2027, 3, 10)
    at = dt.datetime(2027, 3, 10, 16, 59)  # 23:59 local on the due day
    assert standing(due, at, D(2027, 4, 1), VN) is Standing.HANDLED_ON_TIME
    assert standing(due, at + dt.timedelta(minutes=2), D(2027, 4, 1), VN) is Standing.HANDLED_LATE
    assert standing(due, None, D(2027, 3, 10), VN) is Standing.ON_TIME
    assert standing(due, None, D(2027, 3, 11), VN) is Standing.OVERDUE
    assert standing(None, None, D(2027, 3, 11), VN) is Standing.NO_DEADLINE


@pytest.mark.parametrize(
    "text, expected",
    [
        ("    categories:\n      - {id: a, title: A}\n      - {id: a, title: B}\n",
         [":6:", "ivr.tickets", "categories[1].id", "listed twice"]),
        ("    default_category: nope\n", [":4:", "ivr.tickets", "default_category", "nope"]),
        ("    categories:\n      - {id: a, title: A, agency: x}\n",
         [":5:", "categories[0].agency", "x is not"]),
        ("    sla_days: 0\n", [":4:", "ivr.tickets.sla_days", "greater than or equal to 1"]),
    ],
)  # fmt: skip
def test_ticket_config_mistakes_name_file_line_and_key(tmp_path, text, expected):
    f = tmp_path / "hotline.yaml"
    f.write_text("ivr:\n  tickets:\n    callback_category: a\n" + text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(f, env={})
    message = str(info.value)
    assert str(f) in message, message
    for part in expected:
        assert part in message, message


def test_default_settings_are_valid():
    t = TicketSettings()
    assert {c.id for c in t.categories} >= {t.default_category, t.callback_category}
