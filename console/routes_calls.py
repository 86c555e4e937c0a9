"""Dashboard, call list and call detail (numbers masked unless an operator asks, which is audited)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import Response

from console import queries
from console.auth import Login
from console.web import PREFIX, Console


def _date(value: str, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"Ngày không hợp lệ ở ô “{name}”: {value} (dạng NNNN-TT-NN).") from None


def router(console: Console) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    page_login = Depends(console.page_login)
    api_login = Depends(console.api_login)

    @r.get(PREFIX + "/")
    def dashboard(login: Login = page_login) -> Response:
        return console.render("dashboard.html", login, d=queries.dashboard(console.sessions), page="home")

    @r.get(PREFIX + "/api/stats")
    def stats(login: Login = api_login) -> dict:
        d = asdict(queries.dashboard(console.sessions))
        d["day"] = d["day"].isoformat()
        return d

    @r.get(PREFIX + "/calls")
    def calls(
        login: Login = page_login,
        day_from: str = Query("", alias="from", max_length=10),
        day_to: str = Query("", alias="to", max_length=10),
        intent: str = Query("", max_length=64),
        outcome: str = Query("", max_length=32),
        page: int = Query(1, ge=1, le=100_000),
    ) -> Response:
        flt = queries.CallFilter(_date(day_from, "từ ngày"), _date(day_to, "đến ngày"), intent, outcome, page)
        rows, total = queries.list_calls(console.sessions, flt)
        intents, outcomes = queries.filter_choices(console.sessions)
        return console.render(
            "calls.html",
            login,
            page="calls",
            rows=rows,
            total=total,
            flt=flt,
            intents=intents,
            outcomes=outcomes,
            pages=max(1, -(-total // queries.PAGE_SIZE)),
            q={"from": day_from, "to": day_to, "intent": intent, "outcome": outcome},
        )

    def _call_page(login: Login, call_id: int, raw_number: str | None = None) -> Response:
        detail = queries.call_detail(console.sessions, call_id)
        if detail is None:
            raise HTTPException(404, f"Không có cuộc gọi số {call_id}.")
        return console.render("call.html", login, page="calls", d=detail, raw_number=raw_number)

    @r.get(PREFIX + "/calls/{call_id}")
    def call(call_id: int, login: Login = page_login) -> Response:
        return _call_page(login, call_id)

    @r.post(PREFIX + "/calls/{call_id}/number")
    def show_number(
        call_id: int, request: Request, csrf: str = Form(""), login: Login = page_login
    ) -> Response:
        raw = console.reveal_number(
            request,
            login,
            csrf,
            f"call:{call_id}",
            lambda: queries.raw_caller_of_call(console.sessions, call_id),
            f"Không có cuộc gọi số {call_id}.",
        )
        return _call_page(login, call_id, raw_number=raw)

    return r
