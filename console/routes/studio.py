"""The recording studio: the script sheet (everything to record, grouped, with status), recording a take in
the browser or uploading one, the checks, listening in context, and saving it once the operator accepts.

Every page and file here needs a login with a role that may change what callers hear (STUDIO_ROLES);
writes need the form's CSRF token too. Decoding and processing a take run in worker threads, at most
TAKE_WORKERS at once, never on the event loop.
"""

from __future__ import annotations

import logging
from typing import Annotated, cast

import anyio
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile  # what request.form() yields

from console.audit_actions import AuditAction
from console.context import PREFIX, Console
from console.data.audit import Actor
from console.data.prompts import load_prompts
from console.data.sessions import Login
from console.deps import (
    ApiLogin,
    ConsoleDep,
    CsrfLogin,
    PageActor,
    PageLogin,
    check_csrf,
    refuse_oversized_body,
)
from console.edit import studio
from console.edit.recordings import MAX_UPLOAD_BYTES, PromptUploadError, spool_upload
from console.edit.takes import MAX_TAKE_SECONDS, TakeError, decode, process
from console.studio_vi import SOURCE_VI, STATUS_VI, group_vi, item_label
from console.template_blanks import template_vi
from core.errors import ConfigError
from ivr.flow.config import Texts
from ivr.recordables import Recordable, recordables
from ivr.template_units import template_units
from ivr.topic_units import topic_units
from ivr.word_bank import studio_units
from voice.audio import wav_bytes

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

STUDIO_ROLES = frozenset({"admin", "operator"})  # may change what every caller hears
TAKE_WORKERS = 2  # takes decoded and processed at once (ffmpeg, numpy), per web app
NOT_ALLOWED = "Tài khoản này không được ghi âm lời nhắc."
# The web app's page policy allows no script; the studio's pages state their own, which adds exactly our
# own script file (printing, the microphone). No inline script, nothing from elsewhere.
STUDIO_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _with_script(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = STUDIO_POLICY
    return response


async def take_workers(request: Request) -> anyio.CapacityLimiter:
    """The app's limiter of studio work, made in its event loop on first use."""
    state = request.app.state
    if getattr(state, "studio_workers", None) is None:
        state.studio_workers = anyio.CapacityLimiter(TAKE_WORKERS)
    return cast(anyio.CapacityLimiter, state.studio_workers)


Workers = Annotated[anyio.CapacityLimiter, Depends(take_workers)]


async def studio_login(login: PageLogin) -> Login:
    if login.operator.role not in STUDIO_ROLES:
        raise HTTPException(403, NOT_ALLOWED)
    return login


async def studio_api_login(login: ApiLogin) -> Login:
    if login.operator.role not in STUDIO_ROLES:
        raise HTTPException(403, NOT_ALLOWED)
    return login


async def studio_csrf_login(login: CsrfLogin) -> Login:
    if login.operator.role not in STUDIO_ROLES:
        raise HTTPException(403, NOT_ALLOWED)
    return login


StudioLogin = Annotated[Login, Depends(studio_login)]
StudioApiLogin = Annotated[Login, Depends(studio_api_login)]
StudioCsrfLogin = Annotated[Login, Depends(studio_csrf_login)]


def _items(console: Console) -> dict[str, Recordable]:
    try:
        texts, templates = load_prompts(console.settings)
    except ConfigError:
        texts, templates = {}, {}
    try:
        names = [name for _code, name in console.communes()]
        bank = studio_units(console.settings, names)
    except ConfigError:  # a broken word bank file: the fixed prompts can still be recorded
        bank = []
    topics = topic_units(console.catalog.state().catalog)  # a broken catalog lists none of its sentences
    # Fragments already said by a prompt or a bank unit are recorded there (the hotline skips them alike).
    fragments = template_units(Texts.from_mapping(templates), [*texts.values(), *(u.text for u in bank)])
    return {r.key: r for r in recordables(texts, bank, topics, fragments, template_vi)}


def _item(console: Console, key: str) -> Recordable:
    item = _items(console).get(key)
    if item is None:
        raise HTTPException(404, "Không có lời nhắc này.")
    return item


@router.get(PREFIX + "/studio")
def sheet(console: ConsoleDep, login: StudioLogin, saved: str = "") -> Response:
    """The script sheet: what to read, grouped, with where callers hear it and whether it is recorded."""
    groups: list[tuple[str, list[dict[str, object]]]] = []
    counts = dict.fromkeys(STATUS_VI, 0)
    items = _items(console)
    for item in items.values():
        st = studio.status(console.settings, item)
        counts[st] += 1
        row = {"item": item, "status": st, "status_vi": STATUS_VI[st]}
        if groups and groups[-1][0] == group_vi(item.group):
            groups[-1][1].append(row)
        else:
            groups.append((group_vi(item.group), [row]))
    page = console.render(
        "studio.html",
        login,
        page="studio",
        groups=groups,
        counts=counts,
        saved=item_label(items[saved]) if saved in items else "",
        item_label=item_label,
    )
    return _with_script(page)


def _record_page(
    console: Console,
    login: Login,
    item: Recordable,
    *,
    take: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    draft = None
    if take:
        try:
            draft = studio.load_draft(console.settings, item.key, take)
        except studio.StudioError as exc:
            error, status_code = str(exc), 404
    page = console.render(
        "studio_record.html",
        login,
        status_code=status_code,
        page="studio",
        item=item,
        label=item_label(item),
        group=group_vi(item.group),
        status=studio.status(console.settings, item),
        status_vi=STATUS_VI,
        draft=draft,
        source_vi=SOURCE_VI,
        error=error,
        max_seconds=int(MAX_TAKE_SECONDS),
        max_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
    )
    return _with_script(page)


@router.get(PREFIX + "/studio/{key}")
def record_page(key: str, console: ConsoleDep, login: StudioLogin, take: str = "") -> Response:
    return _record_page(console, login, _item(console, key), take=take[:32])


def _new_take(console: Console, login: Login, item: Recordable, upload: UploadFile, source: str) -> Response:
    """Blocking part: spool, decode, check and process, keep as a draft."""
    tmp = None
    try:
        tmp = spool_upload(console.settings, upload.file)
        take = process(decode(tmp), item.text, console.settings.ivr.studio)
    except (PromptUploadError, TakeError) as exc:
        return _record_page(console, login, item, error=str(exc), status_code=422)
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    draft = studio.save_draft(console.settings, item, take, source, login.operator.username)
    return RedirectResponse(f"{PREFIX}/studio/{item.key}?take={draft.id}#take", status_code=303)


@router.post(PREFIX + "/studio/{key}/take")
async def new_take(
    key: str, request: Request, console: ConsoleDep, login: StudioLogin, workers: Workers
) -> Response:
    """A take recorded in the browser or uploaded: checked and kept as a draft, not yet heard by callers."""
    refuse_oversized_body(request, MAX_UPLOAD_BYTES)
    async with request.form(max_files=1, max_fields=4) as form:
        csrf = form.get("csrf")
        check_csrf(login, csrf if isinstance(csrf, str) else None)
        item = await run_in_threadpool(_item, console, key)
        source = "browser" if form.get("source") == "browser" else "upload"
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return await run_in_threadpool(
                _record_page, console, login, item, error="Chưa chọn tệp âm thanh.", status_code=422
            )
        return await anyio.to_thread.run_sync(
            _new_take, console, login, item, upload, source, limiter=workers
        )


def _wav(data: bytes) -> Response:
    return Response(data, media_type="audio/wav", headers={"Cache-Control": "no-store"})


def _take_audio(console: Console, key: str, take: str, context: bool) -> Response:
    item = _item(console, key)
    try:
        path = studio.draft_audio_path(console.settings, key, take)
        chunk = studio.read_take(path)
    except studio.StudioError as exc:
        raise HTTPException(404, str(exc)) from None
    if context:
        chunk = studio.in_context(console.settings, item, chunk)
    return _wav(wav_bytes(chunk))


@router.get(PREFIX + "/studio/{key}/take/{take}/audio")
async def take_audio(
    key: str, take: str, console: ConsoleDep, login: StudioApiLogin, workers: Workers, context: int = 0
) -> Response:
    """A draft as processed, or inside its prompt as a caller hears it (8 kHz, µ-law)."""
    return await anyio.to_thread.run_sync(_take_audio, console, key, take, bool(context), limiter=workers)


def _current_in_context(console: Console, key: str) -> Response:
    item = _item(console, key)
    path = studio.recording_path(console.settings, key)
    try:
        chunk = studio.read_take(path)
    except studio.StudioError:
        raise HTTPException(404, "Chưa có bản ghi cho lời nhắc này.") from None
    return _wav(wav_bytes(studio.in_context(console.settings, item, chunk)))


@router.get(PREFIX + "/studio/{key}/context")
async def current_in_context(
    key: str, console: ConsoleDep, login: StudioApiLogin, workers: Workers
) -> Response:
    """The recording callers hear now, inside its prompt, as a caller hears it."""
    return await anyio.to_thread.run_sync(_current_in_context, console, key, limiter=workers)


def _accept(console: Console, login: Login, actor: Actor, key: str, take: str) -> Response:
    item = _item(console, key)
    try:
        _path, previous, draft = studio.accept(console.settings, item, take, login.operator.username)
    except studio.StudioError as exc:
        return _record_page(console, login, item, error=str(exc), status_code=409)
    detail = f"{draft.seconds:.1f} s recorded in the studio ({draft.source})"
    warned = [check for check, _message, _blocking in draft.verdicts]
    if warned:
        detail += f"; kept despite {','.join(warned)}"
    if previous is not None:
        detail += f"; previous kept as {previous.name}"
    actor.record(AuditAction.RECORD_PROMPT, f"prompt:{key}", detail[:200])
    return RedirectResponse(f"{PREFIX}/studio?saved={key}#r-{key}", status_code=303)


@router.post(PREFIX + "/studio/{key}/take/{take}/accept")
def accept(key: str, take: str, console: ConsoleDep, login: StudioCsrfLogin, actor: PageActor) -> Response:
    """The operator keeps the take: callers hear it from the next play of the prompt."""
    return _accept(console, login, actor, key, take)


@router.post(PREFIX + "/studio/{key}/take/{take}/discard")
def discard(key: str, take: str, console: ConsoleDep, login: StudioCsrfLogin) -> Response:
    _item(console, key)
    try:
        studio.discard(console.settings, key, take)
    except studio.StudioError:
        pass  # gone already: nothing to discard
    return RedirectResponse(f"{PREFIX}/studio/{key}", status_code=303)
