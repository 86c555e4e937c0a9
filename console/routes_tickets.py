"""Tickets: list, detail with the caller's recording, reply note and status (what callers hear back)."""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from console import audit, queries
from console.auth import Login
from console.web import PREFIX, Console
from ivr.models import TICKET_STATUSES

logger = logging.getLogger(__name__)

MAX_NOTE_CHARS = 1000  # the note is read to the caller over the phone: keep it short


def _first_byte_request(request: Request) -> bool:
    """A listen starts without Range or at byte 0; later Range requests of that play are not audited."""
    rng = request.headers.get("range", "").replace(" ", "").lower()
    return not rng or rng.startswith("bytes=0-")


def router(console: Console) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    page_login = Depends(console.page_login)
    api_login = Depends(console.api_login)
    settings = console.settings
    recordings = (settings.data_dir / settings.ivr.recordings_dir).resolve()

    def _ticket_or_404(number: str) -> queries.TicketRow:
        t = queries.ticket_detail(console.sessions, number)
        if t is None:
            raise HTTPException(404, f"Không có phiếu số {number}.")
        return t

    def _page(
        login: Login,
        number: str,
        *,
        raw_number: str | None = None,
        saved: bool = False,
        error: str = "",
        status_code: int = 200,
    ) -> Response:
        t = _ticket_or_404(number)
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

    @r.get(PREFIX + "/tickets")
    def tickets(
        login: Login = page_login,
        status: str = Query("open", max_length=16),
        page: int = Query(1, ge=1, le=100_000),
    ) -> Response:
        if status not in ("", "open", *TICKET_STATUSES):
            raise HTTPException(422, f"Trạng thái không hợp lệ: {status}.")
        rows, total = queries.list_tickets(console.sessions, status, page)
        return console.render(
            "tickets.html",
            login,
            page="tickets",
            rows=rows,
            total=total,
            status=status,
            statuses=TICKET_STATUSES,
            current=page,
            pages=max(1, -(-total // queries.PAGE_SIZE)),
        )

    @r.get(PREFIX + "/tickets/{number}")
    def ticket(number: str, login: Login = page_login, saved: int = 0) -> Response:
        return _page(login, number, saved=bool(saved))

    @r.api_route(PREFIX + "/tickets/{number}/audio", methods=["GET", "HEAD"])
    def audio(number: str, request: Request, login: Login = api_login) -> Response:
        private = queries.ticket_private(console.sessions, number)
        if private is None:
            raise HTTPException(404, f"Không có phiếu số {number}.")
        _caller, audio_path = private
        if not audio_path:
            raise HTTPException(404, "Phiếu này không có ghi âm (hoặc ghi âm đã hết hạn lưu trữ).")
        path = Path(audio_path).resolve()
        if not path.is_relative_to(recordings) or not path.is_file():
            # Only files under the recordings directory are ever served, whatever the database says.
            logger.warning("ticket %s: recording missing or outside %s", number, recordings)
            raise HTTPException(404, "Tệp ghi âm không còn trên máy chủ.")
        download = "tai-ve" in request.query_params
        if request.method == "GET" and (download or _first_byte_request(request)):
            audit.record(
                console.sessions,
                login.operator,
                "download_recording" if download else "listen_recording",
                f"ticket:{number}",
                request.headers.get("range", ""),
                console.client_ip(request),
            )
        return FileResponse(
            path,
            media_type="audio/wav",
            filename=f"phieu-{number}.wav" if download else None,
            content_disposition_type="attachment" if download else "inline",
            headers={"Cache-Control": "private, no-store"},
        )

    @r.post(PREFIX + "/tickets/{number}/reply")
    def reply(
        number: str,
        request: Request,
        login: Login = page_login,
        csrf: str = Form(""),
        note: str = Form("", max_length=20_000),
        status: str = Form(...),
    ) -> Response:
        console.check_csrf(login, csrf)
        from ivr.store import CallStore, StoreError

        note = unicodedata.normalize("NFC", note).strip()
        if status not in TICKET_STATUSES:
            return _page(login, number, error=f"Trạng thái không hợp lệ: {status}.", status_code=422)
        if len(note) > MAX_NOTE_CHARS:
            return _page(
                login, number, error=f"Nội dung trả lời dài quá {MAX_NOTE_CHARS} ký tự.", status_code=422
            )
        store = CallStore(console.sessions, recordings)
        try:
            store.reply_ticket(number, note, status)
        except StoreError:
            raise HTTPException(404, f"Không có phiếu số {number}.") from None
        audit.record(
            console.sessions,
            login.operator,
            "reply_ticket",
            f"ticket:{number}",
            f"status={status}" + (f"; note {len(note)} chars" if note else ""),
            console.client_ip(request),
        )
        return RedirectResponse(f"{PREFIX}/tickets/{number}?saved=1", status_code=303)

    @r.post(PREFIX + "/tickets/{number}/number")
    def show_number(
        number: str, request: Request, csrf: str = Form(""), login: Login = page_login
    ) -> Response:
        def caller() -> str | None:
            private = queries.ticket_private(console.sessions, number)
            return None if private is None else private[0]

        raw = console.reveal_number(
            request, login, csrf, f"ticket:{number}", caller, f"Không có phiếu số {number}."
        )
        return _page(login, number, raw_number=raw)

    return r
