"""Login and logout pages."""

from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from console import audit
from console.accounts import authenticate
from console.auth import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_HOURS,
    close_session,
    open_session,
    same_token,
)
from console.web import PREFIX, Console, safe_next

logger = logging.getLogger(__name__)


def router(console: Console) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def login_page(
        request: Request, *, error: str = "", username: str = "", next_url: str = "", status_code: int = 200
    ) -> Response:
        # The login form has no session yet: its CSRF token is a random value in a cookie and the form.
        token = secrets.token_urlsafe(24)
        response = console.render(
            "login.html",
            None,
            status_code=status_code,
            csrf=token,
            error=error,
            username=username,
            next=safe_next(next_url),
        )
        console.set_cookie(response, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return response

    @r.get(PREFIX, include_in_schema=False)
    def root() -> Response:
        return RedirectResponse(PREFIX + "/", status_code=308)

    @r.get(PREFIX + "/login")
    def login_form(request: Request, next: str = "") -> Response:
        if console.current(request) is not None:
            return RedirectResponse(safe_next(next), status_code=303)
        return login_page(request, next_url=next)

    @r.post(PREFIX + "/login")
    async def login(
        request: Request,
        username: str = Form("", max_length=200),
        password: str = Form("", max_length=1000),
        csrf: str = Form(""),
        next: str = Form(""),
    ) -> Response:
        expected = console.signer.unsign(request.cookies.get(LOGIN_CSRF_COOKIE))
        if not expected or not same_token(expected, csrf):
            return login_page(
                request,
                error="Phiên đăng nhập đã hết hạn, vui lòng thử lại.",
                username=username,
                next_url=next,
                status_code=403,
            )
        ip = console.client_ip(request)
        if console.limiter.blocked(username, ip):
            logger.warning("console login blocked after repeated failures (from %s)", ip)
            return login_page(
                request,
                error="Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 5 phút.",
                username=username,
                next_url=next,
                status_code=429,
            )
        # scrypt takes tens of milliseconds: keep it off the event loop.
        operator = await run_in_threadpool(authenticate, console.sessions, username, password)
        if operator is None:
            console.limiter.failed(username, ip)
            await run_in_threadpool(
                audit.record,
                console.sessions,
                None,
                "login_failed",
                "",
                "",
                ip,
                username=username.strip().lower()[:64],
            )
            return login_page(
                request,
                error="Tên đăng nhập hoặc mật khẩu không đúng.",
                username=username,
                next_url=next,
                status_code=401,
            )
        console.limiter.succeeded(username, ip)
        token, _csrf = await run_in_threadpool(open_session, console.sessions, operator, ip)
        await run_in_threadpool(audit.record, console.sessions, operator, "login", "", "", ip)
        response = RedirectResponse(safe_next(next), status_code=303)
        console.set_cookie(response, COOKIE, token, max_age=SESSION_HOURS * 3600)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
        return response

    @r.post(PREFIX + "/logout")
    def logout(request: Request, csrf: str = Form("")) -> Response:
        login = console.page_login(request)
        console.check_csrf(login, csrf)
        token = console.signer.unsign(request.cookies.get(COOKIE))
        if token:
            close_session(console.sessions, token)
        audit.record(console.sessions, login.operator, "logout", "", "", console.client_ip(request))
        response = RedirectResponse(PREFIX + "/login", status_code=303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    return r
