"""Tickets: list, detail with the caller's recording, reply note and status (what callers hear back)."""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from console.context import PREFIX, Console
from console.data import tickets
from console.data.sessions import Login
from console.deps import ApiActor, ConsoleDep, CsrfLogin, Db, PageActor, PageLogin, reveal_number
from ivr.models import TICKET_STATUSES

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

MAX_NOTE_CHARS = 1000  # the note is read to the caller over the phone: keep it short


def _page(
    console: Console,
    login: Login,
    number: str,
    *,
    raw_number: str | None = None,
    saved: bool = False,
    error: str = "",
    status_code: int = 200,
) -> Response:
    t = tickets.ticket_detail(console.sessions, number)
    if t is None:
        raise HTTPException(404, f"Không có phiếu số {number}.")
    return console.render(
        "ticket.html",
        login,
        status_code=status_code,
        page="tickets",
        t=t,
        statuses=TICKET_STATUSES,
        raw_number=raw_number,
        saved=saved,
        error=error,
        max_note=MAX_NOTE_CHARS,
    )


@router.get(PREFIX + "/tickets")
def ticket_list(
    console: ConsoleDep,
    db: Db,
    login: PageLogin,
    status: str = Query("open", max_length=16),
    page: int = Query(1, ge=1, le=100_000),
) -> Response:
    if status not in ("", "open", *TICKET_STATUSES):
        raise HTTPException(422, f"Trạng thái không hợp lệ: {status}.")
    rows, total = tickets.list_tickets(db, status, page)
    return console.render(
        "tickets.html",
        login,
        page="tickets",
        rows=rows,
        total=total,
        status=status,
        statuses=TICKET_STATUSES,
        current=page,
        pages=max(1, -(-total // tickets.PAGE_SIZE)),
    )


@router.get(PREFIX + "/tickets/{number}")
def ticket(number: str, console: ConsoleDep, login: PageLogin, saved: int = 0) -> Response:
    return _page(console, login, number, saved=bool(saved))


@router.api_route(PREFIX + "/tickets/{number}/audio", methods=["GET", "HEAD"])
def audio(number: str, request: Request, console: ConsoleDep, db: Db, actor: ApiActor) -> Response:
    private = tickets.ticket_private(db, number)
    if private is None:
        raise HTTPException(404, f"Không có phiếu số {number}.")
    _caller, audio_path = private
    if not audio_path:
        raise HTTPException(404, "Phiếu này không có ghi âm (hoặc ghi âm đã hết hạn lưu trữ).")
    recordings = console.recordings_dir
    path = Path(audio_path).resolve()
    if not path.is_relative_to(recordings) or not path.is_file():
        # Only files under the recordings directory are ever served, whatever the database says.
        logger.warning("ticket %s: recording missing or outside %s", number, recordings)
        raise HTTPException(404, "Tệp ghi âm không còn trên máy chủ.")
    download = "tai-ve" in request.query_params
    # Every request is audited, whatever its Range or method: a player's later Range requests are rows too,
    # but a request that skips the audit would let `Range: bytes=1-` fetch the whole recording unrecorded.
    rng = request.headers.get("range", "")[:100]
    actor.record(
        "download_recording" if download else "listen_recording",
        f"ticket:{number}",
        f"{request.method} {rng}".strip(),
    )
    return FileResponse(
        path,
        media_type="audio/wav",
        filename=f"phieu-{number}.wav" if download else None,
        content_disposition_type="attachment" if download else "inline",
        headers={"Cache-Control": "private, no-store"},
    )


@router.post(PREFIX + "/tickets/{number}/reply")
def reply(
    number: str,
    console: ConsoleDep,
    db: Db,
    login: CsrfLogin,
    actor: PageActor,
    note: str = Form("", max_length=20_000),
    status: str = Form(...),
) -> Response:
    note = unicodedata.normalize("NFC", note).strip()
    if status not in TICKET_STATUSES:
        return _page(console, login, number, error=f"Trạng thái không hợp lệ: {status}.", status_code=422)
    if len(note) > MAX_NOTE_CHARS:
        return _page(
            console,
            login,
            number,
            error=f"Nội dung trả lời dài quá {MAX_NOTE_CHARS} ký tự.",
            status_code=422,
        )
    if not tickets.reply(db, console.recordings_dir, number, note, status):
        raise HTTPException(404, f"Không có phiếu số {number}.")
    actor.record(
        "reply_ticket", f"ticket:{number}", f"status={status}" + (f"; note {len(note)} chars" if note else "")
    )
    return RedirectResponse(f"{PREFIX}/tickets/{number}?saved=1", status_code=303)


@router.post(PREFIX + "/tickets/{number}/number")
def show_number(number: str, console: ConsoleDep, db: Db, login: CsrfLogin, actor: PageActor) -> Response:
    def caller() -> str | None:
        private = tickets.ticket_private(db, number)
        return None if private is None else private[0]

    raw = reveal_number(actor, f"ticket:{number}", caller, f"Không có phiếu số {number}.")
    return _page(console, login, number, raw_number=raw)
