"""Prompts: each key's text and whether a human recording exists; listening, editing the text, uploading a
new recording."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile  # what request.form() yields

from console.audit_actions import AuditAction
from console.context import PREFIX, Console
from console.data.audit import Actor
from console.data.prompts import load_prompts, prompt_infos, prompts_dir, rendered_path
from console.data.sessions import Login
from console.deps import (
    ApiLogin,
    ConsoleDep,
    CsrfLogin,
    PageActor,
    PageLogin,
    PromptEditorDep,
    check_csrf,
    refuse_oversized_body,
)
from console.edit.history import MAX_VERSIONS, digest
from console.edit.prompts import (
    MAX_PROMPT_CHARS,
    MAX_PROMPT_SPEECH_SECONDS,
    PromptEditError,
    editable,
    speaking_seconds,
    text_version,
)
from console.edit.recordings import (
    MAX_PROMPT_SECONDS,
    MAX_UPLOAD_BYTES,
    PromptUploadError,
    install_recording,
    spool_upload,
)
from core.errors import ConfigError

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


def _page(
    console: Console,
    login: Login,
    *,
    saved: str = "",
    edited: str = "",
    error: str = "",
    error_key: str = "",
    typed: dict[str, tuple[str, str]] | None = None,
    messages: list[str] | None = None,
    detail: str = "",
    restored: str = "",
    restore_messages: list[str] | None = None,
    restore_detail: str = "",
    status_code: int = 200,
) -> Response:
    """The page; `typed`: key -> (text as typed, version of the page it came from) of a refused edit."""
    settings, editor = console.settings, console.prompt_editor
    try:
        infos, problem = prompt_infos(settings), ""
        templates = load_prompts(settings)[1]
    except ConfigError as exc:
        infos, templates, problem = [], {}, str(exc)
    forms = {}
    for p in infos:
        text, version = (typed or {}).get(p.key, (p.text, text_version(p.text)))
        forms[p.key] = {
            "text": text,
            "version": version,
            "editable": editable(p.key),
            "seconds": speaking_seconds(settings, p.text) if p.text else 0.0,
        }
    try:
        current = digest(editor.path.read_bytes())
    except OSError:
        current = ""
    versions = editor.edits.versions(console.sessions, editor.path)
    return console.render(
        "prompts.html",
        login,
        status_code=status_code,
        page="prompts",
        infos=infos,
        forms=forms,
        templates=templates,
        problem=problem,
        saved=saved,
        edited=edited,
        error=error,
        error_key=error_key,
        messages=messages or [],
        detail=detail,
        max_seconds=int(MAX_PROMPT_SECONDS),
        max_speech_seconds=int(MAX_PROMPT_SPEECH_SECONDS),
        max_chars=MAX_PROMPT_CHARS,
        max_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
        history=[(v, "") for v in versions],
        max_versions=MAX_VERSIONS,
        history_action=f"{PREFIX}/prompts/restore",
        current_digest=current,
        restored=restored,
        restore_messages=restore_messages or [],
        restore_problems=[restore_detail] if restore_detail else [],
    )


def _known_key(console: Console, key: str) -> str:
    try:
        prompts, _ = load_prompts(console.settings)
    except ConfigError:
        prompts = {}
    if key not in prompts:
        raise HTTPException(404, f"Không có lời nhắc “{key}”.")
    return key


def _not_written(console: Console, exc: OSError) -> list[str]:
    return [f"Không ghi được nội dung lời nhắc ({exc.strerror or exc}). Không có gì thay đổi."]


@router.get(PREFIX + "/prompts")
def prompts(
    console: ConsoleDep, login: PageLogin, saved: str = "", edited: str = "", restored: str = ""
) -> Response:
    return _page(console, login, saved=saved[:40], edited=edited[:40], restored=restored[:4])


@router.post(PREFIX + "/prompts/restore")
def restore(
    console: ConsoleDep,
    editor: PromptEditorDep,
    login: CsrfLogin,
    actor: PageActor,
    name: str = Form("", max_length=200),
    current: str = Form("", max_length=64),
) -> Response:
    """Put a kept version of the prompts file back ("Khôi phục bản này"), loaded like an edit."""
    try:
        result = editor.restore(name, current, actor)
    except PromptEditError as exc:
        status = {"console.prompt_edit.conflict": 409, "console.prompt_edit.no_version": 404}
        return _page(
            console,
            login,
            restore_messages=exc.messages,
            restore_detail=exc.detail,
            status_code=status.get(exc.code, 422),
        )
    except OSError as exc:
        logger.error("prompts file could not be restored: %s", exc)
        return _page(console, login, restore_messages=_not_written(console, exc), status_code=500)
    if result.history is None:
        return RedirectResponse(f"{PREFIX}/prompts?restored=0#history", status_code=303)
    return RedirectResponse(f"{PREFIX}/prompts?restored=1#history", status_code=303)


@router.post(PREFIX + "/prompts/{key}/text")
def edit_text(
    key: str,
    console: ConsoleDep,
    editor: PromptEditorDep,
    login: CsrfLogin,
    actor: PageActor,
    version: str = Form("", max_length=64),
    text: str = Form("", max_length=MAX_PROMPT_CHARS * 4),
) -> Response:
    _known_key(console, key)
    try:
        result = editor.save(key, text, version, actor)
    except PromptEditError as exc:
        status = 409 if exc.code == "console.prompt_edit.conflict" else 422
        return _page(
            console,
            login,
            error_key=key,
            typed={key: (text, version)},
            messages=exc.messages,
            detail=exc.detail,
            status_code=status,
        )
    except OSError as exc:
        logger.error("prompt %s text could not be saved: %s", key, exc)
        return _page(
            console,
            login,
            error_key=key,
            typed={key: (text, version)},
            messages=_not_written(console, exc),
            status_code=500,
        )
    if not result.changed:
        return RedirectResponse(f"{PREFIX}/prompts#p-{key}", status_code=303)
    return RedirectResponse(f"{PREFIX}/prompts?edited={key}#p-{key}", status_code=303)


@router.api_route(PREFIX + "/prompts/{key}/audio", methods=["GET", "HEAD"])
def prompt_audio(key: str, console: ConsoleDep, login: ApiLogin, source: str = "human") -> Response:
    _known_key(console, key)
    settings = console.settings
    path: Path = prompts_dir(settings) / f"{key}.wav" if source == "human" else rendered_path(settings, key)
    if not path.is_file():
        raise HTTPException(404, "Chưa có bản ghi cho lời nhắc này.")
    return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "no-cache"})


def _install(console: Console, login: Login, actor: Actor, key: str, upload: UploadFile) -> Response:
    """Blocking part of an upload (copy, decode, convert, rename), run in a worker thread."""
    tmp = None
    try:
        tmp = spool_upload(console.settings, upload.file)
        _path, seconds = install_recording(console.settings, key, tmp)
    except PromptUploadError as exc:
        return _page(console, login, error=str(exc), error_key=key, status_code=422)
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    detail = f"{seconds:.1f} s from {upload.filename or '?'}"[:200]
    actor.record(AuditAction.UPLOAD_PROMPT, f"prompt:{key}", detail)
    return RedirectResponse(f"{PREFIX}/prompts?saved={key}#p-{key}", status_code=303)


@router.post(PREFIX + "/prompts/{key}/upload")
async def upload(
    key: str, request: Request, console: ConsoleDep, login: PageLogin, actor: PageActor
) -> Response:
    # The form is parsed here rather than by FastAPI so that an oversized body is refused before
    # it is read, and only after the login was checked.
    refuse_oversized_body(request, MAX_UPLOAD_BYTES)
    async with request.form(max_files=1, max_fields=4) as form:
        csrf = form.get("csrf")
        check_csrf(login, csrf if isinstance(csrf, str) else None)
        await run_in_threadpool(_known_key, console, key)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return await run_in_threadpool(
                _page, console, login, error="Chưa chọn tệp âm thanh.", error_key=key, status_code=422
            )
        return await run_in_threadpool(_install, console, login, actor, key, upload)
