"""The intent catalog page: the list with the result of the catalog check and a "try a sentence" box."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Form
from fastapi.responses import Response

from console.context import PREFIX, Console
from console.data.sessions import Login
from console.deps import ConsoleDep, CsrfLogin, PageLogin

if TYPE_CHECKING:
    from intents.matcher import Decision

router = APIRouter(include_in_schema=False)

MAX_TRY_CHARS = 500


def _page(console: Console, login: Login, text: str = "", decision: Decision | None = None) -> Response:
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


@router.get(PREFIX + "/intents")
def intents(console: ConsoleDep, login: PageLogin) -> Response:
    return _page(console, login)


@router.post(PREFIX + "/intents/try")
def try_sentence(console: ConsoleDep, login: CsrfLogin, text: str = Form("", max_length=5000)) -> Response:
    text = text[:MAX_TRY_CHARS]
    state = console.catalog.state()
    decision = state.matcher.match(text) if state.matcher is not None else None
    return _page(console, login, text, decision)
