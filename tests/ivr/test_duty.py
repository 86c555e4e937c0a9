"""The duty rota: who rings at a given moment, public holidays, and the config that describes it.

Every moment is an explicit datetime: nothing here depends on today's date or the time of day.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from core.errors import ConfigError
from hotline.settings import load_settings
from ivr.duty import HolidayCalendar, Hours, Rota, Shift, overlap
from ivr.services import duty_rota, flow_config
from ivr.settings import duty_zone

from ..conftest import ROOT

CONFIG = ROOT / "config" / "hotline.yaml"
VN = dt.timezone(dt.timedelta(hours=7))
OFFICE = "PJSIP/operator&PJSIP/operator2"
NIGHT = "PJSIP/0987654321@trunk-vnpt"
WEEKEND = "PJSIP/0912000111@trunk-vnpt"
DEFAULT = "PJSIP/operator"


def shift(days: str, hours: str, ring: str) -> Shift:
    return Shift(frozenset(days.split()), Hours.parse(hours), ring)


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=VN)


@pytest.fixture(scope="module")
def rota() -> Rota:
    return Rota(
        [
            shift("mon tue wed thu fri", "07:30-17:00", OFFICE),
            shift("mon tue wed thu fri", "22:00-07:00", NIGHT),
            shift("sat sun holiday", "08:00-12:00", WEEKEND),
        ],
        DEFAULT,
        "Asia/Ho_Chi_Minh",
        HolidayCalendar(),
    )


def test_hours_parse_through_midnight_and_refuse_what_is_not_a_time():
    assert Hours.parse("07:30-17:00") == Hours(450, 1020) and not Hours(450, 1020).overnight
    night = Hours.parse("22:00-07:00")
    assert night.overnight and night.same_day == (1320, 1440) and night.next_morning == 420
    assert Hours.parse("00:00-24:00").same_day == (0, 1440)
    assert str(Hours.parse(" 7:05 - 9:00 ")) == "07:05-09:00"
    for bad, why in [
        ("7h30-17h", "HH:MM-HH:MM"),
        ("07:30", "HH:MM-HH:MM"),
        ("25:00-26:00", "not a time of day"),
        ("08:61-09:00", "not a time of day"),
        ("24:00-07:00", "not a time of day"),
        ("08:00-08:00", "starts when it ends"),
    ]:
        with pytest.raises(ValueError, match=why):
            Hours.parse(bad)


def test_weekday_office_hours_ring_the_office_and_the_rest_rings_the_default(rota):
    # Monday 1 March 2027, a working day.
    assert rota.ringing(at(2027, 3, 1, 7, 30)) == OFFICE
    assert rota.ringing(at(2027, 3, 1, 16, 59)) == OFFICE
    assert rota.ringing(at(2027, 3, 1, 17, 0)) == DEFAULT  # the end is not part of the shift
    assert rota.ringing(at(2027, 3, 1, 7, 29)) == DEFAULT  # no night shift starts on Sunday
    assert rota.ringing(at(2027, 3, 2, 6, 59)) == NIGHT  # Monday's night shift
    assert rota.ringing(at(2027, 3, 2, 7, 0)) == DEFAULT
    assert rota.ringing(at(2027, 3, 2, 7, 30)) == OFFICE


def test_a_night_shift_belongs_to_the_day_it_starts(rota):
    friday_night = rota.on_duty(at(2027, 3, 5, 23, 0))
    assert friday_night.ring == NIGHT and friday_night.started == dt.date(2027, 3, 5)
    saturday_morning = rota.on_duty(at(2027, 3, 6, 3, 0))
    assert saturday_morning.ring == NIGHT and saturday_morning.started == dt.date(2027, 3, 5)
    # Saturday night is no shift (none starts on Saturday evening): Sunday 03:00 rings the default.
    assert rota.ringing(at(2027, 3, 7, 3, 0)) == DEFAULT
    # Monday early morning: Sunday started no night shift either.
    monday_early = rota.on_duty(at(2027, 3, 1, 6, 0))
    assert monday_early.ring == DEFAULT and monday_early.shift is None


def test_time_zones_are_converted_to_the_rotas_local_time(rota):
    # 01:00 UTC on Monday 1 March 2027 is 08:00 in Vietnam: office hours.
    assert rota.ringing(dt.datetime(2027, 3, 1, 1, 0, tzinfo=dt.UTC)) == OFFICE
    # 10:30 UTC on Friday is 17:30 in Vietnam: after the office closed.
    assert rota.ringing(dt.datetime(2027, 3, 5, 10, 30, tzinfo=dt.UTC)) == DEFAULT
    # A naive time is the rota's local time.
    assert rota.ringing(dt.datetime(2027, 3, 1, 8, 0)) == OFFICE


def test_on_tet_only_holiday_shifts_apply(rota):
    # Tết 2027: Monday 8 and Tuesday 9 February are public holidays, weekdays or not.
    for day in (8, 9, 10):
        assert rota.kind(dt.date(2027, 2, day)) == "holiday"
        assert rota.ringing(at(2027, 2, day, 9, 0)) == WEEKEND
        assert rota.ringing(at(2027, 2, day, 14, 0)) == DEFAULT  # no office on Tết
        assert rota.ringing(at(2027, 2, day, 23, 0)) == DEFAULT  # no weekday night shift starts on Tết
    # The first working day after Tết: office hours again; the night before was a holiday, no night shift.
    assert rota.kind(dt.date(2027, 2, 11)) == "thu"
    assert rota.ringing(at(2027, 2, 11, 3, 0)) == DEFAULT
    assert rota.ringing(at(2027, 2, 11, 9, 0)) == OFFICE
    # The night shift that started on the last working day before Tết still ends in the morning.
    assert rota.kind(dt.date(2027, 2, 3)) == "wed" and rota.kind(dt.date(2027, 2, 4)) == "holiday"
    assert rota.ringing(at(2027, 2, 4, 5, 0)) == NIGHT


def test_national_day_hung_kings_day_and_days_the_province_adds():
    calendar = HolidayCalendar([dt.date(2027, 2, 11)])
    assert calendar(dt.date(2026, 9, 2)) and calendar(dt.date(2027, 9, 2))  # National Day
    assert calendar(dt.date(2027, 4, 16))  # Hùng Kings' Commemoration (10th of the 3rd lunar month)
    assert calendar(dt.date(2027, 4, 30)) and calendar(dt.date(2027, 5, 1))
    assert not calendar(dt.date(2027, 3, 1)) and calendar.name(dt.date(2027, 3, 1)) == ""
    assert "Hùng Vương" in calendar.name(dt.date(2027, 4, 16))
    assert "Tết" in calendar.name(dt.date(2027, 2, 6))
    assert calendar(dt.date(2027, 2, 11)) and calendar.name(dt.date(2027, 2, 11))  # added by the province
    assert not HolidayCalendar()(dt.date(2027, 2, 11))


def test_shifts_that_could_ring_at_once_are_found_whatever_day_is_a_holiday():
    office = shift("mon tue wed thu fri", "07:30-17:00", "a")
    assert overlap(office, shift("sat sun", "07:30-17:00", "b")) is None
    assert overlap(office, shift("fri", "16:00-18:00", "b")) == "on fri 16:00-17:00"
    # A night shift that ends when the day shift starts meets nothing.
    assert overlap(office, shift("mon tue wed thu fri sat sun", "17:00-07:30", "b")) is None
    # ... one that ends later runs into Tuesday's office hours after Monday night.
    assert overlap(office, shift("mon", "17:00-08:00", "b")) == "on tue 07:30-08:00 after a mon night"
    # Monday's night runs into a Tuesday that may be a holiday.
    assert overlap(shift("holiday", "06:00-09:00", "a"), shift("mon", "22:00-07:00", "b")) == (
        "on holiday 06:00-07:00 after a mon night"
    )
    # A holiday may fall on any weekday: a holiday night runs into any morning.
    assert overlap(shift("holiday", "20:00-08:00", "a"), office) == "on mon 07:30-08:00 after a holiday night"
    assert overlap(shift("sat", "20:00-08:00", "a"), office) is None  # Sunday has no office hours


def test_a_days_plan_lists_every_change(rota):
    plan = rota.day_plan(dt.date(2027, 3, 1))
    assert [(a, b, who.ring) for a, b, who in plan] == [
        ("00:00", "07:30", DEFAULT),
        ("07:30", "17:00", OFFICE),
        ("17:00", "22:00", DEFAULT),
        ("22:00", "24:00", NIGHT),
    ]
    assert plan[0][2].shift is None and plan[1][2].shift is rota.shifts[0]
    saturday = rota.day_plan(dt.date(2027, 3, 6))
    assert saturday[0][:2] == ("00:00", "07:00") and saturday[0][2].started == dt.date(2027, 3, 5)


# --- the config -----------------------------------------------------------------------------------

VNPT = {"name": "vnpt", "kind": "register", "host": "203.0.113.10", "username": "u",
        "numbers": ["02383599999"]}  # fmt: skip
DIAL_OUT = {"trunk": "vnpt", "allowlist": ["0987654321", "0912000111"]}


def _env(rota: list) -> dict[str, str]:
    return {
        "HOTLINE_IVR__ASTERISK__TRUNKS": json.dumps([VNPT]),
        "HOTLINE_IVR__ASTERISK__OPERATOR_SEATS": "2",
        "HOTLINE_IVR__ASTERISK__DIAL_OUT": json.dumps(DIAL_OUT),
        "HOTLINE_IVR__FLOW__OPERATOR_ENDPOINT": "PJSIP/operator",
        "HOTLINE_IVR__DUTY": json.dumps({"rota": rota}),
    }


def test_shipped_config_has_no_rota_so_nothing_changes():
    settings = load_settings(CONFIG, env={})
    assert settings.ivr.duty.rota == () and duty_zone(settings) == "Asia/Ho_Chi_Minh"
    assert duty_rota(settings) is None and not flow_config(settings).duty_rota


def test_the_rota_reads_hours_in_locale_time_zone_unless_it_has_its_own(tmp_path):
    cfg = tmp_path / "hotline.yaml"
    cfg.write_text("locale:\n  time_zone: Asia/Bangkok\n")
    assert duty_zone(load_settings(cfg, env={})) == "Asia/Bangkok"
    cfg.write_text("locale:\n  time_zone: Asia/Bangkok\nivr:\n  duty:\n    timezone: Asia/Tokyo\n")
    assert duty_zone(load_settings(cfg, env={})) == "Asia/Tokyo"
    cfg.write_text("locale:\n  time_zone: Asia/Hanoi_City\n")
    with pytest.raises(ConfigError, match=r"hotline.yaml:2: locale.time_zone: .*not a time zone"):
        load_settings(cfg, env={})


def test_rota_targets_are_written_out_like_operator_endpoint():
    rota = [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "hours": "07:30-17:00",
         "ring": ["PJSIP/operator", "PJSIP/operator2"]},
        {"days": ["mon", "tue", "wed", "thu", "fri"], "hours": "22:00-07:00", "ring": ["0987654321"]},
        {"days": ["sat", "sun", "holiday"], "hours": "8:00-12:00", "ring": ["0912000111"]},
    ]  # fmt: skip
    settings = load_settings(CONFIG, env=_env(rota))
    entries = settings.ivr.duty.rota
    assert entries[1].ring == (NIGHT,) and entries[2].ring == (WEEKEND,) and entries[2].hours == "08:00-12:00"
    built = duty_rota(settings)
    assert built is not None and flow_config(settings).duty_rota
    assert built.ringing(at(2027, 3, 1, 9, 0)) == OFFICE and built.ringing(at(2027, 3, 1, 23, 0)) == NIGHT
    assert built.ringing(at(2026, 9, 2, 9, 0)) == WEEKEND  # National Day, a Wednesday
    assert built.ringing(at(2027, 3, 1, 18, 0)) == "PJSIP/operator"  # operator_endpoint between shifts


@pytest.mark.parametrize(
    ("entry", "where", "why"),
    [
        (
            {"days": ["monday"], "hours": "07:30-17:00", "ring": ["PJSIP/operator"]},
            r"rota\[0\]\.days\[0\]",
            "Input should be 'mon'",
        ),
        (
            {"days": ["mon", "mon"], "hours": "07:30-17:00", "ring": ["PJSIP/operator"]},
            r"rota\[0\]\.days",
            "mon listed twice",
        ),
        (
            {"days": [], "hours": "07:30-17:00", "ring": ["PJSIP/operator"]},
            r"rota\[0\]\.days",
            "at least one day",
        ),
        ({"days": ["mon"], "hours": "7h30-17h", "ring": ["PJSIP/operator"]}, r"rota\[0\]\.hours", "HH:MM"),
        ({"days": ["mon"], "hours": "07:30-17:00", "ring": []}, r"rota\[0\]\.ring", "at least 1"),
        (
            {"days": ["mon"], "hours": "07:30-17:00", "ring": ["0977000111"]},
            r"rota\[0\]\.ring",
            "0977000111 is not in ivr.asterisk.dial_out.allowlist",
        ),
        (
            {"days": ["mon"], "hours": "07:30-17:00", "ring": ["PJSIP/operator3"]},
            r"rota\[0\]\.ring",
            "operator_seats is 2",
        ),
        (
            {"days": ["mon"], "hours": "07:30-17:00", "ring": ["Local/100@hotline-in"]},
            r"rota\[0\]\.ring",
            "only PJSIP/ phones",
        ),
        (
            {"days": ["mon"], "hours": "07:30-17:00", "ring": [987654321]},
            r"rota\[0\]\.ring",
            'write phone numbers in quotes, e.g. "0987654321"',
        ),
        (
            {"days": ["mon"], "hours": "07:30-17:00", "ring": ["PJSIP/operator"], "who": "x"},
            r"rota\[0\]\.who",
            "unknown key",
        ),
    ],  # fmt: skip
)
def test_a_bad_rota_entry_is_refused_naming_its_key(entry, where, why):
    with pytest.raises(ConfigError, match=rf"ivr\.duty\.{where}: .*{why}"):
        load_settings(CONFIG, env=_env([entry]))


def test_overlapping_shifts_are_refused():
    rota = [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "hours": "07:30-17:00", "ring": ["PJSIP/operator"]},
        {"days": ["sun", "mon"], "hours": "17:00-08:00", "ring": ["0987654321"]},
    ]
    why = r"ivr\.duty\.rota\[1\]: overlaps rota\[0\] on tue 07:30-08:00 after a mon night"
    with pytest.raises(ConfigError, match=why):
        load_settings(CONFIG, env=_env(rota))


def test_rota_errors_in_the_file_point_at_their_line(tmp_path):
    bad = tmp_path / "hotline.yaml"
    bad.write_text(
        "ivr:\n"
        "  duty:\n"
        "    timezone: Asia/Hanoi_City\n"
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"hotline.yaml:3: ivr.duty.timezone: .*not a time zone"):
        load_settings(bad, env={})
    bad.write_text(
        "ivr:\n"
        "  duty:\n"
        "    rota:\n"
        "      - days: [mon]\n"
        "        hours: 07:30-17:00\n"
        "        ring: [PJSIP/operator]\n"
        "      - days: [mon]\n"
        "        hours: 12:00-13:00\n"
        "        ring: [PJSIP/operator]\n"
        "      - days: [tue]\n"
        "        hours: 12:00-13:00\n"
        "        ring: ['0987654321']\n"
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"hotline.yaml:7: ivr.duty.rota\[1\]: overlaps rota\[0\] on mon"):
        load_settings(bad, env={})
    bad.write_text(bad.read_text().replace("12:00-13:00", "17:00-18:00", 1))
    why = r"hotline.yaml:12: ivr.duty.rota\[2\].ring: .*dial_out.trunk is empty"
    with pytest.raises(ConfigError, match=why):
        load_settings(bad, env={})
