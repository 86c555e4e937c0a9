"""Tickets: search and filters, a ticket with the caller's recording, its category, agency, assignee and
deadline, and its reply history (the newest reply is what callers hear back)."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from console.audit_actions import AuditAction
from console.context import PREFIX, Console
from console.data import tickets
from console.data.operators import list_operators
from console.data.sessions import Login
from console.data.times import today_local
from console.deps import ApiActor, ConsoleDep, CsrfLogin, Db, PageActor, PageLogin, reveal_number
from console.labels import STANDING_VI
from ivr.models import TICKET_STATUSES

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

MAX_NOTE_CHARS = 1000  # the note is read to the caller over the phone: keep it short


@dataclass(frozen=True)
class Choices:
    """What ticket pages offer to choose from: categories and agencies (ids and titles from `ivr.tickets`),
    active operator accounts, and the province's communes (codes and names)."""

    categories: list[tuple[str, str]]
    agencies: list[tuple[str, str]]
    assignees: list[str]
    communes: list[tuple[str, str]]

    @classmethod
    def of(cls, console: Console) -> Choices:
        cfg = console.settings.ivr.tickets
        return cls(
            [(c.id, c.title) for c in cfg.categories],
            [(a.id, a.title) for a in cfg.agencies],
            [o.username for o in list_operators(console.sessions) if o.active],
            console.communes(),
        )

    def offered(self, field: str, value: str) -> bool:
        """Whether `value` is one the page offered for `field` ("" = none, except for the category)."""
        keys = {
            "category": [k for k, _ in self.categories],
            "agency": ["", *(k for k, _ in self.agencies)],
            "assignee": ["", *self.assignees],
            "commune": ["", *(k for k, _ in self.communes)],
        }[field]
        return value in keys


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
        standing=t.standing(today_local(console.tz), console.tz),
        statuses=TICKET_STATUSES,
        raw_number=raw_number,
        saved=saved,
        error=error,
        max_note=MAX_NOTE_CHARS,
        choices=Choices.of(console),
        standing_vi=STANDING_VI,
    )


@router.get(PREFIX + "/tickets")
def ticket_list(
    console: ConsoleDep,
    db: Db,
    login: PageLogin,
    actor: PageActor,
    status: str = Query("open", max_length=16),
    page: int = Query(1, ge=1, le=100_000),
    q: str = Query("", max_length=100),
    overdue: int = Query(0, ge=0, le=1),
    category: str = Query("", max_length=32),
    commune: str = Query("", max_length=16),
    agency: str = Query("", max_length=32),
    assignee: str = Query("", max_length=64),
) -> Response:
    if status not in ("", "open", *TICKET_STATUSES):
        raise HTTPException(422, f"Trạng thái không hợp lệ: {status}.")
    query = tickets.TicketQuery(status, q.strip(), bool(overdue), category, commune, agency, assignee)
    today = today_local(console.tz)
    rows, total = tickets.list_tickets(db, query, page, today=today)
    if query.by_number:
        # Whose tickets these are is personal data: a search by a caller's number is audited.
        actor.record(AuditAction.SEARCH_NUMBER, "tickets", f"{total} found")
    # The page's own links keep the search and filters; only the status (tabs) or page changes.
    keep = {
        k: v
        for k, v in (
            ("q", query.q),
            ("overdue", "1" if query.overdue else ""),
            ("category", category),
            ("commune", commune),
            ("agency", agency),
            ("assignee", assignee),
        )
        if v
    }
    return console.render(
        "tickets.html",
        login,
        page="tickets",
        rows=rows,
        total=total,
        status=status,
        query=query,
        keep=keep,
        today=today,
        statuses=TICKET_STATUSES,
        current=page,
        pages=max(1, -(-total // tickets.PAGE_SIZE)),
        choices=Choices.of(console),
        standing_vi=STANDING_VI,
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
        AuditAction.DOWNLOAD_RECORDING if download else AuditAction.LISTEN_RECORDING,
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
    if not tickets.reply(db, console.recordings_dir, number, note, status, login.operator.username):
        raise HTTPException(404, f"Không có phiếu số {number}.")
    actor.record(
        AuditAction.REPLY_TICKET,
        f"ticket:{number}",
        f"status={status}" + (f"; note {len(note)} chars" if note else ""),
    )
    return RedirectResponse(f"{PREFIX}/tickets/{number}?saved=1", status_code=303)


@router.post(PREFIX + "/tickets/{number}/assign")
def assign(
    number: str,
    console: ConsoleDep,
    login: CsrfLogin,
    actor: PageActor,
    category: str = Form("", max_length=32),
    agency: str = Form("", max_length=32),
    assignee: str = Form("", max_length=64),
    commune: str = Form("", max_length=16),
) -> Response:
    """Category, agency, assignee and commune: only values the page offered are taken."""
    choices = Choices.of(console)
    fields = {"category": category, "agency": agency, "assignee": assignee, "commune": commune}
    if not all(choices.offered(name, value) for name, value in fields.items()):
        return _page(console, login, number, error="Lựa chọn không hợp lệ, xin chọn lại.", status_code=422)
    if not tickets.assign(console.tickets, number, **fields):
        raise HTTPException(404, f"Không có phiếu số {number}.")
    detail = "; ".join(f"{k}={v or '-'}" for k, v in fields.items())
    actor.record(AuditAction.ASSIGN_TICKET, f"ticket:{number}", detail)
    return RedirectResponse(f"{PREFIX}/tickets/{number}?saved=1", status_code=303)


@router.post(PREFIX + "/tickets/{number}/number")
def show_number(number: str, console: ConsoleDep, db: Db, login: CsrfLogin, actor: PageActor) -> Response:
    def caller() -> str | None:
        private = tickets.ticket_private(db, number)
        return None if private is None else private[0]

    raw = reveal_number(actor, f"ticket:{number}", caller, f"Không có phiếu số {number}.")
    return _page(console, login, number, raw_number=raw)
