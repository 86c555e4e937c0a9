"""The intent catalog: the list with the catalog check and a "try a sentence" box, and one intent's edit page.

Every logged-in operator may edit an intent's title, answer, follow-up question, examples and keywords
(the people on duty are the ones who hear what callers ask); every save is audited and the previous file
is kept, so any edit can be seen and undone.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from console import audit
from console.auth import Login
from console.catalog_view import CatalogState
from console.history import MAX_VERSIONS, digest, list_versions, with_authors
from console.intent_edit import (
    FormInput,
    IntentDraft,
    IntentEditError,
    IntentEditor,
    IntentSource,
    draft_in,
    problem_vi,
)
from console.web import PREFIX, Console

logger = logging.getLogger(__name__)

MAX_TRY_CHARS = 500
MAX_TITLE_CHARS = 80  # IntentSpec.title
MAX_ANSWER_CHARS = 3000  # far more than 40 s of speech: the checker gives the real limit
MAX_FOLLOW_UP_CHARS = 500
MAX_EXAMPLES_CHARS = 20000
MAX_KEYWORDS = 60
INTENT_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
HISTORY_ACTIONS = ("edit_intent", "restore_intent")  # audit entries that keep an intent file's version
FIELDS_VI = {
    "title": "tên chủ đề",
    "answer": "câu trả lời",
    "follow_up": "câu hỏi tiếp",
    "examples": "câu mẫu",
    "keywords": "từ khóa",
}


def _difference(current: IntentDraft, old: IntentDraft | None) -> str:
    """How a kept version differs from the current file for this intent, in the operator's words."""
    if old is None:
        return "Bản này chưa có chủ đề này."
    changed = [FIELDS_VI[c.split(" ")[0]] for c in current.changes(old)]
    if not changed:
        return "Chủ đề này giống hiện tại (khác ở chủ đề khác trong tệp)."
    return "Khác hiện tại: " + ", ".join(changed) + "."


def router(console: Console) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    page_login = Depends(console.page_login)
    settings = console.settings
    editor = IntentEditor(settings)

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

    # --- one intent ------------------------------------------------------------------------------
    def _source(intent_id: str) -> IntentSource:
        source = editor.find(intent_id) if INTENT_ID.match(intent_id) else None
        if source is None:
            raise HTTPException(404, f"Không có chủ đề “{intent_id}”.")
        return source

    def _edit_page(
        login: Login,
        source: IntentSource,
        form: FormInput,
        *,
        version: str,
        saved: str = "",
        messages: list[str] | None = None,
        problems: list[str] | None = None,
        text: str = "",
        decision=None,
        tried: CatalogState | None = None,
        draft_used: bool = False,
        restored: str = "",
        restore_messages: list[str] | None = None,
        restore_problems: list[str] | None = None,
        status_code: int = 200,
    ) -> Response:
        from intents.catalog import speaking_seconds

        raw = source.path.read_bytes()
        versions = with_authors(
            console.sessions,
            list_versions(editor.history_dir, source.path),
            source.path.name,
            HISTORY_ACTIONS,
        )
        history = [
            (v, _difference(source.draft, draft_in(v.path.read_bytes(), source.intent_id))) for v in versions
        ]
        state = console.catalog.state()
        shown = (tried or state).catalog
        titles = {i.id: i.title for i in shown.intents} if shown else {}
        cfg = settings.intents
        return console.render(
            "intent_edit.html",
            login,
            status_code=status_code,
            page="intents",
            state=state,
            source=source,
            file_name=source.path.name,
            form=form,
            keyword_rows=form.keyword_rows(),
            version=version,
            saved=saved,
            messages=messages or [],
            problems=problems or [],
            text=text,
            decision=decision,
            titles=titles,
            draft_used=draft_used,
            seconds=speaking_seconds(" ".join(form.answer.split()), cfg.speech_rate),
            max_seconds=cfg.max_answer_seconds,
            hot_reload=cfg.hot_reload,
            reload_interval=cfg.reload_interval,
            history=history,
            max_versions=MAX_VERSIONS,
            history_action=f"{PREFIX}/intents/{source.intent_id}/restore",
            current_digest=digest(raw),
            restored=restored,
            restore_messages=restore_messages or [],
            restore_problems=restore_problems or [],
            limits={
                "title": MAX_TITLE_CHARS,
                "answer": MAX_ANSWER_CHARS,
                "follow_up": MAX_FOLLOW_UP_CHARS,
                "examples": MAX_EXAMPLES_CHARS,
            },
        )

    def _refused(exc: IntentEditError, intent_id: str, draft: IntentDraft) -> tuple[list[str], list[str]]:
        """(Vietnamese messages, the checker's own lines) for a refused edit."""
        catalog = console.catalog.state().catalog
        messages = list(exc.messages)
        for problem in exc.problems:
            text = problem_vi(problem, catalog, intent_id, draft.examples)
            if text not in messages:
                messages.append(text)
        return messages, list(exc.problems)

    @r.get(PREFIX + "/intents/{intent_id}")
    def edit_page(
        intent_id: str,
        login: Login = page_login,
        saved: str = Query("", max_length=4),
        restored: str = Query("", max_length=4),
    ) -> Response:
        source = _source(intent_id)
        return _edit_page(
            login,
            source,
            FormInput.of(source.draft),
            version=source.draft.version(),
            saved=saved,
            restored=restored,
        )

    @r.post(PREFIX + "/intents/{intent_id}/restore")
    def restore(
        intent_id: str,
        request: Request,
        login: Login = page_login,
        csrf: str = Form(""),
        name: str = Form("", max_length=200),
        current: str = Form("", max_length=64),
    ) -> Response:
        """Put a kept version of the intent's file back ("Khôi phục bản này"), checked like an edit."""
        console.check_csrf(login, csrf)
        source = _source(intent_id)
        try:
            result = editor.restore(intent_id, name, current)
        except IntentEditError as exc:
            messages, problems = _refused(exc, intent_id, source.draft)
            status = {"console.intent_edit.conflict": 409, "console.intent_edit.no_version": 404}
            return _edit_page(
                login,
                source,
                FormInput.of(source.draft),
                version=source.draft.version(),
                restore_messages=messages,
                restore_problems=problems,
                status_code=status.get(exc.code, 422),
            )
        except OSError as exc:
            logger.error("intent file %s could not be restored: %s", source.path, exc)
            return _edit_page(
                login,
                source,
                FormInput.of(source.draft),
                version=source.draft.version(),
                restore_messages=[
                    f"Không ghi được tệp {source.path.name} ({exc.strerror or exc}). Không có gì thay đổi."
                ],
                status_code=500,
            )
        if result.history is None:
            return RedirectResponse(f"{PREFIX}/intents/{intent_id}?restored=0#history", status_code=303)
        console.catalog.invalidate()  # this page shows the restored catalog at once
        audit.record(
            console.sessions,
            login.operator,
            "restore_intent",
            f"intent:{intent_id}",
            f"{result.path.name}: {result.restored.name} (replaced file kept as {result.history.name})",
            console.client_ip(request),
        )
        if editor.find(intent_id) is None:  # the restored file no longer defines this intent
            return RedirectResponse(f"{PREFIX}/intents", status_code=303)
        return RedirectResponse(f"{PREFIX}/intents/{intent_id}?restored=1#history", status_code=303)

    @r.post(PREFIX + "/intents/{intent_id}/edit")
    def edit(
        intent_id: str,
        request: Request,
        login: Login = page_login,
        csrf: str = Form(""),
        do: str = Form("try", max_length=8),
        version: str = Form("", max_length=64),
        title: str = Form("", max_length=MAX_TITLE_CHARS * 4),
        answer: str = Form("", max_length=MAX_ANSWER_CHARS),
        follow_up: str = Form("", max_length=MAX_FOLLOW_UP_CHARS),
        examples: str = Form("", max_length=MAX_EXAMPLES_CHARS),
        kw_word: Annotated[list[str] | None, Form()] = None,
        kw_weight: Annotated[list[str] | None, Form()] = None,
        text: str = Form("", max_length=5000),
    ) -> Response:
        console.check_csrf(login, csrf)
        source = _source(intent_id)
        words = [w[:200] for w in (kw_word or [])[:MAX_KEYWORDS]]
        weights = [w[:20] for w in (kw_weight or [])[:MAX_KEYWORDS]]
        form = FormInput(title, answer, follow_up, examples, words, weights)
        text = text[:MAX_TRY_CHARS].strip()
        try:
            draft = form.draft()
        except IntentEditError as exc:
            return _edit_page(
                login, source, form, version=version, text=text, messages=exc.messages, status_code=422
            )
        if do == "save":
            return _save(request, login, source, form, draft, version)
        return _try(login, source, form, draft, version, text)

    def _save(
        request: Request,
        login: Login,
        source: IntentSource,
        form: FormInput,
        draft: IntentDraft,
        version: str,
    ) -> Response:
        try:
            result = editor.save(source.intent_id, draft, version)
        except IntentEditError as exc:
            messages, problems = _refused(exc, source.intent_id, draft)
            status = 409 if exc.code == "console.intent_edit.conflict" else 422
            return _edit_page(
                login, source, form, version=version, messages=messages, problems=problems, status_code=status
            )
        except OSError as exc:
            logger.error("intent %s could not be saved: %s", source.intent_id, exc)
            return _edit_page(
                login,
                source,
                form,
                version=version,
                messages=[
                    f"Không ghi được tệp {source.path.name} ({exc.strerror or exc}). Không có gì thay đổi."
                ],
                status_code=500,
            )
        if not result.changes:
            return RedirectResponse(f"{PREFIX}/intents/{source.intent_id}?saved=0", status_code=303)
        console.catalog.invalidate()  # this page shows the new catalog at once, whatever the file times
        audit.record(
            console.sessions,
            login.operator,
            "edit_intent",
            f"intent:{source.intent_id}",
            f"{result.path.name}: {', '.join(result.changes)}",
            console.client_ip(request),
        )
        return RedirectResponse(f"{PREFIX}/intents/{source.intent_id}?saved=1", status_code=303)

    def _try(
        login: Login, source: IntentSource, form: FormInput, draft: IntentDraft, version: str, text: str
    ) -> Response:
        state = console.catalog.state()
        try:
            result = editor.try_draft(source.intent_id, draft, state)
        except IntentEditError as exc:
            messages, problems = _refused(exc, source.intent_id, draft)
            return _edit_page(
                login, source, form, version=version, messages=messages, problems=problems, status_code=422
            )
        messages, problems = ([], [])
        if result.problems:
            messages, problems = _refused(IntentEditError([], result.problems), source.intent_id, draft)
        matcher = result.state.matcher
        decision = matcher.match(text) if (matcher is not None and text) else None
        return _edit_page(
            login,
            source,
            form,
            version=version,
            messages=messages,
            problems=problems,
            text=text,
            decision=decision,
            tried=result.state,
            draft_used=result.draft_used,
        )

    return r
