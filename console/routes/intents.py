"""The intent catalog page: the list with the result of the catalog check and a "try a sentence" box.

The tester also shows how the hotline will say the answer, and a second box any sentence (a ticket
number, a date): which words come from the recorded word bank and which the synthesizer must say.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Form
from fastapi.responses import Response

from console.context import PREFIX, Console
from console.data.sessions import Login
from console.data.speech_plan import SpokenPlan, speech_plan
from console.deps import ConsoleDep, CsrfLogin, PageLogin

if TYPE_CHECKING:
    from intents.matcher import Decision

router = APIRouter(include_in_schema=False)

MAX_TRY_CHARS = 500


def _page(
    console: Console,
    login: Login,
    text: str = "",
    decision: Decision | None = None,
    *,
    spoken: SpokenPlan | None = None,
    spoken_title: str = "",
    say: str = "",
) -> Response:
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
        spoken=spoken,
        spoken_title=spoken_title,
        say=say,
    )


@router.get(PREFIX + "/intents")
def intents(console: ConsoleDep, login: PageLogin) -> Response:
    return _page(console, login)


@router.post(PREFIX + "/intents/try")
def try_sentence(console: ConsoleDep, login: CsrfLogin, text: str = Form("", max_length=5000)) -> Response:
    text = text[:MAX_TRY_CHARS]
    state = console.catalog.state()
    decision = state.matcher.match(text) if state.matcher is not None else None
    answer = ""
    if decision is not None and decision.intent and state.catalog is not None:
        answer = next((i.answer for i in state.catalog.intents if i.id == decision.intent), "")
    spoken = _spoken(console, answer)
    return _page(console, login, text, decision, spoken=spoken, spoken_title="Tổng đài sẽ đọc câu trả lời")


@router.post(PREFIX + "/intents/speak")
def speak_sentence(console: ConsoleDep, login: CsrfLogin, say: str = Form("", max_length=5000)) -> Response:
    """Any sentence (with numbers, dates, a commune): which words are recorded, which synthesized."""
    say = say[:MAX_TRY_CHARS]
    spoken = _spoken(console, say)
    return _page(console, login, spoken=spoken, spoken_title="Tổng đài sẽ đọc câu này", say=say)


def _spoken(console: Console, text: str) -> SpokenPlan | None:
    if not text.strip():
        return None
    try:
        communes = [name for _, name in console.communes()]
        return speech_plan(console.settings, text, communes, console.catalog.state().catalog)
    except Exception:  # a sentence the reader cannot say (only symbols): nothing to show
        return None
