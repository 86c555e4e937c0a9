"""Operator accounts page (administrators only): list, add, reset a password, disable or enable."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Query
from fastapi.responses import RedirectResponse, Response

from console.audit_actions import AuditAction
from console.context import PREFIX, Console
from console.data.audit import Actor
from console.data.operators import (
    MAX_PASSWORD_CHARS,
    MIN_PASSWORD_CHARS,
    AccountError,
    add_operator,
    list_operators,
    set_active,
    set_password,
)
from console.data.sessions import Login
from console.deps import AdminCsrfLogin, AdminLogin, ConsoleDep, PageActor
from console.labels import ROLE_VI
from console.models import ROLES

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

# AccountError.code -> what the administrator reads ({name}: the login name concerned).
ACCOUNT_ERRORS_VI = {
    "console.account.bad_username": (
        "Tên đăng nhập không hợp lệ: từ 2 đến 64 ký tự, chỉ gồm chữ thường không dấu (a–z), chữ số, "
        "dấu chấm, gạch dưới hoặc gạch ngang, bắt đầu bằng chữ hoặc số."
    ),
    "console.account.exists": "Đã có tài khoản “{name}”. Hãy chọn tên đăng nhập khác.",
    "console.account.bad_role": "Vai trò không hợp lệ.",
    "console.account.no_commune": "Tài khoản truyền thanh xã, phường cần chọn xã, phường của tài khoản.",
    "console.account.password_short": f"Mật khẩu phải có ít nhất {MIN_PASSWORD_CHARS} ký tự.",
    "console.account.password_long": f"Mật khẩu không được dài quá {MAX_PASSWORD_CHARS} ký tự.",
    "console.account.password_mismatch": "Hai lần nhập mật khẩu không khớp nhau.",
    "console.account.self": "Bạn không thể tự khóa tài khoản của chính mình.",
    "console.account.last_admin": (
        "Không thể khóa quản trị viên cuối cùng đang hoạt động. "
        "Hãy thêm hoặc mở khóa một quản trị viên khác trước."
    ),
}

# ?done=... after a successful action (post/redirect/get) -> message; {name} is the account.
DONE_VI = {
    "added": "Đã thêm tài khoản “{name}”.",
    "password": "Đã đặt lại mật khẩu của “{name}”; các phiên đăng nhập đang mở của tài khoản này đã bị đóng.",
    "disabled": "Đã khóa tài khoản “{name}”; tài khoản này bị đăng xuất ngay.",
    "enabled": "Đã mở khóa tài khoản “{name}”.",
}


def account_error_vi(exc: AccountError, name: str) -> str:
    text = ACCOUNT_ERRORS_VI.get(exc.code)
    if text is None:  # a code without a translation must still say something useful
        logger.warning("no Vietnamese text for account error %s (%s)", exc.code, exc)
        return "Không thực hiện được thao tác với tài khoản."
    return text.format(name=name.strip().lower())


def _page(
    console: Console,
    login: Login,
    *,
    done: str = "",
    done_name: str = "",
    error: str = "",
    error_form: str = "",
    new: dict[str, str] | None = None,
    reset_name: str = "",
    status_code: int = 200,
) -> Response:
    operators = list_operators(console.sessions)
    names = {op.username for op in operators}
    message = DONE_VI[done].format(name=done_name) if done in DONE_VI and done_name in names else ""
    return console.render(
        "operators.html",
        login,
        status_code=status_code,
        page="operators",
        operators=operators,
        roles=ROLES,
        role_vi=ROLE_VI,
        done=message,
        error=error,
        error_form=error_form,
        new=new or {"username": "", "role": "operator", "commune": ""},
        communes=console.communes(),
        reset_name=reset_name if reset_name in names else "",
        min_password=MIN_PASSWORD_CHARS,
        max_password=MAX_PASSWORD_CHARS,
    )


def _done(done: str, name: str) -> Response:
    return RedirectResponse(f"{PREFIX}/operators?done={done}&user={quote(name)}", status_code=303)


@router.get(PREFIX + "/operators")
def operators(
    console: ConsoleDep,
    login: AdminLogin,
    done: str = Query("", max_length=16),
    user: str = Query("", max_length=64),
    reset: str = Query("", max_length=64),
) -> Response:
    return _page(console, login, done=done, done_name=user, reset_name=reset)


@router.post(PREFIX + "/operators/add")
def add(
    console: ConsoleDep,
    login: AdminCsrfLogin,
    actor: PageActor,
    username: str = Form("", max_length=200),
    role: str = Form("operator", max_length=32),
    password: str = Form("", max_length=1000),
    password2: str = Form("", max_length=1000),
    commune: str = Form("", max_length=16),
) -> Response:
    known = {code for code, _name in console.communes()}
    code = int(commune) if commune in known else None
    try:
        op = add_operator(console.sessions, username, password, role, repeated=password2, commune_code=code)
    except AccountError as exc:
        return _page(
            console,
            login,
            error=account_error_vi(exc, username),
            error_form="add",
            new={"username": username, "role": role if role in ROLES else "operator", "commune": commune},
            status_code=422,
        )
    detail = f"role={op.role}" + (f"; commune={op.commune_code}" if op.commune_code else "")
    actor.record(AuditAction.ADD_OPERATOR, f"operator:{op.username}", detail)
    return _done("added", op.username)


@router.post(PREFIX + "/operators/password")
def reset_password(
    console: ConsoleDep,
    login: AdminCsrfLogin,
    actor: PageActor,
    username: str = Form("", max_length=200),
    password: str = Form("", max_length=1000),
    password2: str = Form("", max_length=1000),
) -> Response:
    name = username.strip().lower()
    try:
        closed = set_password(console.sessions, name, password, repeated=password2)
    except AccountError as exc:
        if exc.code == "console.account.unknown":
            raise HTTPException(404, f"Không có tài khoản “{name}”.") from None
        return _page(
            console,
            login,
            error=account_error_vi(exc, name),
            error_form="reset",
            reset_name=name,
            status_code=422,
        )
    actor.record(AuditAction.RESET_PASSWORD, f"operator:{name}", f"closed {closed} sessions")
    # Resetting one's own password closes one's own session too: the redirect then leads to the login.
    return _done("password", name)


def _set_active(console: Console, login: Login, actor: Actor, username: str, active: bool) -> Response:
    name = username.strip().lower()
    try:
        closed = set_active(console.sessions, name, active, actor=login.operator)
    except AccountError as exc:
        if exc.code == "console.account.unknown":
            raise HTTPException(404, f"Không có tài khoản “{name}”.") from None
        return _page(console, login, error=account_error_vi(exc, name), error_form="list", status_code=422)
    actor.record(
        AuditAction.ENABLE_OPERATOR if active else AuditAction.DISABLE_OPERATOR,
        f"operator:{name}",
        "" if active else f"closed {closed} sessions",
    )
    return _done("enabled" if active else "disabled", name)


@router.post(PREFIX + "/operators/{username}/disable")
def disable(username: str, console: ConsoleDep, login: AdminCsrfLogin, actor: PageActor) -> Response:
    return _set_active(console, login, actor, username, False)


@router.post(PREFIX + "/operators/{username}/enable")
def enable(username: str, console: ConsoleDep, login: AdminCsrfLogin, actor: PageActor) -> Response:
    return _set_active(console, login, actor, username, True)
