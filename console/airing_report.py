"""The province's view of one bulletin's airing: a row per targeted commune with its downloads, its
confirmation and where it stands against the deadline; as CSV (UTF-8 with a BOM, for Excel) or XLSX."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from enum import StrEnum

from broadcast.airing import CommuneAiring
from core.clock import format_local


class AiringStanding(StrEnum):
    AIRED = "aired"  # confirmed on or before the deadline
    AIRED_LATE = "aired_late"
    MISSING = "missing"  # not confirmed and the deadline passed
    PENDING = "pending"  # not confirmed, still within the deadline


STANDING_VI: dict[str, str] = {
    AiringStanding.AIRED: "Đã phát đúng hạn",
    AiringStanding.AIRED_LATE: "Đã phát, trễ hạn",
    AiringStanding.MISSING: "Chưa phát, quá hạn",
    AiringStanding.PENDING: "Chưa phát, còn hạn",
}
assert set(STANDING_VI) == set(AiringStanding), "every standing needs a label"

HEADER = (
    "Xã, phường",
    "Mã đơn vị",
    "Số lần thiết bị tải",
    "Tải lần đầu",
    "Xác nhận đã phát lúc",
    "Tình trạng",
)


def standing(row: CommuneAiring, deadline: dt.datetime, now: dt.datetime) -> AiringStanding:
    """Where a commune stands (times naive UTC)."""
    if row.aired_at is not None:
        return AiringStanding.AIRED if row.aired_at <= deadline else AiringStanding.AIRED_LATE
    return AiringStanding.MISSING if now > deadline else AiringStanding.PENDING


@dataclass(frozen=True)
class AiringSheet:
    """What the page and the exports show for one bulletin."""

    title: str
    deadline: dt.datetime  # naive UTC
    rows: list[tuple[CommuneAiring, AiringStanding]]
    anonymous_downloads: int

    def count(self, *wanted: AiringStanding) -> int:
        return sum(1 for _, st in self.rows if st in wanted)

    def table(self, tz: dt.tzinfo) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        for row, st in self.rows:
            out.append(
                (
                    row.commune.name,
                    str(row.commune.code),
                    str(row.downloads),
                    format_local(row.first_download, tz) if row.first_download else "",
                    format_local(row.aired_at, tz) if row.aired_at else "",
                    STANDING_VI[st],
                )
            )
        return out


def to_csv(sheet: AiringSheet, tz: dt.tzinfo) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(("Bản tin", sheet.title))
    w.writerow(("Hạn xác nhận đã phát", format_local(sheet.deadline, tz)))
    w.writerow(("Lượt tải không kèm mã thiết bị", str(sheet.anonymous_downloads)))
    w.writerow(())
    w.writerow(HEADER)
    w.writerows(sheet.table(tz))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(sheet: AiringSheet, tz: dt.tzinfo) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Phát sóng"
    ws.append(("Bản tin", sheet.title))
    ws.append(("Hạn xác nhận đã phát", format_local(sheet.deadline, tz)))
    ws.append(("Lượt tải không kèm mã thiết bị", sheet.anonymous_downloads))
    ws.append(())
    ws.append(HEADER)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for name, code, downloads, first, aired, st in sheet.table(tz):
        ws.append((name, int(code), int(downloads), first, aired, st))
    for column, width in zip("ABCDEF", (28, 12, 18, 18, 22, 20), strict=True):
        ws.column_dimensions[column].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
