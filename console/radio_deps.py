"""What the radio pages of the console share: the radio's service, airing log, render pool and job runner (put
on the app by broadcast.web.install), the logins each radio role may use, and the default airing deadline."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, cast

from fastapi import Depends, HTTPException, Request

from broadcast.airing import AiringLog
from broadcast.communes import Commune
from broadcast.models import Segment
from broadcast.service import BroadcastService, NotFound
from console.context import Console
from console.data.sessions import Login
from console.deps import AnyCsrfLogin, AnyPageLogin
from core.jobs import JobRunner

WRITERS_ONLY = "Chỉ biên tập viên, cán bộ trực và quản trị viên được soạn và phát hành bản tin."
PROVINCE_ONLY = "Chỉ biên tập viên và quản trị viên của tỉnh được xem tình hình phát sóng các xã."
COMMUNE_ONLY = "Trang này dành cho tài khoản truyền thanh của xã, phường."
NO_BULLETIN = "Không tìm thấy bản tin này."
NOT_YOURS = "Bản tin này không dành cho xã, phường của bạn."


async def get_radio(request: Request) -> BroadcastService:
    return cast(BroadcastService, request.app.state.broadcast)


async def get_airing(request: Request) -> AiringLog:
    return cast(AiringLog, request.app.state.broadcast_airing)


async def get_pool(request: Request) -> ThreadPoolExecutor:
    return cast(ThreadPoolExecutor, request.app.state.broadcast_pool)


async def get_job_runner(request: Request) -> JobRunner:
    return cast(JobRunner, request.app.state.job_runner)


Radio = Annotated[BroadcastService, Depends(get_radio)]
Jobs = Annotated[JobRunner, Depends(get_job_runner)]
Airings = Annotated[AiringLog, Depends(get_airing)]
Pool = Annotated[ThreadPoolExecutor, Depends(get_pool)]


async def writer_login(login: AnyPageLogin) -> Login:
    if not login.operator.radio_writer:
        raise HTTPException(403, WRITERS_ONLY)
    return login


async def writer_csrf_login(login: AnyCsrfLogin) -> Login:
    if not login.operator.radio_writer:
        raise HTTPException(403, WRITERS_ONLY)
    return login


async def province_login(login: AnyPageLogin) -> Login:
    if not login.operator.sees_province:
        raise HTTPException(403, PROVINCE_ONLY)
    return login


async def commune_login(login: AnyPageLogin) -> Login:
    if login.operator.role != "commune" or login.operator.commune_code is None:
        raise HTTPException(403, COMMUNE_ONLY)
    return login


async def commune_csrf_login(login: AnyCsrfLogin) -> Login:
    return await commune_login(login)


WriterLogin = Annotated[Login, Depends(writer_login)]
WriterCsrfLogin = Annotated[Login, Depends(writer_csrf_login)]
ProvinceLogin = Annotated[Login, Depends(province_login)]
CommuneLogin = Annotated[Login, Depends(commune_login)]
CommuneCsrfLogin = Annotated[Login, Depends(commune_csrf_login)]


def own_commune(radio: BroadcastService, login: Login) -> Commune:
    """A commune account's commune (its code came from the accounts page, checked against the list)."""
    code = login.operator.commune_code
    commune = radio.communes.by_code(code) if code is not None else None
    if commune is None:
        raise HTTPException(403, COMMUNE_ONLY)
    return commune


def segment_for(radio: BroadcastService, login: Login, segment_id: int) -> Segment:
    """The segment a login may see: writers and the province any; a commune account its commune's
    released ones, and its own version held for it to hear before release (another commune's: 403; held
    or expired: 404)."""
    try:
        seg = radio.get(segment_id)
    except NotFound:
        raise HTTPException(404, NO_BULLETIN) from None
    op = login.operator
    if op.radio_writer or op.sees_province:
        return seg
    if op.role != "commune" or op.commune_code is None:
        raise HTTPException(403, COMMUNE_ONLY)
    if seg.held and seg.commune_code == op.commune_code:  # the commune's own reading, not yet released
        return seg
    if not BroadcastService.is_current(seg, _utcnow()):
        raise HTTPException(404, NO_BULLETIN)
    if not seg.for_commune(op.commune_code):
        raise HTTPException(403, NOT_YOURS)
    return seg


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def deadline_of(console: Console, seg: Segment) -> dt.datetime:
    """When communes must have aired the segment (naive UTC): its own deadline, else the end of the local
    day `broadcast.airing_deadline_days` working days after its release (the tickets' working calendar:
    weekends, Vietnam's holidays)."""
    if seg.deadline_at is not None:
        return seg.deadline_at
    tz = console.tz
    released = (seg.publish_at or seg.created_at).replace(tzinfo=dt.UTC).astimezone(tz).date()
    days = console.settings.broadcast.airing_deadline_days
    day = console.working_days.add_working_days(released, days)
    end = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=tz)
    return end.astimezone(dt.UTC).replace(tzinfo=None)
