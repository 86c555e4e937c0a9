"""The monthly report: the figures of a chosen month on a page, and as CSV or XLSX files (audited)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from console.audit_actions import AuditAction
from console.context import PREFIX, Console
from console.data.ticket_figures import MonthFigures, month_figures, parse_month
from console.data.times import today_local, utcnow
from console.deps import ConsoleDep, Db, PageActor, PageLogin
from console.monthly_report import Names, is_rate, sections, text_cell, title, to_csv, to_xlsx

router = APIRouter(include_in_schema=False)

FORMATS = {
    "csv": ("text/csv; charset=utf-8", to_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx),
}


def _month(text: str, tz: dt.tzinfo) -> tuple[int, int]:
    if not text:
        today = today_local(tz)
        return today.year, today.month
    try:
        return parse_month(text)
    except ValueError:
        raise HTTPException(422, "Tháng không hợp lệ: viết theo dạng MM/YYYY, ví dụ 03/2027.") from None


def _figures(console: Console, db: Db, year: int, month: int) -> MonthFigures:
    with db() as s:
        return month_figures(s, year, month, now=utcnow(), tz=console.tz)


def names_of(console: Console) -> Names:
    return Names.of(console.settings.ivr.tickets, dict(console.communes()))


@router.get(PREFIX + "/report")
def report(console: ConsoleDep, db: Db, login: PageLogin, month: str = Query("", max_length=10)) -> Response:
    year, mon = _month(month, console.tz)
    fig = _figures(console, db, year, mon)
    return console.render(
        "report.html",
        login,
        page="tickets",
        heading=title(fig),
        month_value=f"{year:04d}-{mon:02d}",
        month_text=f"{mon:02d}/{year}",
        sections=list(sections(fig, names_of(console))),
        cell=text_cell,
        is_rate=is_rate,
    )


@router.get(PREFIX + "/report/download")
def download(
    console: ConsoleDep,
    db: Db,
    actor: PageActor,
    month: str = Query("", max_length=10),
    format: str = Query("xlsx", max_length=4),
) -> Response:
    if format not in FORMATS:
        raise HTTPException(422, "Định dạng không hợp lệ: chọn CSV hoặc Excel (XLSX).")
    year, mon = _month(month, console.tz)
    media_type, write = FORMATS[format]
    body = write(_figures(console, db, year, mon), names_of(console))
    actor.record(AuditAction.EXPORT_REPORT, f"report:{year:04d}-{mon:02d}", format)
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="bao-cao-phan-anh-{year:04d}-{mon:02d}.{format}"',
            "Cache-Control": "private, no-store",
        },
    )
