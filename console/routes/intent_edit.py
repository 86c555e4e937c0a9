"""One intent's edit page: edit, try a sentence against the draft, history and restore.

Every logged-in operator may edit an intent's title, answer, follow-up question, examples and keywords
(the people on duty are the ones who hear what callers ask); every save goes through the edit path
(console.edit.intents): checked with the whole catalog, the previous file kept, audited.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, HTTPException, Query
from fastapi.responses import RedirectResponse, Response

from console.context import PREFIX, Console
from console.data.audit import Actor
from console.data.catalog import CatalogState
from console.data.sessions import Login
from console.deps import ConsoleDep, CsrfLogin, IntentEditorDep, PageActor, PageLogin
from console.edit import studio
from console.edit.history import MAX_VERSIONS, digest
from console.edit.intent_form import FormInput, IntentDraft, IntentEditError
from console.edit.intent_problems import problem_vi
from console.edit.intent_yaml import IntentSource, draft_in
from console.routes.intents import MAX_TRY_CHARS
from console.routes.studio import STUDIO_ROLES
from console.studio_vi import item_label
from intents.catalog import speaking_seconds
from intents.replay import ReplayReport, replay
from ivr.store import speech_transcripts, utcnow

if TYPE_CHECKING:
    from intents.matcher import Decision

logger = logging.getLogger(__name__)

PREVIEW_DAYS = 30  # the edit form's preview replays callers' words of this many days ...
PREVIEW_MAX = 2000  # ... at most this many (newest first): the page answers within a second or two

router = APIRouter(include_in_schema=False)

MAX_TITLE_CHARS = 80  # IntentSpec.title
MAX_ANSWER_CHARS = 3000  # far more than 40 s of speech: the checker gives the real limit
MAX_FOLLOW_UP_CHARS = 500
MAX_EXAMPLES_CHARS = 20000
MAX_KEYWORDS = 60
INTENT_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
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


def _neighbours(state: CatalogState, source: IntentSource) -> list[str]:
    """Titles of the topics kept with this one (a restore puts them all back): operators know topics by
    title, not by the file that holds them."""
    catalog = state.catalog
    if catalog is None:
        return [source.draft.title]
    same = [i.title for i in catalog.intents if Path(catalog.where(i.id).rpartition(":")[0]) == source.path]
    return same or [source.draft.title]


def _source(console: Console, intent_id: str) -> IntentSource:
    source = console.intent_editor.find(intent_id) if INTENT_ID.match(intent_id) else None
    if source is None:
        raise HTTPException(404, f"Không có chủ đề “{intent_id}”.")
    return source


def _edit_page(
    console: Console,
    login: Login,
    source: IntentSource,
    form: FormInput,
    *,
    version: str,
    saved: str = "",
    messages: list[str] | None = None,
    problems: list[str] | None = None,
    text: str = "",
    decision: Decision | None = None,
    tried: CatalogState | None = None,
    draft_used: bool = False,
    restored: str = "",
    restore_messages: list[str] | None = None,
    restore_problems: list[str] | None = None,
    preview: ReplayReport | None = None,
    status_code: int = 200,
) -> Response:

    raw = source.path.read_bytes()
    versions = console.intent_editor.edits.versions(console.sessions, source.path)
    history = [
        (v, _difference(source.draft, draft_in(v.path.read_bytes(), source.intent_id))) for v in versions
    ]
    state = console.catalog.state()
    # Recordings of this topic read from a text that has been edited since: callers hear the synthetic
    # voice until it is recorded again, which the page says with a way to the studio's row.
    stale = [
        (item, item_label(item))
        for item, st in studio.topic_statuses(console.settings, state.catalog, source.intent_id)
        if st == studio.Status.STALE
    ]
    shown = (tried or state).catalog
    titles = {i.id: i.title for i in shown.intents} if shown else {}
    cfg = console.settings.intents
    return console.render(
        "intent_edit.html",
        login,
        status_code=status_code,
        page="intents",
        state=state,
        source=source,
        neighbours=_neighbours(state, source),
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
        preview=preview,
        preview_days=PREVIEW_DAYS,
        stale_recordings=stale,
        studio_link=login.operator.role in STUDIO_ROLES,
        limits={
            "title": MAX_TITLE_CHARS,
            "answer": MAX_ANSWER_CHARS,
            "follow_up": MAX_FOLLOW_UP_CHARS,
            "examples": MAX_EXAMPLES_CHARS,
        },
    )


def _refused(
    console: Console, exc: IntentEditError, intent_id: str, draft: IntentDraft
) -> tuple[list[str], list[str]]:
    """(Vietnamese messages, the checker's own lines) for a refused edit."""
    catalog = console.catalog.state().catalog
    messages = list(exc.messages)
    for problem in exc.problems:
        text = problem_vi(problem, catalog, intent_id, draft.examples)
        if text not in messages:
            messages.append(text)
    return messages, list(exc.problems)


def _not_written(source: IntentSource, exc: OSError) -> list[str]:
    return [f"Không ghi được danh mục chủ đề ({exc.strerror or exc}). Không có gì thay đổi."]


@router.get(PREFIX + "/intents/{intent_id}")
def edit_page(
    intent_id: str,
    console: ConsoleDep,
    login: PageLogin,
    saved: str = Query("", max_length=4),
    restored: str = Query("", max_length=4),
) -> Response:
    source = _source(console, intent_id)
    return _edit_page(
        console,
        login,
        source,
        FormInput.of(source.draft),
        version=source.draft.version(),
        saved=saved,
        restored=restored,
    )


@router.post(PREFIX + "/intents/{intent_id}/restore")
def restore(
    intent_id: str,
    console: ConsoleDep,
    editor: IntentEditorDep,
    login: CsrfLogin,
    actor: PageActor,
    name: str = Form("", max_length=200),
    current: str = Form("", max_length=64),
) -> Response:
    """Put a kept version of the intent's file back ("Khôi phục bản này"), checked like an edit."""
    source = _source(console, intent_id)
    form, version = FormInput.of(source.draft), source.draft.version()
    try:
        result = editor.restore(intent_id, name, current, actor)
    except IntentEditError as exc:
        messages, problems = _refused(console, exc, intent_id, source.draft)
        status = {"console.intent_edit.conflict": 409, "console.intent_edit.no_version": 404}
        return _edit_page(
            console,
            login,
            source,
            form,
            version=version,
            restore_messages=messages,
            restore_problems=problems,
            status_code=status.get(exc.code, 422),
        )
    except OSError as exc:
        logger.error("intent file %s could not be restored: %s", source.path, exc)
        return _edit_page(
            console,
            login,
            source,
            form,
            version=version,
            restore_messages=_not_written(source, exc),
            status_code=500,
        )
    if result.history is None:
        return RedirectResponse(f"{PREFIX}/intents/{intent_id}?restored=0#history", status_code=303)
    if editor.find(intent_id) is None:  # the restored file no longer defines this intent
        return RedirectResponse(f"{PREFIX}/intents", status_code=303)
    return RedirectResponse(f"{PREFIX}/intents/{intent_id}?restored=1#history", status_code=303)


@router.post(PREFIX + "/intents/{intent_id}/edit")
def edit(
    intent_id: str,
    console: ConsoleDep,
    login: CsrfLogin,
    actor: PageActor,
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
    source = _source(console, intent_id)
    words = [w[:200] for w in (kw_word or [])[:MAX_KEYWORDS]]
    weights = [w[:20] for w in (kw_weight or [])[:MAX_KEYWORDS]]
    form = FormInput(title, answer, follow_up, examples, words, weights)
    text = text[:MAX_TRY_CHARS].strip()
    try:
        draft = form.draft()
    except IntentEditError as exc:
        return _edit_page(
            console, login, source, form, version=version, text=text, messages=exc.messages, status_code=422
        )
    if do == "save":
        return _save(console, login, actor, source, form, draft, version)
    return _try(console, login, source, form, draft, version, text)


def _save(
    console: Console,
    login: Login,
    actor: Actor,
    source: IntentSource,
    form: FormInput,
    draft: IntentDraft,
    version: str,
) -> Response:
    try:
        result = console.intent_editor.save(source.intent_id, draft, version, actor)
    except IntentEditError as exc:
        messages, problems = _refused(console, exc, source.intent_id, draft)
        status = 409 if exc.code == "console.intent_edit.conflict" else 422
        return _edit_page(
            console,
            login,
            source,
            form,
            version=version,
            messages=messages,
            problems=problems,
            status_code=status,
        )
    except OSError as exc:
        logger.error("intent %s could not be saved: %s", source.intent_id, exc)
        return _edit_page(
            console, login, source, form, version=version, messages=_not_written(source, exc), status_code=500
        )
    if not result.changes:
        return RedirectResponse(f"{PREFIX}/intents/{source.intent_id}?saved=0", status_code=303)
    return RedirectResponse(f"{PREFIX}/intents/{source.intent_id}?saved=1", status_code=303)


def _try(
    console: Console,
    login: Login,
    source: IntentSource,
    form: FormInput,
    draft: IntentDraft,
    version: str,
    text: str,
) -> Response:
    state = console.catalog.state()
    try:
        result = console.intent_editor.try_draft(source.intent_id, draft, state)
    except IntentEditError as exc:
        messages, problems = _refused(console, exc, source.intent_id, draft)
        return _edit_page(
            console,
            login,
            source,
            form,
            version=version,
            messages=messages,
            problems=problems,
            status_code=422,
        )
    messages, problems = ([], [])
    if result.problems:
        messages, problems = _refused(console, IntentEditError([], result.problems), source.intent_id, draft)
    matcher = result.state.matcher
    decision = matcher.match(text) if (matcher is not None and text) else None
    preview = None
    if result.draft_used and state.matcher is not None and matcher is not None:
        # What the edit would change on real callers' words, before it is saved (`hotline intents replay`).
        since = utcnow() - dt.timedelta(days=PREVIEW_DAYS)
        preview = replay(speech_transcripts(console.sessions, since, PREVIEW_MAX), state.matcher, matcher)
    return _edit_page(
        console,
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
        preview=preview,
    )
