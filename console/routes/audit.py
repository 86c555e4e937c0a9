"""The audit log page (administrators only)."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response

from console.context import PREFIX
from console.data import audit
from console.deps import AdminLogin, ConsoleDep, Db
from console.labels import ACTIONS_VI

router = APIRouter(include_in_schema=False)


@router.get(PREFIX + "/audit")
def audit_page(
    console: ConsoleDep, db: Db, login: AdminLogin, action: str = Query("", max_length=32)
) -> Response:
    entries = audit.recent(db, action=action)
    return console.render(
        "audit.html", login, page="audit", entries=entries, action=action, actions=ACTIONS_VI
    )
