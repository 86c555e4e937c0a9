"""App factory: settings injection, operations endpoints, Vietnamese error pages, security middleware, area
routers."""

from __future__ import annotations

import logging
from typing import Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

import console
from broadcast import web as broadcast_web
from broadcast.access import RadioUser
from broadcast.settings import BroadcastConfig
from console.context import PREFIX as CONSOLE
from console.deps import current_login
from console.edit.recordings import MAX_UPLOAD_BYTES as PROMPT_UPLOAD_BYTES
from console.invalid_vi import invalid_request_vi
from core import __version__
from core.db import engine_for, session_factory
from ivr.settings import IvrConfig
from web.bodylimit import DEFAULT_MAX_BODY_BYTES, BodyLimit, upload_cap
from web.docs import DOCS_PATH, install_docs
from web.errors import error_response, own_detail
from web.guard import WriteGuard
from web.headers import SecurityHeaders, add_security_headers
from web.ops import ops_router
from web.readiness import AppProbe, WorkerProbe
from web.settings import OpsConfig

logger = logging.getLogger(__name__)

HOME_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tổng đài dịch vụ công Nghệ An</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}a{color:#0645ad}li{margin:.6rem 0}</style></head>
<body><h1>Tổng đài dịch vụ công Nghệ An</h1>
<ul>
<li><a href="/truyen-thanh/">Truyền thanh cơ sở</a>:
nghe và tải các chuyên mục chuyển đổi số cho từng xã, phường.</li>
<li><a href="/console/">Trang quản trị tổng đài</a>: dành cho cán bộ trực tổng đài (cần đăng nhập).</li>
</ul></body></html>
"""


class WebConfig(IvrConfig, BroadcastConfig, OpsConfig, Protocol):
    """The web app serves the console (the hotline's data), the radio pages and the operations endpoints."""


def create_app(settings: WebConfig, *, app_probe: AppProbe | None = None) -> FastAPI:
    """The web app; `app_probe` reaches the call application when it runs in this process (`hotline
    run`), else the worker is asked over loopback (`hotline serve`, see web.readiness)."""
    app = FastAPI(
        title="Tổng đài dịch vụ công Nghệ An",
        version=__version__,
        docs_url=None,  # our own page, from local files (web.docs)
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    upload_caps = {
        ("POST", f"{broadcast_web.API}/bulletins"): upload_cap(settings.broadcast.max_upload_bytes),
        ("POST", f"{CONSOLE}/prompts/{{key}}/upload"): upload_cap(PROMPT_UPLOAD_BYTES),
        ("POST", f"{CONSOLE}/studio/{{key}}/take"): upload_cap(PROMPT_UPLOAD_BYTES),
        ("POST", f"{CONSOLE}/truyen-thanh/ban-tin/{{segment_id}}/giong-doc"): upload_cap(
            settings.broadcast.reading_max_upload_mb * 1024 * 1024
        ),
    }
    # Added innermost first: the headers go on every answer, and the guard and the cap answer before
    # any route reads a body.
    app.add_middleware(BodyLimit, default=DEFAULT_MAX_BODY_BYTES, caps=upload_caps)
    app.add_middleware(WriteGuard, web=settings.web)
    app.add_middleware(SecurityHeaders, docs_path=DOCS_PATH)
    app.state.settings = settings
    engine = engine_for(settings)
    app.state.engine = engine
    app.state.sessions = session_factory(engine)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response = error_response(request, exc.status_code, own_detail(exc.status_code, exc.detail))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path == CONSOLE or request.url.path.startswith(CONSOLE + "/"):
            # Operators read which field and what it must be, in Vietnamese, not pydantic's English.
            return error_response(request, 422, invalid_request_vi(exc.errors()))
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return error_response(request, 422, f"Dữ liệu gửi lên không hợp lệ: {problems}")

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        response = error_response(request, 500, "Đã có lỗi xảy ra. Vui lòng thử lại sau.")
        add_security_headers(response.headers)  # this handler answers outside the middleware
        return response

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def home() -> HTMLResponse:
        return HTMLResponse(HOME_PAGE)

    install_docs(app)
    app.include_router(ops_router(settings, engine, app_probe or WorkerProbe(settings.ops)))

    console.install(app, settings)

    def console_user(request: Request) -> RadioUser | None:
        """The console account behind the request as the radio sees it: hotline staff and editors may
        publish like a holder of the API token; a commune account may not."""
        login = current_login(request, app.state.console)
        if login is None:
            return None
        op = login.operator
        return RadioUser(op.username, op.radio_writer, op.commune_code)

    broadcast_web.install(app, settings, console_user=console_user)
    return app
