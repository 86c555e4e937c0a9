"""The intent catalog, read-only, with a "try a sentence" box and the result of the catalog check."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from hotline.console.auth import Login
from hotline.console.web import PREFIX, Console

MAX_TRY_CHARS = 500


def router(console: Console) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    page_login = Depends(console.page_login)

    def _page(login: Login, text: str = "", decision=None) -> Response:
        state = console.catalog.state()
        catalog = state.catalog
        titles = {i.id: i.title for i in catalog.intents} if catalog else {}
        return console.render(
            "intents.html",
            login,
            page="intents",
            state=state,
            catalog=catalog,
            text=text,
            decision=decision,
            titles=titles,
            menu=catalog.menu_entries() if catalog else [],
            where=(lambda i: catalog.where(i)) if catalog else (lambda i: ""),
        )

    @r.get(PREFIX + "/intents")
    def intents(login: Login = page_login) -> Response:
        return _page(login)

    @r.post(PREFIX + "/intents/try")
    def try_sentence(
        login: Login = page_login, csrf: str = Form(""), text: str = Form("", max_length=5000)
    ) -> Response:
        console.check_csrf(login, csrf)
        text = text[:MAX_TRY_CHARS]
        state = console.catalog.state()
        decision = state.matcher.match(text) if state.matcher is not None else None
        return _page(login, text, decision)

    return r
