"""A new intent from the console (id, title, answer, keypad key, examples), saved through the edit path."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from console.context import PREFIX, Console
from console.data.sessions import Login
from console.deps import ConsoleDep, CsrfLogin, PageActor, PageLogin
from console.edit.intent_form import IntentEditError
from console.edit.intent_new import NewIntentForm
from console.edit.intent_problems import problem_vi

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


def _page(
    console: Console,
    login: Login,
    form: NewIntentForm,
    messages: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    return console.render(
        "intent_new.html", login, status_code=status_code, page="intents", form=form, messages=messages or []
    )


@router.get(PREFIX + "/intents/new")
def new_intent_page(console: ConsoleDep, login: PageLogin) -> Response:
    return _page(console, login, NewIntentForm())


@router.post(PREFIX + "/intents/new")
def new_intent(
    console: ConsoleDep,
    login: CsrfLogin,
    actor: PageActor,
    id: str = Form("", max_length=60),
    title: str = Form("", max_length=320),
    answer: str = Form("", max_length=3000),
    digit: str = Form("", max_length=8),
    examples: str = Form("", max_length=20000),
) -> Response:
    form = NewIntentForm(id, title, answer, digit, examples)
    try:
        new = form.validate()
        console.intent_editor.create(new, actor)
    except IntentEditError as exc:
        catalog = console.catalog.state().catalog
        messages = list(exc.messages)
        for problem in exc.problems:
            text = problem_vi(problem, catalog, form.id.strip())
            if text not in messages:
                messages.append(text)
        return _page(console, login, form, messages, 409 if exc.code.endswith("exists") else 422)
    except OSError as exc:
        logger.error("new intent %s could not be written: %s", form.id, exc)
        return _page(
            console, login, form, [f"Không ghi được tệp ({exc.strerror or exc}). Không có gì thay đổi."], 500
        )
    return RedirectResponse(f"{PREFIX}/intents/{new.id}?saved=1", status_code=303)
