"""The audit log page (administrators only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from console import audit
from console.auth import Login
from console.web import PREFIX, Console


def router(console: Console) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    admin_login = Depends(console.admin_login)

    @r.get(PREFIX + "/audit")
    def audit_page(login: Login = admin_login, action: str = Query("", max_length=32)) -> Response:
        entries = audit.recent(console.sessions, action=action)
        return console.render(
            "audit.html", login, page="audit", entries=entries, action=action, actions=audit.ACTIONS_VI
        )

    return r
