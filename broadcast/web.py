"""Web pages, RSS feeds, downloads and the API for commune radio segments (`install(app, settings)`)."""

from __future__ import annotations

import datetime as dt
import email.utils
import hmac
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from broadcast.access import RadioUser, device_token_of
from broadcast.airing import AiringLog
from broadcast.bulletin import PRIORITY_LABELS_VI
from broadcast.communes import Commune, fold
from broadcast.feed import build_feed
from broadcast.jobs import web_runner
from broadcast.models import RenderJob, Segment
from broadcast.phone import radio_keys
from broadcast.playlist import build_m3u
from broadcast.reading import voice_vi
from broadcast.render import RenderOptions, target_communes
from broadcast.schedule import DayPlan, day_plan, parse_day, plan_json, plan_m3u
from broadcast.service import BroadcastService, NotFound, utcnow
from broadcast.templates import available_templates, load_template
from core.clock import today_local
from core.db import MAX_ROW_ID
from core.errors import HotlineError
from core.jobs import InProcessRunner
from core.publicurl import ANY_ADDRESS, public_base_url

logger = logging.getLogger(__name__)

PREFIX = "/truyen-thanh"  # pages, feeds and files for radio operators
API = "/api/broadcast"
PAGES_DIR = Path(__file__).resolve().parent / "pages"
# The commune list filters as one types with our own script file (no inline script): the web app's page
# policy allows no script at all, so this page states its own, which adds exactly that.
INDEX_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
WRITER_NEEDED = "Cần mã truy cập (Authorization: Bearer ...) hoặc đăng nhập trang quản trị."
BAD_FORM = "Biểu mẫu tải lên không hợp lệ: chỉ gửi một tệp bản tin trong trường “file”."
NO_SUCH_FILE = "Không tìm thấy tệp âm thanh này (có thể đã được thay thế hoặc hết hạn)."
BAD_DEVICE_TOKEN = "Mã thiết bị không đúng hoặc đã được đổi; hãy lấy mã mới ở trang quản trị của xã."
OTHER_COMMUNE = "Mã thiết bị này là của xã, phường khác."
DEVICE_NEEDED = "Cần mã thiết bị của xã (Authorization: Bearer ...) để xác nhận đã phát."
# The upload reads its own body (after the writer check): this documents it for the OpenAPI schema.
UPLOAD_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "text/markdown": {"schema": {"type": "string"}},
        }
    }
}


class ErrorDetail(BaseModel):
    code: int
    message: str  # Vietnamese, for the person reading the client's screen


class ErrorBody(BaseModel):
    """Every refusal of the API (web.errors.error_response): `{"error": {"code", "message"}}`."""

    error: ErrorDetail


class CommuneOut(BaseModel):
    code: int
    name: str
    kind: str  # "xã", "phường" or "đặc khu"
    slug: str


class CommunesOut(BaseModel):
    province: str
    dataset: str
    communes: list[CommuneOut]


class SegmentOut(BaseModel):
    id: int
    key: str
    title: str
    date: str  # ISO date of the bulletin
    agency: str
    priority: str  # normal | priority | emergency
    commune_code: int | None
    communes: Literal["all"] | list[int]
    duration_s: float
    loudness_lufs: float
    true_peak_dbtp: float
    engine: str  # TTS engine, or "human" for a bulletin read by a person
    voice: str
    read_by_person: bool
    size_bytes: int
    sha256: str
    created_at: str  # ISO, UTC
    publish_at: str | None
    expires_at: str | None
    url: str


class SegmentDetailOut(SegmentOut):
    script: str | None
    warnings: list[str]


class SegmentsOut(BaseModel):
    segments: list[SegmentOut]


class DeletedOut(BaseModel):
    deleted: int
    key: str


class JobOut(BaseModel):
    id: str
    status: str  # queued | running | done | failed
    stage: str
    done: int
    total: int
    progress: float  # 0..1
    message: str
    source: str
    commune: str | None
    segment_id: int | None
    segment_url: str | None
    created_at: str  # ISO, UTC


class JobsOut(BaseModel):
    jobs: list[JobOut]


class PlaylistCommuneOut(BaseModel):
    code: int
    name: str
    slug: str


class PlaylistItemOut(BaseModel):
    id: int
    title: str
    priority: Literal["normal", "priority", "emergency"]
    priority_label: str  # Vietnamese: "Thông thường", "Ưu tiên", "Khẩn cấp"
    programme: str  # the programme's name ("Chuyên mục Chuyển đổi số")
    duration_s: float
    play_now: bool  # an emergency: play at once, whatever the time
    url: str  # the MP3


class PlaylistSlotOut(BaseModel):
    time: str  # local air time, HH:MM
    at: str  # ISO with the zone's offset
    items: list[PlaylistItemOut]  # in airing order: emergency, priority, normal; newest first in each


class DayPlaylistOut(BaseModel):
    """A commune's programme for one day: what each air time plays; emergencies to play now (today)."""

    commune: PlaylistCommuneOut
    date: str  # ISO
    date_vi: str  # dd/mm/yyyy
    time_zone: str
    play_now: list[PlaylistItemOut]
    slots: list[PlaylistSlotOut]


class AiredIn(BaseModel):
    aired_at: dt.datetime | None = None  # when it went on air (ISO 8601; without a zone: UTC); default now


class AiredOut(BaseModel):
    segment: int
    commune: int
    aired_at: str  # ISO, UTC


class QueuedOut(BaseModel):
    job: str
    status: str
    status_url: str


def _refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these refusals, all with the error body."""
    return {code: {"model": ErrorBody, "description": VI_REFUSALS[code]} for code in codes}


VI_REFUSALS = {
    400: "Biểu mẫu tải lên không hợp lệ",
    401: "Cần mã truy cập hoặc đăng nhập; mã truy cập sai",
    403: "Yêu cầu ghi gửi từ trang của nơi khác",
    404: "Không tìm thấy",
    413: "Dữ liệu gửi lên quá lớn",
    422: "Dữ liệu gửi lên không hợp lệ",
}
# Any operation: invalid parameters (422), a body over the cap (413, checked before any route).
COMMON_REFUSALS = (413, 422)
# Writes: also a missing or wrong token (401) and a browser write from another site (403).
WRITE_REFUSALS = (401, 403)


# A segment id in a URL: one SQLite can hold, else 422 (not a driver error).
SegmentId = Annotated[int, PathParam(ge=1, le=MAX_ROW_ID)]


def _column_names(templates_dir: Path) -> dict[str, str]:
    """Template id -> the programme's name shown on pages ("Chuyên mục Chuyển đổi số")."""
    names = {}
    for template_id in available_templates(templates_dir):
        try:
            names[template_id] = load_template(templates_dir, template_id).name
        except HotlineError as exc:  # `hotline config check` reports it; pages show a neutral name
            logger.warning("%s", exc)
    return names


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB".replace(".", ",") if n >= 100_000 else f"{max(1, n // 1000)} kB"


def _duration_vi(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60} phút {s % 60:02d} giây" if s >= 60 else f"{s} giây"


def _http_date(moment: dt.datetime) -> str:
    return email.utils.format_datetime(moment.replace(tzinfo=dt.UTC), usegmt=True)


def _etag(seg: Segment) -> str:
    return f'"{seg.checksum[:32]}"'


def not_modified(request: Request, etag: str, last_modified: dt.datetime) -> bool:
    """RFC 9110 conditional GET: If-None-Match wins over If-Modified-Since."""
    inm = request.headers.get("if-none-match")
    if inm is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or etag in tags
    ims = request.headers.get("if-modified-since")
    if ims:
        try:
            since = email.utils.parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        return last_modified.replace(tzinfo=dt.UTC, microsecond=0) <= since
    return False


def segment_json(svc: BroadcastService, seg: Segment, base: str) -> dict:
    return {
        "id": seg.id,
        "key": seg.key,
        "title": seg.title,
        "date": seg.bulletin_date.isoformat(),
        "agency": seg.agency,
        "priority": seg.priority,
        "commune_code": seg.commune_code,
        "communes": seg.communes if seg.communes is not None else "all",
        "duration_s": seg.duration_s,
        "loudness_lufs": seg.loudness_lufs,
        "true_peak_dbtp": seg.true_peak_dbtp,
        "engine": seg.engine,
        "voice": seg.voice,
        "read_by_person": seg.read_by_person,
        "size_bytes": seg.size_bytes,
        "sha256": seg.checksum,
        "created_at": seg.created_at.replace(tzinfo=dt.UTC).isoformat(),
        "publish_at": seg.publish_at.replace(tzinfo=dt.UTC).isoformat() if seg.publish_at else None,
        "expires_at": seg.expires_at.replace(tzinfo=dt.UTC).isoformat() if seg.expires_at else None,
        "url": f"{base}{PREFIX}/tep/{seg.id}/{seg.file}",
    }


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    """Naive UTC; a time without a zone is taken as UTC."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def job_json(job: RenderJob, base: str) -> dict:
    return {
        "id": job.id,
        "status": job.status,
        "stage": job.stage,
        "done": job.done,
        "total": job.total,
        "progress": round(job.done / job.total, 3) if job.total else (1.0 if job.status == "done" else 0.0),
        "message": job.message,
        "source": job.source,
        "commune": job.commune,
        "segment_id": job.segment_id,
        "segment_url": f"{base}{API}/segments/{job.segment_id}" if job.segment_id else None,
        "created_at": job.created_at.replace(tzinfo=dt.UTC).isoformat(),
    }


async def read_bulletin(request: Request, limit: int) -> tuple[bytes, str]:
    """(bytes, file name) of an uploaded bulletin: multipart `file`, or the whole body; 413 past `limit`."""
    too_big = HTTPException(413, f"Bản tin quá lớn (tối đa {limit:,} byte).".replace(",", "."))
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        try:
            form = await request.form(max_files=1, max_fields=4)
        except StarletteHTTPException as exc:  # the parser's reason is English (too many parts, no boundary)
            if exc.status_code != 400:
                raise
            raise HTTPException(400, BAD_FORM) from None
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise HTTPException(422, "Thiếu tệp bản tin (trường “file”).")
            raw = await upload.read(limit + 1)
            name = Path(upload.filename or "bulletin.md").name
        finally:
            await form.close()
    else:
        raw, name = b"", "bulletin.md"
        async for block in request.stream():
            raw += block
            if len(raw) > limit:
                break
    if len(raw) > limit:
        raise too_big
    return raw, name


def install(
    app: FastAPI, settings, console_user: Callable[[Request], RadioUser | None] | None = None
) -> None:  # settings: hotline.settings.Settings
    """Mount the radio pages and API on the app; renders run in a bounded pool, never on the event loop.

    Writes (and anything not yet published) need the API token, or a console account allowed to write
    as told by `console_user` (the web app passes it; this layer does not know the console). A commune's
    device token attributes feeds, playlists and downloads to that commune and confirms airings.
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    cfg = settings.broadcast
    svc = BroadcastService(settings, app.state.sessions)
    app.state.broadcast = svc
    airing = AiringLog(app.state.sessions)
    app.state.broadcast_airing = airing
    # One render at a time: each render already uses `broadcast.workers` TTS threads and mastering is
    # CPU-bound; more would only slow down the hotline sharing this machine.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="broadcast-render")
    app.state.broadcast_pool = pool
    app.router.on_shutdown.append(lambda: pool.shutdown(wait=False, cancel_futures=True))

    # Bulletin renders are jobs (broadcast.jobs): in-process here with SQLite, queued for the job
    # workers on PostgreSQL. The console's jobs page lists and retries them through the same runner.
    runner = web_runner(settings, app.state.sessions, svc)
    app.state.job_runner = runner

    def _recover() -> None:
        try:
            count = svc.fail_interrupted_jobs()
            rerun = runner.recover() if isinstance(runner, InProcessRunner) else 0
        except SQLAlchemyError as exc:  # schema not created yet (`hotline db upgrade`): nothing to recover
            logger.debug("render jobs not checked: %s", exc)
            return
        if count:
            logger.warning("%d reading render(s) were interrupted by a restart and marked failed", count)
        if rerun:
            logger.warning("%d render job(s) interrupted by a restart run again", rerun)

    app.router.on_startup.append(_recover)
    if isinstance(runner, InProcessRunner):
        app.router.on_shutdown.append(runner.close)
    env = Environment(loader=FileSystemLoader(str(PAGES_DIR)), autoescape=select_autoescape(["html"]))
    css = (PAGES_DIR / "style.css").read_text(encoding="utf-8")
    script = (PAGES_DIR / "filter.js").read_text(encoding="utf-8")
    columns = _column_names(settings.path(cfg.templates_dir))

    def column_name(template: str) -> str:
        return columns.get(template, "Chương trình phát thanh")

    # Links for feeds and API clients come from the settings, never from the request's Host header.
    base = public_base_url(settings.web)
    common = {
        "prefix": PREFIX,
        "province": cfg.province,
        "labels": PRIORITY_LABELS_VI,
        "duration": _duration_vi,
        "size": _size,
        "column": column_name,
        "voice": voice_vi,
        "base": base,
        "fold": fold,
    }
    keys: list[list[str] | None] = []  # the radio keys, read from the intent catalog on first use

    def phone_keys() -> list[str] | None:
        if not keys:
            keys.append(radio_keys(settings.path(settings.intents.catalog_dir)))
        return keys[0]

    pages = APIRouter(include_in_schema=False)
    # The daily playlist's JSON is for devices and players: documented with the API.
    schedules = APIRouter(tags=["broadcast"], responses=_refusals(*COMMON_REFUSALS))
    api = APIRouter(prefix=API, tags=["broadcast"], responses=_refusals(*COMMON_REFUSALS))

    if not settings.web.public_url and settings.web.host in ANY_ADDRESS:
        logger.warning("web.public_url is empty: feeds link to %s; set it to the address stations use", base)

    def commune_or_404(slug: str) -> Commune:
        commune = svc.communes.by_slug(slug)
        if commune is None:
            raise HTTPException(404, f"Không có xã, phường “{slug}” trong tỉnh {cfg.province}.")
        return commune

    def render(name: str, headers: dict[str, str] | None = None, **values) -> HTMLResponse:
        html = env.get_template(name).render(**common, **values)
        return HTMLResponse(html, headers={"Cache-Control": "no-cache", **(headers or {})})

    def is_writer(request: Request) -> bool:
        """The API token, or a writer's console session; a wrong token is refused outright (401); a
        device token is no writer's."""
        given = request.headers.get("authorization")
        if given is not None and device_token_of(request) is None:
            if cfg.api_token and hmac.compare_digest(given.encode(), f"Bearer {cfg.api_token}".encode()):
                return True
            raise HTTPException(401, "Mã truy cập không đúng.", headers={"WWW-Authenticate": "Bearer"})
        user = console_user(request) if console_user is not None else None
        return user is not None and user.writer

    def device_commune(request: Request) -> int | None:
        """The commune of the request's device token; None without one; 401 for an unknown token."""
        token = device_token_of(request)
        if token is None:
            return None
        code = airing.commune_of(token)
        if code is None:
            raise HTTPException(401, BAD_DEVICE_TOKEN, headers={"WWW-Authenticate": "Bearer"})
        return code

    def require_device(request: Request) -> int:
        """Dependency: the commune of the request's device token, checked before any body is read."""
        code = device_commune(request)
        if code is None:
            raise HTTPException(401, DEVICE_NEEDED, headers={"WWW-Authenticate": "Bearer"})
        return code

    def own_commune(request: Request, commune: Commune) -> str:
        """For a commune's feed, playlist or bundle: a device token must be that commune's (403 otherwise).
        Returns what links in the answer carry: the token when it came in the address (players that cannot
        set headers fetch each file with it), else nothing."""
        code = device_commune(request)
        if code is not None and code != commune.code:
            raise HTTPException(403, OTHER_COMMUNE)
        token = request.query_params.get("token")
        return f"?token={token}" if code is not None and token else ""

    def require_writer(request: Request) -> None:
        """Dependency of every write; runs before any body is read (the routes read their own bodies)."""
        if not is_writer(request):
            raise HTTPException(401, WRITER_NEEDED, headers={"WWW-Authenticate": "Bearer"})

    writer = [Depends(require_writer)]
    device = Depends(require_device)

    def visible(seg: Segment, request: Request) -> bool:
        """Published and not expired, or asked for by a writer (who may check an embargoed segment)."""
        return BroadcastService.is_current(seg, utcnow()) or is_writer(request)

    # --- pages ------------------------------------------------------------------------------------

    @pages.get(PREFIX, response_class=HTMLResponse)
    def _index_redirect() -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=308)

    @pages.get(f"{PREFIX}/", response_class=HTMLResponse)
    def index(q: str = Query("", max_length=100)) -> HTMLResponse:
        index = svc.communes
        fresh = svc.new_communes(cfg.new_days)
        return render(
            "index.html",
            headers={"Content-Security-Policy": INDEX_POLICY},
            communes=index.search(q),
            total=len(index),
            q=q,
            fresh=fresh,
            fresh_count=fresh is None or bool(fresh),
            new_days=cfg.new_days,
            bulletins=svc.bulletins(),
        )

    @pages.get(f"{PREFIX}/style.css")
    def style() -> Response:
        return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=86400"})

    @pages.get(f"{PREFIX}/loc-xa.js")
    def filter_script() -> Response:
        return Response(
            script, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"}
        )

    @pages.get(f"{PREFIX}/{{slug}}", response_class=HTMLResponse)
    def commune_page(slug: str, q: str = Query("", max_length=100)) -> HTMLResponse:
        commune = commune_or_404(slug)
        return render(
            "commune.html",
            commune=commune,
            segments=svc.list_segments(commune, q),
            q=q,
            radio_keys=phone_keys(),
            phone_number=cfg.phone_number,
            air_times=[f"{t:%H:%M}" for t in cfg.schedule.times_for(commune.code)],
        )

    @pages.get(f"{PREFIX}/{{slug}}/danh-sach-phat.m3u")
    def playlist(slug: str, request: Request) -> Response:
        commune = commune_or_404(slug)
        carry = own_commune(request, commune)
        body = build_m3u(svc.list_segments(commune), lambda s: f"{base}{PREFIX}/tep/{s.id}/{s.file}{carry}")
        return Response(
            body,
            media_type="audio/x-mpegurl; charset=utf-8",
            headers={
                "Cache-Control": "private, no-store" if carry else "public, max-age=300",
                "Content-Disposition": f'inline; filename="truyen-thanh-{slug}.m3u"',
            },
        )

    def day_of(slug: str, day: str) -> tuple[Commune, DayPlan]:
        """(commune, plan) of a daily playlist URL; 404 in Vietnamese for an unknown commune or day."""
        commune = commune_or_404(slug)
        tz, now = settings.locale.tz, utcnow()
        when = parse_day(day, today_local(tz, now.replace(tzinfo=dt.UTC)))
        if when is None:
            raise HTTPException(
                404, f"Ngày “{day}” không hợp lệ: ghi ngày-tháng-năm (04-12-2026) hoặc hom-nay."
            )
        segments = svc.list_segments(commune, include_hidden=True)
        times = cfg.schedule.times_for(commune.code)
        return commune, day_plan(segments, when, times, tz, now, cfg.schedule.emergency_hours)

    def file_url(seg: Segment) -> str:
        return f"{base}{PREFIX}/tep/{seg.id}/{seg.file}"

    @pages.get(f"{PREFIX}/{{slug}}/lich/{{day}}.m3u")
    def day_playlist_m3u(slug: str, day: str, request: Request) -> Response:
        commune, plan = day_of(slug, day)
        carry = own_commune(request, commune)
        title = f"Lịch phát thanh {commune.name} ngày {plan.day:%d/%m/%Y}"
        return Response(
            plan_m3u(plan, title, lambda s: file_url(s) + carry),
            media_type="audio/x-mpegurl; charset=utf-8",
            headers={
                # an emergency must reach devices at their next poll
                "Cache-Control": "private, no-cache" if carry else "no-cache",
                "Content-Disposition": f'inline; filename="lich-{slug}-{plan.day:%d-%m-%Y}.m3u"',
            },
        )

    @schedules.get(
        f"{PREFIX}/{{slug}}/lich/{{day}}.json", response_model=DayPlaylistOut, responses=_refusals(404)
    )
    def day_playlist_json(
        slug: Annotated[str, PathParam(max_length=100)],
        day: Annotated[str, PathParam(max_length=20)],
        request: Request,
    ) -> JSONResponse:
        """A commune's playlist of a day (dd-mm-yyyy, or hom-nay): each air time's segments in airing
        order; `play_now`: emergencies to air at once."""
        commune, plan = day_of(slug, day)
        carry = own_commune(request, commune)
        unit = {"code": commune.code, "name": commune.name, "slug": commune.slug}
        body = plan_json(plan, unit, settings.locale.time_zone, lambda s: file_url(s) + carry, column_name)
        return JSONResponse(body, headers={"Cache-Control": "private, no-cache" if carry else "no-cache"})

    @pages.get(f"{PREFIX}/{{slug}}/rss.xml")
    def feed(slug: str, request: Request) -> Response:
        commune = commune_or_404(slug)
        carry = own_commune(request, commune)
        segments = svc.list_segments(commune)[: cfg.feed_items]
        body = build_feed(
            commune,
            cfg.province,
            segments,
            page_url=f"{base}{PREFIX}/{slug}",
            feed_url=f"{base}{PREFIX}/{slug}/rss.xml",
            file_url=lambda s: f"{base}{PREFIX}/tep/{s.id}/{s.file}{carry}",
        )
        return Response(
            body,
            media_type="application/rss+xml; charset=utf-8",
            headers={"Cache-Control": "private, no-store" if carry else "public, max-age=300"},
        )

    @pages.api_route(f"{PREFIX}/{{slug}}/goi-ngoai-tuyen.zip", methods=["GET", "HEAD"])
    def bundle(slug: str, request: Request) -> Response:
        commune = commune_or_404(slug)
        own_commune(request, commune)
        path = svc.bundle(commune)
        return FileResponse(path, media_type="application/zip", filename=f"truyen-thanh-{slug}.zip")

    @pages.api_route(f"{PREFIX}/tep/{{segment_id}}/{{filename}}", methods=["GET", "HEAD"])
    def download(segment_id: SegmentId, filename: str, request: Request) -> Response:
        try:
            seg = svc.get(segment_id)
        except NotFound:
            raise HTTPException(404, NO_SUCH_FILE) from None
        current = BroadcastService.is_current(seg, utcnow())
        if not current and not is_writer(request):  # embargoed or expired: as if it did not exist
            raise HTTPException(404, NO_SUCH_FILE)
        code = device_commune(request)
        if code is not None and not seg.for_commune(code):
            raise HTTPException(403, OTHER_COMMUNE)
        if seg.file != filename:
            query = f"?{request.url.query}" if request.url.query else ""  # a player's token goes along
            return RedirectResponse(f"{PREFIX}/tep/{seg.id}/{seg.file}{query}", status_code=301)
        path = svc.path_of(seg)
        if not path.is_file():
            raise HTTPException(404, "Tệp âm thanh không còn trên máy chủ.")
        etag = _etag(seg)
        headers = {
            "ETag": etag,
            "Last-Modified": _http_date(seg.created_at),
            # A writer's preview of an embargoed segment must not land in a shared cache.
            "Cache-Control": "public, max-age=3600" if current else "private, no-store",
        }
        if code is not None:
            headers["Cache-Control"] = "private, no-store"  # a device's fetch is counted: never cached
        # A fetch from the start is a download (a player's later range requests are the same one).
        rng = request.headers.get("range", "")
        if request.method == "GET" and current and (not rng or rng.replace(" ", "").startswith("bytes=0-")):
            airing.record_download(seg, code)
        if not_modified(request, etag, seg.created_at):
            return Response(status_code=304, headers=headers)
        attach = "tai-ve" in request.query_params
        return FileResponse(
            path,
            media_type="audio/mpeg",
            headers=headers,
            filename=seg.file if attach else None,
            content_disposition_type="attachment" if attach else "inline",
        )

    # --- API --------------------------------------------------------------------------------------

    @api.get("/communes", response_model=CommunesOut)
    def api_communes(q: str = Query("", max_length=100)) -> dict:
        index = svc.communes
        return {
            "province": index.province,
            "dataset": index.data_version,
            "communes": [
                {"code": c.code, "name": c.name, "kind": c.kind, "slug": c.slug} for c in index.search(q)
            ],
        }

    @api.get("/segments", response_model=SegmentsOut, responses=_refusals(401, 404))
    def api_segments(
        request: Request, commune: str | None = None, q: str = Query("", max_length=100), all: bool = False
    ) -> dict:
        unit = None
        if commune:
            try:
                unit = svc.communes.resolve(commune)
            except HotlineError as exc:
                raise HTTPException(404, str(exc)) from None
        if all and not is_writer(request):
            raise HTTPException(401, WRITER_NEEDED, headers={"WWW-Authenticate": "Bearer"})
        segs = svc.list_segments(unit, q, include_hidden=all)
        return {"segments": [segment_json(svc, s, base) for s in segs]}

    @api.get("/segments/{segment_id}", response_model=SegmentDetailOut, responses=_refusals(401, 404))
    def api_segment(segment_id: SegmentId, request: Request) -> dict:
        try:
            seg = svc.get(segment_id)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None
        if not visible(seg, request):
            raise HTTPException(404, f"no segment {segment_id}")
        out = segment_json(svc, seg, base)
        sidecar = svc.sidecar_of(seg)
        out["script"] = sidecar.get("script")
        out["warnings"] = sidecar.get("warnings", [])
        return out

    @api.delete(
        "/segments/{segment_id}",
        dependencies=writer,
        response_model=DeletedOut,
        responses=_refusals(*WRITE_REFUSALS, 404),
    )
    def api_delete(segment_id: SegmentId) -> dict:
        try:
            seg = svc.delete(segment_id)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None
        return {"deleted": seg.id, "key": seg.key}

    @api.post(
        "/bulletins",
        status_code=202,
        dependencies=writer,
        openapi_extra=UPLOAD_BODY,
        response_model=QueuedOut,
        responses=_refusals(400, *WRITE_REFUSALS),
    )
    async def api_upload(
        request: Request,
        commune: str | None = Query(None, max_length=100),
        engine: str | None = Query(None, max_length=32),
        each: bool = Query(False),
    ) -> JSONResponse:
        """Upload a bulletin (multipart `file`, or the Markdown as the request body) and queue its render.

        `each`: one version per commune the bulletin is for (each greeting its commune by name; all of
        the province's and a province-wide one when it names none), one job per version after the first."""
        raw, name = await read_bulletin(request, cfg.max_upload_bytes)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPException(422, "Bản tin phải là văn bản UTF-8.") from None
        try:
            bulletin = svc.parse(text, name)
            target_communes(bulletin, settings)  # unknown communes: refused now, not in the job
            if commune:
                commune = svc.communes.resolve(commune).slug
        except HotlineError as exc:
            raise HTTPException(422, str(exc)) from None
        options = RenderOptions(commune=commune, engine=engine)
        if each and commune:
            raise HTTPException(422, "Chọn một xã (commune) hoặc dựng cho từng xã (each), không chọn cả hai.")
        job_id = await run_in_threadpool(svc.queue_render, runner, text, name, options, each=each)
        return JSONResponse(
            {"job": job_id, "status": "queued", "status_url": f"{base}{API}/jobs/{job_id}"},
            status_code=202,
            headers={"Location": f"{API}/jobs/{job_id}"},
        )

    @api.post(
        "/segments/{segment_id}/aired",
        response_model=AiredOut,
        responses=_refusals(401, 403, 404),
    )
    def api_aired(segment_id: SegmentId, code: int = device, body: AiredIn | None = None) -> dict:
        """A commune's device confirms it aired the segment (its token: `Authorization: Bearer`)."""
        try:
            seg = svc.get(segment_id)
        except NotFound:
            raise HTTPException(404, NO_SUCH_FILE) from None
        if not BroadcastService.is_current(seg, utcnow()):
            raise HTTPException(404, NO_SUCH_FILE)
        if not seg.for_commune(code):
            raise HTTPException(403, OTHER_COMMUNE)
        at = body.aired_at if body is not None else None
        when = airing.confirm_aired(seg, code, "device", _naive(at))
        return {"segment": seg.id, "commune": code, "aired_at": when.replace(tzinfo=dt.UTC).isoformat()}

    @api.get("/jobs/{job_id}", dependencies=writer, response_model=JobOut, responses=_refusals(401, 404))
    def api_job(job_id: str = PathParam(max_length=32)) -> dict:
        try:
            return job_json(svc.job(job_id), base)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None

    @api.get("/jobs", dependencies=writer, response_model=JobsOut, responses=_refusals(401))
    def api_jobs() -> dict:
        """Jobs name the uploaded files and their communes: for writers only."""
        return {"jobs": [job_json(j, base) for j in svc.jobs()]}

    app.include_router(pages)
    app.include_router(schedules)
    app.include_router(api)
