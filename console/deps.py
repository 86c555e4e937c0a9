"""FastAPI dependencies of the console's routes: the console object, the database, the logged-in operator
(page, API, administrator), the CSRF check of POST forms, the operator as an audited actor, the editors.

Routes declare what they need with the `Annotated` aliases below (`login: CsrfLogin`, `db: Db`...);
FastAPI resolves each once per request. Dependencies that only compute are `async def` (no thread hop);
those that read the database (`page_login`, `api_login`) are plain functions, run in the thread pool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, cast

from fastapi import Depends, Form, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from console.audit_actions import AuditAction
from console.auth import COOKIE, same_token
from console.context import PREFIX, Console, LoginRequired
from console.data.audit import Actor
from console.data.sessions import Login, resolve_session
from console.edit.intents import IntentEditor
from console.edit.prompts import PromptTextEditor


async def get_console(request: Request) -> Console:
    """The console object `install` put on the app."""
    return cast(Console, request.app.state.console)


ConsoleDep = Annotated[Console, Depends(get_console)]


async def get_db(console: ConsoleDep) -> sessionmaker[Session]:
    """The database: a session factory (each data function opens its own short session or transaction)."""
    return console.sessions


Db = Annotated[sessionmaker[Session], Depends(get_db)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def current_login(request: Request, console: Console) -> Login | None:
    """The login behind the request's session cookie, if it is valid and alive."""
    token = console.signer.unsign(request.cookies.get(COOKIE))
    return resolve_session(console.sessions, token) if token else None


STAFF_ONLY = "Tài khoản này chỉ dùng cho truyền thanh cơ sở; trang này dành cho cán bộ trực tổng đài."


def any_page_login(request: Request, console: ConsoleDep) -> Login:
    """Pages of every role (logout, the radio pages): the login, or a redirect to the login page (back
    here afterwards for a GET)."""
    login = current_login(request, console)
    if login is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path if request.method == "GET" else PREFIX + "/")
    return login


AnyPageLogin = Annotated[Login, Depends(any_page_login)]


async def page_login(login: AnyPageLogin) -> Login:
    """Hotline pages (calls, tickets, recordings, the catalog): hotline staff only; the radio roles get 403.
    Every route of the hotline takes this one, so a new role sees nothing of calls by default."""
    if not login.operator.is_staff:
        raise HTTPException(403, STAFF_ONLY)
    return login


def api_login(request: Request, console: ConsoleDep) -> Login:
    """Recordings and JSON: the login of hotline staff, or 401 (no login) / 403 (a radio account)."""
    login = current_login(request, console)
    if login is None:
        raise HTTPException(401, "Cần đăng nhập để truy cập.")
    if not login.operator.is_staff:
        raise HTTPException(403, STAFF_ONLY)
    return login


PageLogin = Annotated[Login, Depends(page_login)]
ApiLogin = Annotated[Login, Depends(api_login)]


async def admin_login(login: PageLogin) -> Login:
    """Administrators' pages: the login of an administrator, or 403."""
    if not login.operator.is_admin:
        raise HTTPException(403, "Chỉ quản trị viên được xem trang này.")
    return login


AdminLogin = Annotated[Login, Depends(admin_login)]


def check_csrf(login: Login, token: str | None) -> None:
    """403 unless `token` is the session's CSRF token (for forms parsed by the route itself)."""
    if not same_token(login.csrf, token):
        raise HTTPException(403, "Phiên làm việc không hợp lệ (mã chống giả mạo sai). Hãy tải lại trang.")


async def csrf_login(login: PageLogin, csrf: Annotated[str, Form()] = "") -> Login:
    """POST forms: the login, once the form's `csrf` field matched the session's token."""
    check_csrf(login, csrf)
    return login


async def admin_csrf_login(login: AdminLogin, csrf: Annotated[str, Form()] = "") -> Login:
    """Administrators' POST forms: administrator first, then the CSRF token."""
    check_csrf(login, csrf)
    return login


async def any_csrf_login(login: AnyPageLogin, csrf: Annotated[str, Form()] = "") -> Login:
    """POST forms of every role (logout, the radio pages): the login, once the CSRF token matched."""
    check_csrf(login, csrf)
    return login


CsrfLogin = Annotated[Login, Depends(csrf_login)]
AdminCsrfLogin = Annotated[Login, Depends(admin_csrf_login)]
AnyCsrfLogin = Annotated[Login, Depends(any_csrf_login)]


async def page_actor(request: Request, console: ConsoleDep, login: PageLogin) -> Actor:
    """The logged-in operator as the audit log records them."""
    return Actor(console.sessions, login.operator, client_ip(request))


async def any_actor(request: Request, console: ConsoleDep, login: AnyPageLogin) -> Actor:
    """Any logged-in account (logout, the radio pages) as the audit log records them."""
    return Actor(console.sessions, login.operator, client_ip(request))


async def api_actor(request: Request, console: ConsoleDep, login: ApiLogin) -> Actor:
    return Actor(console.sessions, login.operator, client_ip(request))


PageActor = Annotated[Actor, Depends(page_actor)]
AnyActor = Annotated[Actor, Depends(any_actor)]
ApiActor = Annotated[Actor, Depends(api_actor)]


async def get_intent_editor(console: ConsoleDep) -> IntentEditor:
    return console.intent_editor


async def get_prompt_editor(console: ConsoleDep) -> PromptTextEditor:
    return console.prompt_editor


IntentEditorDep = Annotated[IntentEditor, Depends(get_intent_editor)]
PromptEditorDep = Annotated[PromptTextEditor, Depends(get_prompt_editor)]


def reveal_number(actor: Actor, target: str, lookup: Callable[[], str | None], missing: str) -> str:
    """The audited "show full number" action (after the CSRF check): lookup (None: 404 with `missing`),
    then an audit entry. Returns the number to display in place of the masked one."""
    raw = lookup()
    if raw is None:
        raise HTTPException(404, missing)
    actor.record(AuditAction.SHOW_NUMBER, target)
    return raw or "(không có số)"


def refuse_oversized_body(request: Request, limit_bytes: int) -> None:
    """An upload whose declared length is over `limit_bytes` (plus the form's own fields) is refused
    before a byte of it is read; the spooling then enforces the limit on what actually arrives."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit_bytes + 64 * 1024:
        raise HTTPException(413, f"Tệp quá lớn (tối đa {limit_bytes // (1024 * 1024)} MB).")
