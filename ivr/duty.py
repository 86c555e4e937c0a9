"""The duty rota: which seats or numbers ring at a given moment (`ivr.duty`).

Pure: the moment and the holiday calendar are passed in, nothing here reads the clock. A shift
belongs to the day it starts: "22:00-07:00" on `fri` rings from Friday 22:00 to Saturday 07:00. On a
public holiday only shifts listing `holiday` start; outside every shift the default (the operators
of `ivr.flow.operator_endpoint`) rings. Shifts that could ring at the same moment are refused when
the settings load (`overlap`), so who is on duty is never a matter of entry order.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
HOLIDAY = "holiday"
DAY_NAMES = (*WEEKDAYS, HOLIDAY)
DAY_VI = {
    "mon": "Thứ Hai",
    "tue": "Thứ Ba",
    "wed": "Thứ Tư",
    "thu": "Thứ Năm",
    "fri": "Thứ Sáu",
    "sat": "Thứ Bảy",
    "sun": "Chủ Nhật",
    HOLIDAY: "ngày lễ",
}
DAY_MINUTES = 24 * 60
_HOURS = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


@dataclass(frozen=True)
class Hours:
    """A shift's hours in minutes after midnight; an end at or before the start is the next morning."""

    start: int  # 0..1439
    end: int  # 1..1440

    @classmethod
    def parse(cls, text: str) -> Hours:
        """ "07:30-17:00", "22:00-07:00" (through midnight), "00:00-24:00" (all day)."""
        m = _HOURS.fullmatch(text)
        if m is None:
            raise ValueError(f"{text!r}: write hours as HH:MM-HH:MM, e.g. 07:30-17:00 or 22:00-07:00")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f"{text!r}: not a time of day (00:00 to 23:59; 24:00 only as an end)")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start == end:
            raise ValueError(f"{text!r}: starts when it ends; a whole day is 00:00-24:00")
        return cls(start, end)

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    @property
    def same_day(self) -> tuple[int, int]:
        """The part on the day the shift starts."""
        return (self.start, DAY_MINUTES if self.overnight else self.end)

    @property
    def next_morning(self) -> int:
        """Minutes the shift runs into the next day (0: none)."""
        return self.end if self.overnight else 0

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Shift:
    """One rota entry: on these days (a shift starting on them), these hours, these targets ring."""

    days: frozenset[str]  # of DAY_NAMES
    hours: Hours
    ring: str  # Dial string: PJSIP/operator&PJSIP/0987654321@trunk-vnpt


def _may_follow(day: str, next_day: str) -> bool:
    """Can a day of kind `next_day` come right after one of kind `day`? A holiday falls on any weekday."""
    if HOLIDAY in (day, next_day):
        return True
    return WEEKDAYS.index(next_day) == (WEEKDAYS.index(day) + 1) % 7


def _between(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int] | None:
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo < hi else None


def overlap(a: Shift, b: Shift) -> str | None:
    """When both shifts would ring (in words), or None when they never meet, whatever day is a holiday."""
    for day in DAY_NAMES:
        if day in a.days and day in b.days:
            both = _between(a.hours.same_day, b.hours.same_day)
            if both:
                return f"on {day} {_hhmm(both[0])}-{_hhmm(both[1])}"
    for first, second in ((a, b), (b, a)):
        morning = first.hours.next_morning
        if not morning:
            continue
        both = _between((0, morning), second.hours.same_day)
        if both is None:
            continue
        for day in sorted(first.days, key=DAY_NAMES.index):
            for nxt in sorted(second.days, key=DAY_NAMES.index):
                if _may_follow(day, nxt):
                    return f"on {nxt} {_hhmm(both[0])}-{_hhmm(both[1])} after a {day} night"
    return None


class HolidayCalendar:
    """Vietnam's public holidays (the `holidays` package: Tết, Hùng Kings' day, 30/4, 1/5, 2/9 and the
    days off in lieu it knows), plus days the province adds (`ivr.duty.extra_holidays`)."""

    def __init__(self, extra: Iterable[dt.date] = ()) -> None:
        from holidays.countries.vietnam import Vietnam  # computed offline, lunar calendar included

        self._vietnam = Vietnam(language="vi")
        self._extra = frozenset(extra)

    def __call__(self, day: dt.date) -> bool:
        return day in self._extra or day in self._vietnam

    def name(self, day: dt.date) -> str:
        """The holiday's Vietnamese name ("" on a working day)."""
        if day in self._vietnam:
            return str(self._vietnam.get(day))
        return "Ngày nghỉ theo quyết định của tỉnh" if day in self._extra else ""


@dataclass(frozen=True)
class OnDuty:
    """Who rings at a moment, and why."""

    ring: str  # Dial string ("" : nobody at all)
    shift: Shift | None  # None: outside every shift (the default rings)
    started: dt.date | None  # the day the shift started (yesterday for the morning of a night shift)


class Rota:
    """Who rings at a moment: the shift that covers it, else the default."""

    def __init__(
        self,
        shifts: Sequence[Shift],
        default: str,
        timezone: str,
        is_holiday: Callable[[dt.date], bool],
    ) -> None:
        self.shifts = tuple(shifts)
        self.default = default
        self.tz = ZoneInfo(timezone)
        self.is_holiday = is_holiday

    def kind(self, day: dt.date) -> str:
        """`holiday` on a public holiday, else the weekday's name."""
        return HOLIDAY if self.is_holiday(day) else WEEKDAYS[day.weekday()]

    def on_duty(self, at: dt.datetime) -> OnDuty:
        """Who rings at `at` (aware; a naive time is read as the rota's local time)."""
        local = at.astimezone(self.tz) if at.tzinfo is not None else at.replace(tzinfo=self.tz)
        today = local.date()
        minute = local.hour * 60 + local.minute
        kind = self.kind(today)
        for shift in self.shifts:
            start, end = shift.hours.same_day
            if kind in shift.days and start <= minute < end:
                return OnDuty(shift.ring, shift, today)
        yesterday = today - dt.timedelta(days=1)
        kind = self.kind(yesterday)
        for shift in self.shifts:
            if kind in shift.days and minute < shift.hours.next_morning:
                return OnDuty(shift.ring, shift, yesterday)
        return OnDuty(self.default, None, None)

    def ringing(self, at: dt.datetime) -> str:
        """The Dial string to ring at `at`."""
        return self.on_duty(at).ring

    def day_plan(self, day: dt.date) -> list[tuple[str, str, OnDuty]]:
        """(from, to, who) through one local day, every change included, the default's hours too."""
        marks = {0, DAY_MINUTES}
        for shift in self.shifts:
            marks.update((shift.hours.start, shift.hours.end % DAY_MINUTES))
        cuts = sorted(marks)
        plan: list[tuple[str, str, OnDuty]] = []
        for lo, hi in zip(cuts, cuts[1:], strict=False):
            who = self.on_duty(dt.datetime.combine(day, dt.time(lo // 60, lo % 60), tzinfo=self.tz))
            if plan and plan[-1][2] == who:
                plan[-1] = (plan[-1][0], _hhmm(hi), who)
            else:
                plan.append((_hhmm(lo), _hhmm(hi), who))
        return plan
