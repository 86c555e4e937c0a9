"""Prompts: each key's text and whether a human recording exists; listening, editing the text, uploading a
new recording."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile  # what request.form() yields

from console import audit
from console.auth import Login
from console.history import MAX_VERSIONS, digest, list_versions, with_authors
from console.prompt_edit import (
    HISTORY_PREFIX,
    MAX_PROMPT_CHARS,
    MAX_PROMPT_SPEECH_SECONDS,
    PromptEditError,
    PromptTextEditor,
    editable,
    speaking_seconds,
    text_version,
)
from console.prompt_files import (
    MAX_PROMPT_SECONDS,
    MAX_UPLOAD_BYTES,
    PromptUploadError,
    install_recording,
    load_prompts,
    prompt_infos,
    prompts_dir,
    rendered_path,
    spool_upload,
)
from console.web import PREFIX, Console
from core.errors import ConfigError

logger = logging.getLogger(__name__)

HISTORY_ACTIONS = ("edit_prompt", "restore_prompt")  # audit entries that keep a prompts file version


def router(console: Console) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    page_login = Depends(console.page_login)
    api_login = Depends(console.api_login)
    settings = console.settings

    editor = PromptTextEditor(settings)

    def _page(
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
        versions = with_authors(
            console.sessions,
            list_versions(editor.history_dir, editor.path, HISTORY_PREFIX),
            editor.path.name,
            HISTORY_ACTIONS,
        )
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
            file_name=editor.path.name,
            history=[(v, "") for v in versions],
            max_versions=MAX_VERSIONS,
            history_action=f"{PREFIX}/prompts/restore",
            current_digest=current,
            restored=restored,
            restore_messages=restore_messages or [],
            restore_problems=[restore_detail] if restore_detail else [],
        )

    def _known_key(key: str) -> str:
        try:
            prompts, _ = load_prompts(settings)
        except ConfigError:
            prompts = {}
        if key not in prompts:
            raise HTTPException(404, f"Không có lời nhắc “{key}”.")
        return key

    @r.get(PREFIX + "/prompts")
    def prompts(login: Login = page_login, saved: str = "", edited: str = "", restored: str = "") -> Response:
        return _page(login, saved=saved[:40], edited=edited[:40], restored=restored[:4])

    @r.post(PREFIX + "/prompts/restore")
    def restore(
        request: Request,
        login: Login = page_login,
        csrf: str = Form(""),
        name: str = Form("", max_length=200),
        current: str = Form("", max_length=64),
    ) -> Response:
        """Put a kept version of the prompts file back ("Khôi phục bản này"), loaded like an edit."""
        console.check_csrf(login, csrf)
        try:
            result = editor.restore(name, current)
        except PromptEditError as exc:
            status = {"console.prompt_edit.conflict": 409, "console.prompt_edit.no_version": 404}
            return _page(
                login,
                restore_messages=exc.messages,
                restore_detail=exc.detail,
                status_code=status.get(exc.code, 422),
            )
        except OSError as exc:
            logger.error("prompts file could not be restored: %s", exc)
            return _page(
                login,
                restore_messages=[
                    f"Không ghi được tệp {editor.path.name} ({exc.strerror or exc}). Không có gì thay đổi."
                ],
                status_code=500,
            )
        if result.history is None:
            return RedirectResponse(f"{PREFIX}/prompts?restored=0#history", status_code=303)
        audit.record(
            console.sessions,
            login.operator,
            "restore_prompt",
            "prompts",
            f"{result.path.name}: {result.restored.name} (replaced file kept as {result.history.name})",
            console.client_ip(request),
        )
        return RedirectResponse(f"{PREFIX}/prompts?restored=1#history", status_code=303)

    @r.post(PREFIX + "/prompts/{key}/text")
    def edit_text(
        key: str,
        request: Request,
        login: Login = page_login,
        csrf: str = Form(""),
        version: str = Form("", max_length=64),
        text: str = Form("", max_length=MAX_PROMPT_CHARS * 4),
    ) -> Response:
        console.check_csrf(login, csrf)
        _known_key(key)
        try:
            result = editor.save(key, text, version)
        except PromptEditError as exc:
            status = 409 if exc.code == "console.prompt_edit.conflict" else 422
            return _page(
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
                login,
                error_key=key,
                typed={key: (text, version)},
                messages=[
                    f"Không ghi được tệp {editor.path.name} ({exc.strerror or exc}). Không có gì thay đổi."
                ],
                status_code=500,
            )
        if not result.changed:
            return RedirectResponse(f"{PREFIX}/prompts#p-{key}", status_code=303)
        audit.record(
            console.sessions,
            login.operator,
            "edit_prompt",
            f"prompt:{key}",
            f"{result.path.name}: “{result.old_text}” → “{result.new_text}”",
            console.client_ip(request),
        )
        return RedirectResponse(f"{PREFIX}/prompts?edited={key}#p-{key}", status_code=303)

    @r.api_route(PREFIX + "/prompts/{key}/audio", methods=["GET", "HEAD"])
    def prompt_audio(key: str, source: str = "human", login: Login = api_login) -> Response:
        _known_key(key)
        path: Path = (
            prompts_dir(settings) / f"{key}.wav" if source == "human" else rendered_path(settings, key)
        )
        if not path.is_file():
            raise HTTPException(404, "Chưa có bản ghi cho lời nhắc này.")
        return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "no-cache"})

    def _install(login: Login, key: str, upload: UploadFile, ip: str) -> Response:
        """Blocking part of an upload (copy, decode, convert, rename), run in a worker thread."""
        tmp = None
        try:
            tmp = spool_upload(settings, upload.file)
            _path, seconds = install_recording(settings, key, tmp)
        except PromptUploadError as exc:
            return _page(login, error=str(exc), error_key=key, status_code=422)
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        detail = f"{seconds:.1f} s from {upload.filename or '?'}"[:200]
        audit.record(console.sessions, login.operator, "upload_prompt", f"prompt:{key}", detail, ip)
        return RedirectResponse(f"{PREFIX}/prompts?saved={key}#p-{key}", status_code=303)

    @r.post(PREFIX + "/prompts/{key}/upload")
    async def upload(key: str, request: Request, login: Login = page_login) -> Response:
        # The form is parsed here rather than by FastAPI so that an oversized body is refused before
        # it is read, and only after the login was checked.
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_UPLOAD_BYTES + 64 * 1024:
            raise HTTPException(413, f"Tệp quá lớn (tối đa {MAX_UPLOAD_BYTES // (1024 * 1024)} MB).")
        async with request.form(max_files=1, max_fields=4) as form:
            csrf = form.get("csrf")
            console.check_csrf(login, csrf if isinstance(csrf, str) else None)
            await run_in_threadpool(_known_key, key)
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                return await run_in_threadpool(
                    _page, login, error="Chưa chọn tệp âm thanh.", error_key=key, status_code=422
                )
            return await run_in_threadpool(_install, login, key, upload, console.client_ip(request))

    return r
