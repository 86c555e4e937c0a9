"""Call list and call detail (numbers masked unless an operator asks, which is audited)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import Response

from console.context import PREFIX, Console
from console.data import calls
from console.data.sessions import Login
from console.deps import ConsoleDep, CsrfLogin, Db, PageActor, PageLogin, reveal_number
from core.db import MAX_ROW_ID

router = APIRouter(include_in_schema=False)
# A call id in a URL: one SQLite can hold, else 422 (not a driver error).
CallId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


def _date(value: str, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"Ngày không hợp lệ ở ô “{name}”: {value} (dạng NNNN-TT-NN).") from None


@router.get(PREFIX + "/calls")
def call_list(
    console: ConsoleDep,
    db: Db,
    login: PageLogin,
    day_from: str = Query("", alias="from", max_length=10),
    day_to: str = Query("", alias="to", max_length=10),
    intent: str = Query("", max_length=64),
    outcome: str = Query("", max_length=32),
    page: int = Query(1, ge=1, le=100_000),
) -> Response:
    flt = calls.CallFilter(
        _date(day_from, "từ ngày"), _date(day_to, "đến ngày"), intent, outcome, page, tz=console.tz
    )
    rows, total = calls.list_calls(db, flt)
    intents, outcomes = calls.filter_choices(db)
    return console.render(
        "calls.html",
        login,
        page="calls",
        rows=rows,
        total=total,
        flt=flt,
        intents=intents,
        outcomes=outcomes,
        pages=max(1, -(-total // calls.PAGE_SIZE)),
        q={"from": day_from, "to": day_to, "intent": intent, "outcome": outcome},
    )


def _call_page(console: Console, login: Login, call_id: int, raw_number: str | None = None) -> Response:
    detail = calls.call_detail(console.sessions, call_id)
    if detail is None:
        raise HTTPException(404, f"Không có cuộc gọi số {call_id}.")
    return console.render("call.html", login, page="calls", d=detail, raw_number=raw_number)


@router.get(PREFIX + "/calls/{call_id}")
def call(call_id: CallId, console: ConsoleDep, login: PageLogin) -> Response:
    return _call_page(console, login, call_id)


@router.post(PREFIX + "/calls/{call_id}/number")
def show_number(call_id: CallId, console: ConsoleDep, db: Db, login: CsrfLogin, actor: PageActor) -> Response:
    raw = reveal_number(
        actor,
        f"call:{call_id}",
        lambda: calls.raw_caller_of_call(db, call_id),
        f"Không có cuộc gọi số {call_id}.",
    )
    return _call_page(console, login, call_id, raw_number=raw)
