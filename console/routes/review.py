"""The review queue, "Cần xem xét": what the hotline did not understand, taught in one click.

Each item shows the words heard, the audio the recognizer heard (logged-in operators only, every request
audited like ticket recordings) and the best guesses by title. "Dạy" adds the words as an example of the
chosen intent through the intent editor's own path (whole-catalog check, history, audit, hot reload);
the other buttons close an item as out of scope, a recognition error, or dismissed. Checked items can
be handled together.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from console.audit_actions import REVIEW_CLOSED, AuditAction
from console.context import PREFIX, Console
from console.data.audit import Actor
from console.data.sessions import Login
from console.deps import ApiActor, ConsoleDep, CsrfLogin, PageActor, PageLogin
from console.edit.intent_form import IntentEditError
from console.edit.intent_problems import problem_vi
from ivr.review_rules import ReviewStatus
from ivr.review_store import PAGE_SIZE, ReviewStore

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

REASON_VI = {
    "not_understood": "Không hiểu",
    "clarify": "Phải hỏi lại (hai chủ đề gần nhau)",
    "low_margin": "Hiểu nhưng chưa chắc",
    "fallback": "Chuyển sang bàn phím hoặc cán bộ",
}
STATUS_VI = {
    "open": "Chờ xem xét",
    "taught": "Đã dạy",
    "out_of_scope": "Ngoài phạm vi",
    "recognition_error": "Nhận dạng sai",
    "dismissed": "Bỏ qua",
}
CLOSING = {s.value: s for s in ReviewStatus if s not in (ReviewStatus.OPEN, ReviewStatus.TAUGHT)}
MAX_BULK = 200


def review_store(console: ConsoleDep) -> ReviewStore:
    settings = console.settings
    return ReviewStore(console.sessions, (settings.data_dir / settings.ivr.review.audio_dir).resolve())


Store = Annotated[ReviewStore, Depends(review_store)]


def _page(
    console: Console,
    store: ReviewStore,
    login: Login,
    status: str,
    page: int,
    *,
    done: str = "",
    messages: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    rows, total = store.items(status, page)
    catalog = console.catalog.state().catalog
    intents = [(i.id, i.title) for i in catalog.intents] if catalog else []
    return console.render(
        "review.html",
        login,
        status_code=status_code,
        page="review",
        rows=rows,
        total=total,
        status=status,
        statuses=STATUS_VI,
        reasons=REASON_VI,
        intents=intents,
        current=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        done=done,
        messages=messages or [],
    )


@router.get(PREFIX + "/review")
def review_list(
    console: ConsoleDep,
    store: Store,
    login: PageLogin,
    status: str = Query("open", max_length=20),
    page: int = Query(1, ge=1, le=100_000),
    done: str = Query("", max_length=20),
) -> Response:
    if status not in ("", *STATUS_VI):
        raise HTTPException(422, "Trạng thái không hợp lệ.")
    return _page(console, store, login, status, page, done=done)


@router.api_route(PREFIX + "/review/{item_id}/audio", methods=["GET", "HEAD"])
def review_audio(item_id: int, request: Request, store: Store, actor: ApiActor) -> Response:
    path = store.audio_path(item_id)
    if path is None:
        raise HTTPException(404, "Câu này không có ghi âm (hoặc ghi âm đã hết hạn lưu trữ).")
    resolved = path.resolve()
    if not resolved.is_relative_to(store.audio_dir) or not resolved.is_file():
        # Only files under the queue's audio directory are ever served, whatever the database says.
        logger.warning("review item %d: audio missing or outside the review audio directory", item_id)
        raise HTTPException(404, "Tệp ghi âm không còn trên máy chủ.")
    # Every request is audited whatever its Range (see the ticket recordings).
    actor.record(
        AuditAction.LISTEN_REVIEW_AUDIO,
        f"review:{item_id}",
        f"{request.method} {request.headers.get('range', '')[:100]}".strip(),
    )
    return FileResponse(
        Path(resolved), media_type="audio/wav", headers={"Cache-Control": "private, no-store"}
    )


@router.post(PREFIX + "/review")
async def review_act(
    request: Request, console: ConsoleDep, store: Store, login: CsrfLogin, actor: PageActor
) -> Response:
    """The page's one form: `one` = "<what>:<id>" (a row's button), `bulk` = "<what>" (the checked rows)."""
    form = await request.form()  # already parsed for the CSRF check (CsrfLogin): the rows' own fields
    status = str(form.get("status", "open"))[:20]
    one, bulk = str(form.get("one", "")), str(form.get("bulk", ""))
    if one:
        what, _, raw_id = one.partition(":")
        ids = [int(raw_id)] if raw_id.isdigit() else []
    else:
        what = bulk
        ids = [int(str(v)) for v in form.getlist("ids")[:MAX_BULK] if str(v).isdigit()]
    fields = {k: str(v) for k, v in form.items() if k.startswith("intent-")}
    # The catalog check, the files and the database block: off the event loop.
    return await run_in_threadpool(_act, console, store, login, actor, status, what, ids, fields)


def _act(
    console: Console,
    store: ReviewStore,
    login: Login,
    actor: Actor,
    status: str,
    what: str,
    ids: list[int],
    fields: dict[str, str],
) -> Response:
    if not ids:
        return _page(console, store, login, status, 1, messages=["Chưa chọn câu nào."], status_code=422)
    if what == "teach":
        chosen = {i: fields.get(f"intent-{i}", "") for i in ids}
        messages = _teach(console, store, login, actor, chosen)
        if messages:
            return _page(console, store, login, status, 1, messages=messages, status_code=422)
        return RedirectResponse(f"{PREFIX}/review?status={status}&done=taught", status_code=303)
    closing = CLOSING.get(what)
    if closing is None:
        raise HTTPException(422, "Thao tác không hợp lệ.")
    n = store.resolve(ids, closing, login.operator.username)
    actor.record(REVIEW_CLOSED[closing], "review:" + ",".join(map(str, ids)), f"{n} closed")
    return RedirectResponse(f"{PREFIX}/review?status={status}&done={closing.value}", status_code=303)


def _teach(
    console: Console, store: ReviewStore, login: Login, actor: Actor, chosen: dict[int, str]
) -> list[str]:
    """Teach each item to its chosen intent; the Vietnamese reasons of those refused."""
    catalog = console.catalog.state().catalog
    messages: list[str] = []
    for item_id, intent in chosen.items():
        item = store.get(item_id)
        if item is None or item.status != ReviewStatus.OPEN:
            continue  # closed meanwhile (another operator): nothing to do
        if not item.transcript:
            messages.append(
                "Câu này không có chữ nào để dạy; hãy nghe ghi âm rồi đánh dấu nhận dạng sai hoặc bỏ qua."
            )
            continue
        if catalog is None or intent not in catalog:
            messages.append(f"Chưa chọn chủ đề cho câu “{item.transcript}”.")
            continue
        try:
            console.intent_editor.add_example(intent, item.transcript, actor)
        except IntentEditError as exc:
            title = catalog.get(intent).title
            found = list(exc.messages) + [
                problem_vi(p, catalog, intent, (item.transcript,)) for p in exc.problems
            ]
            messages.append(
                f"Không dạy được câu “{item.transcript}” cho chủ đề “{title}”: " + " ".join(found)
            )
            continue
        except OSError as exc:
            logger.error("review item %d could not be taught: %s", item_id, exc)
            messages.append(f"Không ghi được danh mục chủ đề ({exc.strerror or exc}). Không có gì thay đổi.")
            continue
        store.resolve([item_id], ReviewStatus.TAUGHT, login.operator.username, intent=intent)
        actor.record(AuditAction.REVIEW_TAUGHT, f"review:{item_id}", f"intent:{intent}")
    return messages
