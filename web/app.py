"""App factory: settings injection, /healthz, Vietnamese error pages, area routers."""

from __future__ import annotations

import html
import logging
from http import HTTPStatus
from typing import Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

import console
from broadcast import web as broadcast_web
from broadcast.settings import BroadcastConfig
from console.deps import current_login
from core import __version__
from core.db import engine_for, session_factory
from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)

VI_STATUS = {
    400: "Yêu cầu không hợp lệ",
    401: "Cần đăng nhập",
    403: "Không có quyền truy cập",
    404: "Không tìm thấy trang",
    405: "Phương thức không được hỗ trợ",
    409: "Xung đột dữ liệu",
    413: "Tệp quá lớn",
    416: "Khoảng dữ liệu không hợp lệ",
    422: "Dữ liệu gửi lên không hợp lệ",
    429: "Quá nhiều yêu cầu, vui lòng thử lại sau",
    500: "Lỗi hệ thống",
    503: "Dịch vụ tạm thời không sẵn sàng",
}

ERROR_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{code} – {title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.4rem}}a{{color:#0645ad}}</style></head>
<body><h1>{title}</h1><p>{detail}</p><p><a href="/">Về trang chủ</a></p></body></html>
"""


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


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_response(request: Request, status: int, detail: str | None = None) -> Response:
    title = VI_STATUS.get(status) or HTTPStatus(status).phrase
    text = detail or title
    if _wants_html(request):
        body = ERROR_PAGE.format(code=status, title=html.escape(title), detail=html.escape(text))
        return HTMLResponse(body, status_code=status)
    return JSONResponse({"error": {"code": status, "message": text}}, status_code=status)


class WebConfig(IvrConfig, BroadcastConfig, Protocol):
    """The web app serves the console (the hotline's data) and the radio pages."""


def create_app(settings: WebConfig) -> FastAPI:
    app = FastAPI(
        title="Tổng đài dịch vụ công Nghệ An",
        version=__version__,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.settings = settings
    engine = engine_for(settings)
    app.state.engine = engine
    app.state.sessions = session_factory(engine)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = (
            exc.detail
            if isinstance(exc.detail, str) and exc.detail != HTTPStatus(exc.status_code).phrase
            else None
        )
        response = error_response(request, exc.status_code, detail)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return error_response(request, 422, f"Dữ liệu gửi lên không hợp lệ: {problems}")

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "Đã có lỗi xảy ra. Vui lòng thử lại sau.")

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def home() -> HTMLResponse:
        return HTMLResponse(HOME_PAGE)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {"status": "ok", "version": __version__}

    console.install(app, settings)

    def operator_session(request: Request) -> bool:
        """A logged-in console operator may publish radio bulletins like a holder of the API token."""
        return current_login(request, app.state.console) is not None

    broadcast_web.install(app, settings, operator_session=operator_session)
    return app
