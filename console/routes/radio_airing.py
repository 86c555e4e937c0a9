"""The province's view of airing (administrators and editors): per bulletin, which targeted communes
downloaded and aired it and which did not by its deadline; exportable as CSV and XLSX."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.responses import Response

from broadcast.airing import AiringLog, bulletin_key
from broadcast.communes import Commune
from broadcast.models import Segment
from broadcast.service import BroadcastService, NotFound
from console.airing_report import STANDING_VI, AiringSheet, AiringStanding, standing, to_csv, to_xlsx
from console.audit_actions import AuditAction
from console.context import RADIO, Console
from console.deps import AnyActor, ConsoleDep
from console.radio_deps import NO_BULLETIN, Airings, ProvinceLogin, Radio, deadline_of
from core.db import MAX_ROW_ID

router = APIRouter(include_in_schema=False)

SegmentId = PathParam(ge=1, le=MAX_ROW_ID)
FORMATS = {
    "csv": ("text/csv; charset=utf-8", to_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx),
}


def _targets(radio: BroadcastService, key: str) -> list[Commune]:
    """Every commune a bulletin reaches: its generic segment's targets and its communes' own versions."""
    codes: set[int] = set()
    for other in radio.list_segments(include_hidden=True):
        if other.held or bulletin_key(other) != key:
            continue
        if other.commune_code is not None:
            codes.add(other.commune_code)
        elif other.communes is None:
            return list(radio.communes.communes)
        else:
            codes.update(other.communes)
    return [c for c in radio.communes.communes if c.code in codes]


def _sheet(console: Console, radio: BroadcastService, airings: AiringLog, seg: Segment) -> AiringSheet:
    key = bulletin_key(seg)
    targets = _targets(radio, key)
    deadline = deadline_of(console, seg)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = [(row, standing(row, deadline, now)) for row in airings.report(key, targets)]
    # The province looks for who is missing first.
    order = {AiringStanding.MISSING: 0, AiringStanding.PENDING: 1, AiringStanding.AIRED_LATE: 2}
    rows.sort(key=lambda r: (order.get(r[1], 3), r[0].commune.name))
    return AiringSheet(seg.title, deadline, rows, airings.anonymous_downloads(key))


def _released(radio: BroadcastService, segment_id: int) -> Segment:
    try:
        seg = radio.get(segment_id)
    except NotFound:
        raise HTTPException(404, NO_BULLETIN) from None
    if seg.held:
        raise HTTPException(404, NO_BULLETIN)
    return seg


@router.get(RADIO + "/phat-song")
def overview(console: ConsoleDep, radio: Radio, airings: Airings, login: ProvinceLogin) -> Response:
    bulletins = []
    for seg, _units in radio.bulletins():
        sheet = _sheet(console, radio, airings, seg)
        bulletins.append((seg, sheet))
    return console.render(
        "radio_airing.html",
        login,
        page="radio",
        bulletins=bulletins,
        sheet=None,
        standing_vi=STANDING_VI,
        standings=AiringStanding,
        communes=radio.communes.communes,
    )


@router.get(RADIO + "/phat-song/{segment_id}")
def bulletin_airing(
    console: ConsoleDep, radio: Radio, airings: Airings, login: ProvinceLogin, segment_id: int = SegmentId
) -> Response:
    seg = _released(radio, segment_id)
    return console.render(
        "radio_airing.html",
        login,
        page="radio",
        seg=seg,
        sheet=_sheet(console, radio, airings, seg),
        standing_vi=STANDING_VI,
        standings=AiringStanding,
        bulletins=None,
        communes=radio.communes.communes,
    )


@router.get(RADIO + "/phat-song/{segment_id}/tai-ve")
def export(
    console: ConsoleDep,
    radio: Radio,
    airings: Airings,
    login: ProvinceLogin,
    actor: AnyActor,
    segment_id: int = SegmentId,
    format: str = Query("xlsx", max_length=4),
) -> Response:
    if format not in FORMATS:
        raise HTTPException(422, "Định dạng không hợp lệ: chọn CSV hoặc Excel (XLSX).")
    seg = _released(radio, segment_id)
    media_type, write = FORMATS[format]
    body = write(_sheet(console, radio, airings, seg), console.tz)
    actor.record(AuditAction.EXPORT_AIRING, f"bulletin:{seg.id}", format)
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="phat-song-ban-tin-{seg.id}.{format}"',
            "Cache-Control": "private, no-store",
        },
    )
