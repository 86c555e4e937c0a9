"""The console's shared request plumbing: templates, login checks, CSRF, client address."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from console import audit
from console.auth import (
    COOKIE,
    CookieSigner,
    Login,
    LoginLimiter,
    load_secret,
    resolve_session,
    same_token,
)
from console.catalog_view import CatalogView
from console.queries import VN_TZ
from ivr.enums import Outcome, TurnKind

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)

PREFIX = "/console"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

TICKET_STATUS_VI = {"new": "Mới", "in_progress": "Đang xử lý", "answered": "Đã trả lời", "closed": "Đã đóng"}
OUTCOME_VI: dict[str, str] = {
    Outcome.IN_PROGRESS: "Đang diễn ra",
    Outcome.ANSWERED: "Đã trả lời",
    Outcome.GOODBYE: "Chào kết thúc",
    Outcome.ABANDONED: "Người gọi gác máy",
    Outcome.NO_INPUT: "Không nghe thấy",
    Outcome.NOT_UNDERSTOOD: "Không hiểu yêu cầu",
    Outcome.TRANSFERRED: "Chuyển cán bộ",
    Outcome.TICKET: "Ghi phản ánh",
    Outcome.TICKET_STATUS: "Tra cứu phiếu",
    Outcome.DOSSIER: "Tra cứu hồ sơ",
    Outcome.RADIO: "Nghe bản tin",
    Outcome.TOO_LONG: "Quá thời gian",
    Outcome.INTERRUPTED: "Bị gián đoạn",
    Outcome.FAILED: "Lỗi",
    Outcome.PROMPT_ADMIN: "Ghi âm lời nhắc",
}
KIND_VI: dict[str, str] = {
    TurnKind.SPEECH: "Lời nói",
    TurnKind.DTMF: "Bấm phím",
    TurnKind.TIMEOUT: "Im lặng",
    TurnKind.ACTION: "Thao tác",
    TurnKind.SYSTEM: "Hệ thống",
}


class LoginRequired(Exception):
    """Raised by the page guard; answered with a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def local_time(value: dt.datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """Database times are naive UTC; operators read Vietnam time."""
    if value is None:
        return "–"
    return value.replace(tzinfo=dt.UTC).astimezone(VN_TZ).strftime(fmt)


def number_vi(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}".replace(".", ",")


class Console:
    """Everything the console's routes share, built once by `install`."""

    def __init__(self, settings: IvrConfig, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.signer = CookieSigner(load_secret(settings))
        self.limiter = LoginLimiter()
        self.catalog = CatalogView(settings)
        self.secure_cookies = settings.web.public_url.startswith("https://")
        self.env = Environment(
            loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html"])
        )
        self.env.filters["local"] = local_time
        self.env.filters["num"] = number_vi
        self.env.globals.update(
            prefix=PREFIX, status_vi=TICKET_STATUS_VI, outcome_vi=OUTCOME_VI, kind_vi=KIND_VI
        )

    # --- rendering -------------------------------------------------------------------------------
    def render(self, name: str, login: Login | None, status_code: int = 200, **values) -> HTMLResponse:
        html = self.env.get_template(name).render(login=login, **values)
        return HTMLResponse(
            html,
            status_code=status_code,
            headers={
                "Cache-Control": "no-store",  # pages carry personal data: never kept by a shared cache
                "X-Frame-Options": "DENY",
                "Referrer-Policy": "same-origin",
            },
        )

    # --- who is asking ---------------------------------------------------------------------------
    @staticmethod
    def client_ip(request: Request) -> str:
        return request.client.host if request.client else ""

    def current(self, request: Request) -> Login | None:
        token = self.signer.unsign(request.cookies.get(COOKIE))
        return resolve_session(self.sessions, token) if token else None

    def page_login(self, request: Request) -> Login:
        """Dependency for pages: the login, or a redirect to the login page."""
        login = self.current(request)
        if login is None:
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(path if request.method == "GET" else PREFIX + "/")
        return login

    def api_login(self, request: Request) -> Login:
        """Dependency for recordings and JSON: the login, or 401."""
        login = self.current(request)
        if login is None:
            raise HTTPException(401, "Cần đăng nhập để truy cập.")
        return login

    def admin_login(self, request: Request) -> Login:
        login = self.page_login(request)
        if not login.operator.is_admin:
            raise HTTPException(403, "Chỉ quản trị viên được xem trang này.")
        return login

    @staticmethod
    def check_csrf(login: Login, token: str | None) -> None:
        if not same_token(login.csrf, token):
            raise HTTPException(403, "Phiên làm việc không hợp lệ (mã chống giả mạo sai). Hãy tải lại trang.")

    def reveal_number(
        self,
        request: Request,
        login: Login,
        csrf: str,
        target: str,
        lookup: Callable[[], str | None],
        missing: str,
    ) -> str:
        """The audited "show full number" POST: CSRF check, lookup (None: 404 with `missing`), audit entry.

        Returns the number to display in place of the masked one.
        """
        self.check_csrf(login, csrf)
        raw = lookup()
        if raw is None:
            raise HTTPException(404, missing)
        audit.record(self.sessions, login.operator, "show_number", target, "", self.client_ip(request))
        return raw or "(không có số)"

    # --- cookies ---------------------------------------------------------------------------------
    def set_cookie(self, response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            name,
            self.signer.sign(value),
            max_age=max_age,
            path=PREFIX,
            httponly=True,
            samesite="lax",
            secure=self.secure_cookies,
        )


def login_redirect(exc: LoginRequired) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/login?next={quote(exc.next_url, safe='/')}", status_code=303)


def safe_next(next_url: str | None) -> str:
    """Only redirect back into the console (never to another site)."""
    if (
        next_url
        and next_url.startswith(PREFIX + "/")
        and not next_url.startswith("//")
        and "\\" not in next_url
    ):
        return next_url
    return PREFIX + "/"
