"""The monthly report in the shape the province files it: a summary, by category, by agency, then the
month's tickets; as CSV (UTF-8 with a BOM, so that Excel reads the Vietnamese) or XLSX (openpyxl).

Everything is in Vietnamese: titles from `ivr.tickets`, dates dd/mm/yyyy in local time, no internal
codes and no caller numbers (the file leaves the console).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from console.data.ticket_figures import MonthFigures, Tally
from console.labels import (
    GONE_CHOICE_VI,
    NO_AGENCY_VI,
    NO_CATEGORY_VI,
    STANDING_VI,
    TICKET_REASON_VI,
    TICKET_STATUS_VI,
)

if TYPE_CHECKING:
    from ivr.settings import TicketSettings

Row = list[Any]  # cells: str, int, float (a rate, 0..1), date, datetime or None


@dataclass(frozen=True)
class Names:
    """Vietnamese titles of what tickets store as ids (settings), and of communes (the province's list)."""

    categories: Mapping[str, str]
    agencies: Mapping[str, str]
    communes: Mapping[str, str] | None = None  # code -> "Xã Anh Sơn"; None: the code is shown

    @classmethod
    def of(cls, tickets: TicketSettings, communes: Mapping[str, str] | None = None) -> Names:
        return cls(
            {c.id: c.title for c in tickets.categories}, {a.id: a.title for a in tickets.agencies}, communes
        )

    def category(self, key: str) -> str:
        return self.categories.get(key, GONE_CHOICE_VI) if key else NO_CATEGORY_VI

    def agency(self, key: str) -> str:
        return self.agencies.get(key, GONE_CHOICE_VI) if key else NO_AGENCY_VI

    def commune(self, code: str | None) -> str:
        if not code:
            return ""
        return (self.communes or {}).get(code, code)


def title(fig: MonthFigures) -> str:
    return f"Báo cáo tiếp nhận và xử lý phản ánh qua tổng đài — tháng {fig.month:02d}/{fig.year}"


GROUP_HEADER = ["Tiếp nhận", "Đã xử lý", "Đúng hạn", "Trễ hạn", "Quá hạn chưa xử lý", "Tỷ lệ đúng hạn"]
TICKET_HEADER = [
    "Số phiếu", "Ngày tiếp nhận", "Loại", "Nhóm", "Cơ quan xử lý", "Xã, phường", "Người phụ trách",
    "Hạn xử lý", "Ngày xử lý", "Trạng thái", "Tiến độ",
]  # fmt: skip


def _group(label: str, t: Tally) -> Row:
    return [label, t.received, t.handled, t.handled_on_time, t.handled_late, t.overdue_open, t.on_time_rate]


def sections(fig: MonthFigures, names: Names) -> Iterator[tuple[str, Row | None, list[Row]]]:
    """(section title, header, rows) in report order; shared by CSV, XLSX and the console page."""
    t = fig.total
    yield (
        "Tổng hợp",
        ["Chỉ tiêu", "Giá trị"],
        [
            ["Phiếu tiếp nhận trong tháng", t.received],
            ["Đã xử lý", t.handled],
            ["Xử lý đúng hạn", t.handled_on_time],
            ["Xử lý trễ hạn", t.handled_late],
            ["Quá hạn, chưa xử lý", t.overdue_open],
            ["Đang trong hạn, chưa xử lý", t.open_on_time],
            ["Tỷ lệ xử lý đúng hạn", t.on_time_rate],
            ["Cuộc gọi trong tháng", fig.calls],
            ["Điểm hài lòng trung bình (1–5)", fig.satisfaction_avg],
            ["Tỷ lệ người gọi chấm điểm", fig.response_rate],
            ["Số liệu tính đến", fig.taken],
        ],
    )
    by_category = [_group(names.category(g.key), g) for g in fig.by_category]
    yield "Theo nhóm phản ánh", ["Nhóm", *GROUP_HEADER], by_category
    by_agency = [_group(names.agency(g.key), g) for g in fig.by_agency]
    yield "Theo cơ quan xử lý", ["Cơ quan", *GROUP_HEADER], by_agency
    yield (
        "Danh sách phiếu trong tháng",
        TICKET_HEADER,
        [
            [
                f"Phiếu số {line.number}",
                line.received,
                TICKET_REASON_VI.get(line.reason, ""),
                names.category(line.category),
                names.agency(line.agency),
                names.commune(line.commune),
                line.assignee,
                line.due,
                line.handled,
                TICKET_STATUS_VI.get(line.status, ""),
                STANDING_VI[line.standing],
            ]
            for line in fig.tickets
        ],
    )


RATE_KEYS = {"Tỷ lệ xử lý đúng hạn", "Tỷ lệ người gọi chấm điểm", "Tỷ lệ đúng hạn"}


def text_cell(value: Any, *, rate: bool = False) -> str:
    """A cell as people read it: dd/mm/yyyy (HH:MM local), 87,5 %, 4,25; "" for nothing."""
    if value is None:
        return "–" if rate else ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return f"{value * 100:.1f} %".replace(".", ",") if rate else f"{value:.2f}".replace(".", ",")
    return str(value)


def is_rate(header: Row | None, row: Row, col: int) -> bool:
    if header is not None and col < len(header) and header[col] in RATE_KEYS:
        return True
    return col == 1 and isinstance(row[0], str) and row[0] in RATE_KEYS


def to_csv(fig: MonthFigures, names: Names) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([title(fig)])
    for name, header, rows in sections(fig, names):
        w.writerow([])
        w.writerow([name])
        if header:
            w.writerow(header)
        for row in rows:
            w.writerow([text_cell(v, rate=is_rate(header, row, i)) for i, v in enumerate(row)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(fig: MonthFigures, names: Names) -> bytes:
    """Two sheets: "Tổng hợp" (summary, by category, by agency) and "Danh sách phiếu"; dates are dates,
    rates are percentages, so the province can compute on them."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = "Tổng hợp"
    listing = wb.create_sheet("Danh sách phiếu")
    summary.append([title(fig)])
    summary["A1"].font = Font(bold=True, size=13)
    for name, header, rows in sections(fig, names):
        sheet = listing if name.startswith("Danh sách") else summary
        if sheet is summary:
            summary.append([])
            summary.append([name])
            summary.cell(summary.max_row, 1).font = Font(bold=True)
        if header:
            sheet.append(header)
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
            for col, cell in enumerate(sheet[sheet.max_row]):
                if is_rate(header, row, col):
                    cell.number_format = "0.0%"
                elif isinstance(cell.value, dt.datetime):
                    cell.number_format = "dd/mm/yyyy hh:mm"
                elif isinstance(cell.value, dt.date):
                    cell.number_format = "dd/mm/yyyy"
                elif isinstance(cell.value, float):
                    cell.number_format = "0.00"
    summary.column_dimensions["A"].width = 36
    for letter, width in zip("ABCDEFGHIJK", (16, 18, 18, 24, 36, 22, 18, 12, 18, 12, 16), strict=True):
        listing.column_dimensions[letter].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
