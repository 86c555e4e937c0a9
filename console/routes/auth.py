"""Login and logout pages."""

from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from console.audit_actions import AuditAction
from console.auth import COOKIE, LOGIN_CSRF_COOKIE, same_token
from console.context import PREFIX, Console, safe_next
from console.data import audit
from console.data.operators import authenticate
from console.data.sessions import SESSION_HOURS, close_session, open_session
from console.deps import AnyActor, AnyCsrfLogin, ConsoleDep, client_ip, current_login

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


def _login_page(
    console: Console, *, error: str = "", username: str = "", next_url: str = "", status_code: int = 200
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


@router.get(PREFIX)
def root() -> Response:
    return RedirectResponse(PREFIX + "/", status_code=308)


@router.get(PREFIX + "/login")
def login_form(request: Request, console: ConsoleDep, next: str = "") -> Response:
    if current_login(request, console) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(console, next_url=next)


@router.post(PREFIX + "/login")
async def login(
    request: Request,
    console: ConsoleDep,
    username: str = Form("", max_length=200),
    password: str = Form("", max_length=1000),
    csrf: str = Form(""),
    next: str = Form(""),
) -> Response:
    expected = console.signer.unsign(request.cookies.get(LOGIN_CSRF_COOKIE))
    if not expected or not same_token(expected, csrf):
        return _login_page(
            console,
            error="Phiên đăng nhập đã hết hạn, vui lòng thử lại.",
            username=username,
            next_url=next,
            status_code=403,
        )
    ip = client_ip(request)
    # Counted before the slow password check, so parallel guesses cannot all slip under the limit.
    reservation = await run_in_threadpool(console.limiter.reserve, username, ip)
    if reservation is None:
        logger.warning("console login blocked after repeated failures (from %s)", ip)
        return _login_page(
            console,
            error="Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 5 phút.",
            username=username,
            next_url=next,
            status_code=429,
        )
    # scrypt takes about half a second: keep it off the event loop.
    operator = await run_in_threadpool(authenticate, console.sessions, username, password)
    if operator is None:
        await run_in_threadpool(
            audit.record,
            console.sessions,
            None,
            AuditAction.LOGIN_FAILED,
            "",
            "",
            ip,
            username=username.strip().lower()[:64],
        )
        return _login_page(
            console,
            error="Tên đăng nhập hoặc mật khẩu không đúng.",
            username=username,
            next_url=next,
            status_code=401,
        )
    await run_in_threadpool(console.limiter.succeeded, reservation)
    token, _csrf = await run_in_threadpool(open_session, console.sessions, operator, ip)
    await run_in_threadpool(audit.record, console.sessions, operator, AuditAction.LOGIN, "", "", ip)
    response = RedirectResponse(safe_next(next), status_code=303)
    console.set_cookie(response, COOKIE, token, max_age=SESSION_HOURS * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
    return response


@router.post(PREFIX + "/logout")
def logout(request: Request, console: ConsoleDep, login: AnyCsrfLogin, actor: AnyActor) -> Response:
    token = console.signer.unsign(request.cookies.get(COOKIE))
    if token:
        close_session(console.sessions, token)
    actor.record(AuditAction.LOGOUT)
    response = RedirectResponse(PREFIX + "/login", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response
