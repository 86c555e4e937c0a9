"""A bulletin read by a person: an editor (any bulletin) or a commune account (a bulletin sent to its
commune, which becomes its commune's own version) records the reading in the browser or uploads a file.

The take goes through the studio's decoding, trimming, levelling and checks (at most TAKE_WORKERS at
once, in worker threads), then is mastered in the radio's render pool exactly as a synthesized reading
(the template's jingles and bed, loudness, true peak, MP3 and sidecar). The result is held: heard on the
bulletin's page, then released through the same path as any other segment.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import anyio
from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile  # what request.form() yields

from broadcast.bulletin import Bulletin
from broadcast.communes import Commune
from broadcast.models import Segment
from broadcast.preview import preview_script
from broadcast.reading import Reading, bulletin_from_record
from broadcast.render import RenderOptions
from broadcast.service import BroadcastService
from console.audit_actions import AuditAction
from console.context import RADIO, Console
from console.data.audit import Actor
from console.data.sessions import Login
from console.deps import AnyActor, AnyPageLogin, ConsoleDep, check_csrf, refuse_oversized_body
from console.edit.recordings import PromptUploadError, spool_upload
from console.edit.takes import TakeError, decode, duration_vi, process
from console.radio_deps import Pool, Radio, own_commune, segment_for
from console.routes.studio import STUDIO_POLICY, Workers
from core.db import MAX_ROW_ID
from core.errors import HotlineError

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

SegmentId = PathParam(ge=1, le=MAX_ROW_ID)
NOT_FOR_YOU = "Tài khoản này không được ghi giọng đọc cho bản tin."
NO_FILE = "Chưa chọn tệp âm thanh."


@dataclass(frozen=True)
class Target:
    """What a reading is for: the bulletin as rendered, and the commune whose version it makes (None: the
    bulletin's own version, for all the communes it targets)."""

    seg: Segment
    bulletin: Bulletin | None  # None: rendered before sidecars kept the bulletin
    commune: Commune | None
    script: list[str]  # what to read, line by line (the render's script for that version)
    problem: str = ""  # why this bulletin cannot take a reading (Vietnamese)


def _target(console: Console, radio: BroadcastService, login: Login, segment_id: int) -> Target:
    """Writers: any bulletin, its own version. A commune account: a bulletin sent to its commune (the
    same rule as seeing it), read as its commune's own version. Other roles: 403."""
    seg = segment_for(radio, login, segment_id)
    op = login.operator
    if op.radio_writer:
        commune = radio.communes.by_code(seg.commune_code) if seg.commune_code is not None else None
    elif op.role == "commune":
        commune = own_commune(radio, login)
    else:
        raise HTTPException(403, NOT_FOR_YOU)
    try:
        bulletin = bulletin_from_record(radio.sidecar_of(seg).get("bulletin"))
        script = preview_script(bulletin, console.settings, commune.slug if commune else None)
    except HotlineError as exc:
        return Target(seg, None, commune, [], problem=str(exc))
    return Target(seg, bulletin, commune, script.text.split("\n"))


def _limits(console: Console) -> tuple[int, int]:
    """(longest reading in seconds, largest file in bytes)."""
    cfg = console.settings.broadcast
    return cfg.reading_max_minutes * 60, cfg.reading_max_upload_mb * 1024 * 1024


def _page(
    console: Console, login: Login, target: Target, *, error: str = "", status_code: int = 200
) -> Response:
    seconds, size = _limits(console)
    page = console.render(
        "radio_reading.html",
        login,
        status_code=status_code,
        headers={"Content-Security-Policy": STUDIO_POLICY},  # the studio's recorder script, nothing else
        page="radio",
        seg=target.seg,
        commune=target.commune,
        script=target.script,
        problem=target.problem,
        error=error,
        max_seconds=seconds,
        max_length=duration_vi(seconds),
        max_mb=size // (1024 * 1024),
    )
    return page


@router.get(RADIO + "/ban-tin/{segment_id}/giong-doc")
def reading_page(
    console: ConsoleDep, radio: Radio, login: AnyPageLogin, segment_id: int = SegmentId
) -> Response:
    """The script to read, the recorder and the upload form."""
    return _page(console, login, _target(console, radio, login, segment_id))


def _take(console: Console, target: Target, upload: UploadFile, source: str) -> Reading:
    """Blocking: spool, decode, check, trim and level at the radio's rate. Raises TakeError or
    PromptUploadError (Vietnamese) for what cannot be used."""
    seconds, size = _limits(console)
    tmp = spool_upload(console.settings, upload.file, size)
    try:
        take = process(
            decode(tmp, max_seconds=seconds + 1),
            " ".join(target.script),
            console.settings.ivr.studio,
            rate=console.settings.broadcast.sample_rate,
            max_seconds=seconds,
        )
    finally:
        tmp.unlink(missing_ok=True)
    blocking = [v.message for v in take.verdicts if v.blocking]
    if blocking:
        raise TakeError(" ".join(blocking))
    advice = tuple(v.message for v in take.verdicts)
    checks = ",".join(v.check for v in take.verdicts)
    logger.info("reading of segment %s: %.1f s (%s) %s", target.seg.id, take.recorded_s, source, checks)
    return Reading(take.chunk, source, take.recorded_s, advice)


def _queue(
    radio: BroadcastService, pool: ThreadPoolExecutor, actor: Actor, target: Target, reading: Reading
) -> str:
    """Blocking: the render job (held), and the audit entry of the upload."""
    assert target.bulletin is not None
    slug = target.commune.slug if target.commune is not None else None
    job_id = radio.create_job(f"Giọng đọc: {target.seg.title}", slug)
    options = RenderOptions(commune=slug)
    pool.submit(radio.run_job, job_id, target.bulletin, options, held=True, reading=reading)
    detail = f"{reading.recorded_s:.1f} s read by a person ({reading.source})"
    if target.commune is not None:
        detail += f"; commune={target.commune.code}"
    if reading.advice:
        detail += "; kept despite advice"
    actor.record(AuditAction.RECORD_READING, f"bulletin:{target.seg.id}", detail[:200])
    return job_id


@router.post(RADIO + "/ban-tin/{segment_id}/giong-doc")
async def new_reading(
    request: Request,
    console: ConsoleDep,
    radio: Radio,
    pool: Pool,
    login: AnyPageLogin,
    actor: AnyActor,
    workers: Workers,
    segment_id: int = SegmentId,
) -> Response:
    """A reading recorded in the browser or uploaded: checked, then mastered in the background (held)."""
    _seconds, size = _limits(console)
    refuse_oversized_body(request, size)
    async with request.form(max_files=1, max_fields=4, max_part_size=64 * 1024) as form:
        csrf = form.get("csrf")
        check_csrf(login, csrf if isinstance(csrf, str) else None)
        target = await run_in_threadpool(_target, console, radio, login, segment_id)
        if target.problem:
            return await run_in_threadpool(
                _page, console, login, target, error=target.problem, status_code=409
            )
        source = "browser" if form.get("source") == "browser" else "upload"
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await run_in_threadpool(_page, console, login, target, error=NO_FILE, status_code=422)
        try:
            reading = await anyio.to_thread.run_sync(_take, console, target, upload, source, limiter=workers)
        except (TakeError, PromptUploadError) as exc:
            return await run_in_threadpool(_page, console, login, target, error=str(exc), status_code=422)
    job_id = await run_in_threadpool(_queue, radio, pool, actor, target, reading)
    return RedirectResponse(f"{RADIO}/viec/{job_id}", status_code=303)
