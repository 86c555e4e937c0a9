"""The province's airing sheet: where a commune stands against the deadline, the default deadline in
working days, and the CSV export (fixed dates: nothing depends on the day the tests run)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from types import SimpleNamespace

from broadcast.airing import CommuneAiring
from broadcast.communes import load_communes
from broadcast.models import Segment
from console.airing_report import AiringSheet, AiringStanding, standing, to_csv
from console.radio_deps import deadline_of
from core.clock import zone
from ivr.ticket_rules import WorkingCalendar

TZ = zone("Asia/Ho_Chi_Minh")
DEADLINE = dt.datetime(2026, 11, 25, 16, 59, 59)  # end of 25/11/2026 in Vietnam, as naive UTC


def _row(aired: dt.datetime | None) -> CommuneAiring:
    commune = load_communes("Nghệ An").resolve("Đô Lương")
    return CommuneAiring(commune, 1 if aired else 0, aired, aired, "device" if aired else "")


def test_a_commune_stands_aired_late_missing_or_pending():
    before, after = dt.datetime(2026, 11, 25, 1, 0), dt.datetime(2026, 11, 26, 1, 0)
    assert standing(_row(before), DEADLINE, after) == AiringStanding.AIRED
    assert standing(_row(after), DEADLINE, after) == AiringStanding.AIRED_LATE
    assert standing(_row(None), DEADLINE, after) == AiringStanding.MISSING
    assert standing(_row(None), DEADLINE, before) == AiringStanding.PENDING


def test_the_default_deadline_is_two_working_days_after_release():
    settings = SimpleNamespace(broadcast=SimpleNamespace(airing_deadline_days=2))
    console = SimpleNamespace(tz=TZ, working_days=WorkingCalendar(), settings=settings)
    friday = dt.datetime(2026, 11, 27, 3, 0)  # 10:00 on Friday 27/11/2026 in Vietnam
    seg = Segment(created_at=friday, publish_at=None, deadline_at=None)
    # Saturday and Sunday do not count: Tuesday 01/12/2026, end of the day in Vietnam.
    assert deadline_of(console, seg) == dt.datetime(2026, 12, 1, 16, 59, 59)
    # Released on 31/08/2026: 1 and 2 September are the National Day holidays.
    seg = Segment(created_at=friday, publish_at=dt.datetime(2026, 8, 31, 1, 0), deadline_at=None)
    assert deadline_of(console, seg) == dt.datetime(2026, 9, 4, 16, 59, 59)
    own = Segment(created_at=friday, publish_at=None, deadline_at=DEADLINE)  # the bulletin's own
    assert deadline_of(console, own) == DEADLINE


def test_the_csv_reads_in_excel_with_vietnamese_rows():
    on_time = _row(dt.datetime(2026, 11, 25, 1, 0))
    sheet = AiringSheet("Chữ ký số", DEADLINE, [(on_time, AiringStanding.AIRED)], anonymous_downloads=3)
    raw = to_csv(sheet, TZ)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["Bản tin", "Chữ ký số"] and rows[1] == ["Hạn xác nhận đã phát", "25/11/2026 23:59"]
    assert rows[-1] == ["Xã Đô Lương", str(on_time.commune.code), "1", "25/11/2026 08:00", "25/11/2026 08:00",
                        "Đã phát đúng hạn"]  # fmt: skip
