"""A commune radio account's pages: its commune's bulletins, feed and playlist links, airing
confirmations, and the commune's device token (also made by an administrator for any commune)."""

from __future__ import annotations

from fastapi import APIRouter, Form, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse, Response

from broadcast.airing import bulletin_key
from broadcast.bulletin import PRIORITY_LABELS_VI
from broadcast.communes import Commune
from broadcast.service import BroadcastService
from console.audit_actions import AuditAction
from console.context import RADIO, Console
from console.data.sessions import Login
from console.deps import AnyActor, AnyCsrfLogin, AnyPageLogin, ConsoleDep
from console.radio_deps import (
    COMMUNE_ONLY,
    NOT_YOURS,
    Airings,
    CommuneCsrfLogin,
    Radio,
    deadline_of,
    own_commune,
    segment_for,
)
from core.db import MAX_ROW_ID
from core.publicurl import public_base_url

router = APIRouter(include_in_schema=False)

SegmentId = PathParam(ge=1, le=MAX_ROW_ID)
TOKEN_FOR = "Chỉ quản trị viên hoặc tài khoản của chính xã được tạo mã thiết bị."


def _commune_page(
    console: Console,
    radio: BroadcastService,
    airings,
    login: Login,
    commune: Commune,
    *,
    token: str = "",
    done: str = "",
) -> Response:
    segments = radio.list_segments(commune)
    aired = {seg.id: airings.aired(bulletin_key(seg), commune.code) for seg in segments}
    # The commune's own readings awaiting its release (nowhere else to find them once the job page is left).
    held = [
        seg
        for seg in radio.list_segments(include_hidden=True)
        if seg.held and seg.commune_code == commune.code
    ]
    base = public_base_url(console.settings.web)
    return console.render(
        "radio_commune.html",
        login,
        page="radio",
        commune=commune,
        segments=segments,
        held=held,
        aired=aired,
        deadline=lambda seg: deadline_of(console, seg),
        labels=PRIORITY_LABELS_VI,
        feed=f"{base}/truyen-thanh/{commune.slug}/rss.xml",
        playlist=f"{base}/truyen-thanh/{commune.slug}/danh-sach-phat.m3u",
        page_url=f"{base}/truyen-thanh/{commune.slug}",
        token=token,
        token_issued=airings.token_issued(commune.code),
        done=done,
    )


@router.get(RADIO + "/xa")
def commune_home(
    console: ConsoleDep,
    radio: Radio,
    airings: Airings,
    login: AnyPageLogin,
    done: str = Query("", max_length=16),
    xa: str = Query("", max_length=16),
) -> Response:
    """A commune account's own page; the province (administrators, editors) may open any commune's
    (`?xa=<code>`), read-only; others are refused."""
    op = login.operator
    if op.role == "commune":
        return _commune_page(console, radio, airings, login, own_commune(radio, login), done=done)
    if not op.sees_province:
        raise HTTPException(403, COMMUNE_ONLY)
    unit = radio.communes.by_code(int(xa)) if xa.isdigit() else None
    if unit is None:
        return RedirectResponse(RADIO + "/phat-song", status_code=303)
    return _commune_page(console, radio, airings, login, unit)


@router.post(RADIO + "/xa/da-phat/{segment_id}")
def confirm_aired(
    radio: Radio, airings: Airings, login: CommuneCsrfLogin, actor: AnyActor, segment_id: int = SegmentId
) -> Response:
    """The commune operator's button: this bulletin went on air now."""
    commune = own_commune(radio, login)
    seg = segment_for(radio, login, segment_id)
    if not seg.for_commune(commune.code):
        raise HTTPException(403, NOT_YOURS)
    airings.confirm_aired(seg, commune.code, login.operator.username)
    actor.record(AuditAction.CONFIRM_AIRED, f"bulletin:{seg.id}", f"commune={commune.code}")
    return RedirectResponse(f"{RADIO}/xa?done=aired", status_code=303)


@router.post(RADIO + "/ma-thiet-bi")
def device_token(
    console: ConsoleDep,
    radio: Radio,
    airings: Airings,
    login: AnyCsrfLogin,
    actor: AnyActor,
    commune: str = Form("", max_length=16),
) -> Response:
    """A new device token for a commune (its own for a commune account; any for an administrator),
    replacing the previous one; shown once on the page that answers."""
    op = login.operator
    if op.role == "commune":
        unit = own_commune(radio, login)
    elif op.is_admin:
        unit_or_none = radio.communes.by_code(int(commune)) if commune.isdigit() else None
        if unit_or_none is None:
            raise HTTPException(422, "Hãy chọn một xã, phường trong danh sách.")
        unit = unit_or_none
    else:
        raise HTTPException(403, TOKEN_FOR)
    token = airings.issue_token(unit.code, op.username)
    actor.record(AuditAction.ISSUE_DEVICE_TOKEN, f"commune:{unit.code}")
    return _commune_page(console, radio, airings, login, unit, token=token)
