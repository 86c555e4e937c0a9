"""Web pages, RSS feeds, downloads and the API for commune radio segments (`install(app, settings)`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import ipaddress
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from broadcast.bulletin import PRIORITY_LABELS_VI
from broadcast.bundle import build_bundle
from broadcast.communes import Commune
from broadcast.feed import build_feed
from broadcast.models import RenderJob, Segment
from broadcast.render import RenderOptions, target_communes
from broadcast.service import BroadcastService, NotFound
from core.errors import HotlineError

logger = logging.getLogger(__name__)

PREFIX = "/truyen-thanh"  # pages, feeds and files for radio operators
API = "/api/broadcast"
PAGES_DIR = Path(__file__).resolve().parent / "pages"


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
        "size_bytes": seg.size_bytes,
        "sha256": seg.checksum,
        "created_at": seg.created_at.replace(tzinfo=dt.UTC).isoformat(),
        "publish_at": seg.publish_at.replace(tzinfo=dt.UTC).isoformat() if seg.publish_at else None,
        "expires_at": seg.expires_at.replace(tzinfo=dt.UTC).isoformat() if seg.expires_at else None,
        "url": f"{base}{PREFIX}/tep/{seg.id}/{seg.file}",
    }


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


def install(app: FastAPI, settings) -> None:  # settings: hotline.settings.Settings
    """Mount the radio pages and API on the app; renders run in a bounded pool, never on the event loop."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    cfg = settings.broadcast
    svc = BroadcastService(settings, app.state.sessions)
    app.state.broadcast = svc
    # One render at a time: each render already uses `broadcast.workers` TTS threads and mastering is
    # CPU-bound; more would only slow down the hotline sharing this machine.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="broadcast-render")
    app.state.broadcast_pool = pool
    app.router.on_shutdown.append(lambda: pool.shutdown(wait=False, cancel_futures=True))

    def _recover() -> None:
        try:
            count = svc.fail_interrupted_jobs()
        except SQLAlchemyError as exc:  # schema not created yet (`hotline db upgrade`): nothing to recover
            logger.debug("render jobs not checked: %s", exc)
            return
        if count:
            logger.warning("%d render job(s) were interrupted by a restart and marked failed", count)

    app.router.on_startup.append(_recover)
    env = Environment(loader=FileSystemLoader(str(PAGES_DIR)), autoescape=select_autoescape(["html"]))
    css = (PAGES_DIR / "style.css").read_text(encoding="utf-8")
    common = {
        "prefix": PREFIX,
        "province": cfg.province,
        "labels": PRIORITY_LABELS_VI,
        "duration": _duration_vi,
        "size": _size,
    }
    pages = APIRouter(include_in_schema=False)
    api = APIRouter(prefix=API, tags=["broadcast"])

    def base_url(request: Request) -> str:
        return (settings.web.public_url or str(request.base_url)).rstrip("/")

    def commune_or_404(slug: str) -> Commune:
        commune = svc.communes.by_slug(slug)
        if commune is None:
            raise HTTPException(404, f"Không có xã, phường “{slug}” trong tỉnh {cfg.province}.")
        return commune

    def render(name: str, **values) -> HTMLResponse:
        html = env.get_template(name).render(**common, **values)
        return HTMLResponse(html, headers={"Cache-Control": "no-cache"})

    def require_writer(request: Request) -> None:
        """Writes need the bearer token, or (no token configured) a client on this machine."""
        if cfg.api_token:
            if request.headers.get("authorization", "") != f"Bearer {cfg.api_token}":
                raise HTTPException(401, "Cần mã truy cập (Authorization: Bearer ...).")
            return
        host = request.client.host if request.client else ""
        try:
            local = ipaddress.ip_address(host).is_loopback
        except ValueError:
            local = host in ("testclient", "localhost")
        if not local:
            raise HTTPException(403, "Chỉ được gửi bản tin từ máy chủ (chưa cấu hình broadcast.api_token).")

    # --- pages ------------------------------------------------------------------------------------

    @pages.get(PREFIX, response_class=HTMLResponse)
    def _index_redirect() -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=308)

    @pages.get(f"{PREFIX}/", response_class=HTMLResponse)
    def index(q: str = Query("", max_length=100)) -> HTMLResponse:
        index = svc.communes
        return render("index.html", communes=index.search(q), total=len(index), q=q)

    @pages.get(f"{PREFIX}/style.css")
    def style() -> Response:
        return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=86400"})

    @pages.get(f"{PREFIX}/{{slug}}", response_class=HTMLResponse)
    def commune_page(slug: str, q: str = Query("", max_length=100)) -> HTMLResponse:
        commune = commune_or_404(slug)
        return render("commune.html", commune=commune, segments=svc.list_segments(commune, q), q=q)

    @pages.get(f"{PREFIX}/{{slug}}/rss.xml")
    def feed(slug: str, request: Request) -> Response:
        commune = commune_or_404(slug)
        base = base_url(request)
        segments = svc.list_segments(commune)[: cfg.feed_items]
        body = build_feed(
            commune,
            cfg.province,
            segments,
            page_url=f"{base}{PREFIX}/{slug}",
            feed_url=f"{base}{PREFIX}/{slug}/rss.xml",
            file_url=lambda s: f"{base}{PREFIX}/tep/{s.id}/{s.file}",
        )
        return Response(
            body,
            media_type="application/rss+xml; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300"},
        )

    @pages.api_route(f"{PREFIX}/{{slug}}/goi-ngoai-tuyen.zip", methods=["GET", "HEAD"])
    def bundle(slug: str) -> Response:

        commune = commune_or_404(slug)
        segments = svc.list_segments(commune)
        path = build_bundle(svc.bundles_dir, svc.segments_dir, commune, cfg.province, segments)
        return FileResponse(path, media_type="application/zip", filename=f"truyen-thanh-{slug}.zip")

    @pages.api_route(f"{PREFIX}/tep/{{segment_id}}/{{filename}}", methods=["GET", "HEAD"])
    def download(segment_id: int, filename: str, request: Request) -> Response:
        try:
            seg = svc.get(segment_id)
        except NotFound:
            raise HTTPException(
                404, "Không tìm thấy tệp âm thanh này (có thể đã được thay thế hoặc hết hạn)."
            ) from None
        if seg.file != filename:
            return RedirectResponse(f"{PREFIX}/tep/{seg.id}/{seg.file}", status_code=301)
        path = svc.path_of(seg)
        if not path.is_file():
            raise HTTPException(404, "Tệp âm thanh không còn trên máy chủ.")
        etag = _etag(seg)
        headers = {
            "ETag": etag,
            "Last-Modified": _http_date(seg.created_at),
            "Cache-Control": "public, max-age=3600",
        }
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

    @api.get("/communes")
    def api_communes(q: str = Query("", max_length=100)) -> dict:
        index = svc.communes
        return {
            "province": index.province,
            "dataset": index.data_version,
            "communes": [
                {"code": c.code, "name": c.name, "kind": c.kind, "slug": c.slug} for c in index.search(q)
            ],
        }

    @api.get("/segments")
    def api_segments(
        request: Request, commune: str | None = None, q: str = Query("", max_length=100), all: bool = False
    ) -> dict:
        unit = None
        if commune:
            try:
                unit = svc.communes.resolve(commune)
            except HotlineError as exc:
                raise HTTPException(404, str(exc)) from None
        segs = svc.list_segments(unit, q, include_hidden=all)
        return {"segments": [segment_json(svc, s, base_url(request)) for s in segs]}

    @api.get("/segments/{segment_id}")
    def api_segment(segment_id: int, request: Request) -> dict:
        try:
            seg = svc.get(segment_id)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None
        out = segment_json(svc, seg, base_url(request))
        sidecar = svc.sidecar_of(seg)
        out["script"] = sidecar.get("script")
        out["warnings"] = sidecar.get("warnings", [])
        return out

    @api.delete("/segments/{segment_id}")
    def api_delete(segment_id: int, request: Request) -> dict:
        require_writer(request)
        try:
            seg = svc.delete(segment_id)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None
        return {"deleted": seg.id, "key": seg.key}

    @api.post("/bulletins", status_code=202)
    async def api_upload(
        request: Request,
        file: UploadFile | None = None,
        commune: str | None = None,
        engine: str | None = None,
    ) -> JSONResponse:
        """Upload a bulletin (multipart `file`, or the Markdown as the request body) and queue its render."""
        require_writer(request)
        if file is not None:
            raw = await file.read(cfg.max_upload_bytes + 1)
            name = Path(file.filename or "bulletin.md").name
        else:
            raw = b""
            async for block in request.stream():
                raw += block
                if len(raw) > cfg.max_upload_bytes:
                    break
            name = "bulletin.md"
        if len(raw) > cfg.max_upload_bytes:
            raise HTTPException(413, f"Bản tin quá lớn (tối đa {cfg.max_upload_bytes:,} byte).")
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
        loop = asyncio.get_running_loop()
        job_id = await loop.run_in_executor(None, svc.create_job, name, commune)
        pool.submit(svc.run_job, job_id, bulletin, options)
        base = base_url(request)
        return JSONResponse(
            {"job": job_id, "status": "queued", "status_url": f"{base}{API}/jobs/{job_id}"},
            status_code=202,
            headers={"Location": f"{API}/jobs/{job_id}"},
        )

    @api.get("/jobs/{job_id}")
    def api_job(job_id: str, request: Request) -> dict:
        try:
            return job_json(svc.job(job_id), base_url(request))
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None

    @api.get("/jobs")
    def api_jobs(request: Request) -> dict:
        return {"jobs": [job_json(j, base_url(request)) for j in svc.jobs()]}

    app.include_router(pages)
    app.include_router(api)
