"""`hotline calls list|show|purge`, `hotline tickets list|show|reply|close`: the call log for operators."""

from __future__ import annotations

import datetime as dt
import json
from datetime import tzinfo
from typing import Annotated

import typer

from core.clock import format_local
from hotline.commands import settings_of


def _factory(ctx: typer.Context):
    from core.db import engine_for, session_factory
    from hotline.db import upgrade

    settings = settings_of(ctx)
    upgrade(settings.database_url)
    return settings, session_factory(engine_for(settings))


def _fmt(dt, tz: tzinfo) -> str:
    """A stored (UTC) time in the configured zone (`locale.time_zone`), as the console shows it."""
    return format_local(dt, tz, "%Y-%m-%d %H:%M:%S", empty="-")


def _ticket_dict(t, tz: tzinfo) -> dict:
    return {
        "number": t.number,
        "status": t.status,
        "reason": t.reason,
        "commune": t.commune,
        "caller": t.caller_masked,
        "created_at": _fmt(t.created_at, tz),
        "updated_at": _fmt(t.updated_at, tz),
        "closed_at": _fmt(t.closed_at, tz),
        "duration_ms": t.duration_ms,
        "audio_path": t.audio_path,
        "transcript": t.transcript,
        "reply_note": t.latest_reply,  # what the caller hears by phone: the newest reply
        "call_id": t.call_id,
        "category": t.category,
        "agency": t.agency,
        "assignee": t.assignee,
        "due_date": t.due_date.strftime("%Y-%m-%d") if t.due_date else None,
        "handled_at": _fmt(t.handled_at, tz),
    }


def _ticket_lines(t, settings) -> list[tuple[str, str]]:
    """A ticket as operators read it (`tickets show`): Vietnamese labels, local time, no stored codes."""
    from broadcast.communes import load_communes
    from console.data.times import today_local
    from console.labels import CALLER_WITHHELD_VI, STANDING_VI, TICKET_REASON_VI, TICKET_STATUS_VI
    from console.monthly_report import Names
    from ivr.ticket_rules import standing

    tz = settings.locale.tz
    try:
        communes = {str(c.code): c.name for c in load_communes(settings.broadcast.province).communes}
    except Exception:  # names are a courtesy: the ticket still shows its commune's code
        communes = {}
    names = Names.of(settings.ivr.tickets, communes)
    when = standing(t.due_date, t.handled_at, today_local(tz), tz)
    due = f"{t.due_date:%d/%m/%Y} ({STANDING_VI[when]})" if t.due_date else STANDING_VI[when]
    return [
        ("Phiếu số", t.number),
        ("Loại", TICKET_REASON_VI.get(t.reason, "Khác")),
        ("Trạng thái", TICKET_STATUS_VI.get(t.status, "Khác")),
        ("Người gọi", t.caller_masked or CALLER_WITHHELD_VI),
        ("Nhận lúc", format_local(t.created_at, tz)),
        ("Phân loại", names.category(t.category)),
        ("Cơ quan", names.agency(t.agency)),
        ("Người xử lý", t.assignee or "chưa giao"),
        ("Xã, phường", names.commune(t.commune) or "–"),
        ("Hạn xử lý", due),
        ("Đã xử lý lúc", format_local(t.handled_at, tz)),
        ("Đóng lúc", format_local(t.closed_at, tz)),
        ("Ghi âm", f"có, {t.duration_ms / 1000:.0f} giây" if t.audio_path else "không có"),
        ("Nội dung", t.transcript or "–"),
        ("Trả lời mới nhất", t.latest_reply or "–"),
    ]


def _status_line(t) -> str:
    from console.labels import TICKET_STATUS_VI

    return f"Phiếu số {t.number}: {TICKET_STATUS_VI.get(t.status, 'Khác')}"


def register_calls(app: typer.Typer) -> None:
    calls_app = typer.Typer(
        help="The call log (who called, what was said and decided).", no_args_is_help=True
    )
    tickets_app = typer.Typer(help="Complaints and messages left by callers.", no_args_is_help=True)
    app.add_typer(calls_app, name="calls")
    app.add_typer(tickets_app, name="tickets")

    @calls_app.command("list")
    def calls_list(
        ctx: typer.Context,
        limit: Annotated[int, typer.Option(help="Newest N calls.")] = 20,
        as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    ) -> None:
        """Newest calls first."""
        from sqlalchemy import func, select

        from ivr.models import Call, Turn

        settings, factory = _factory(ctx)
        tz = settings.locale.tz
        with factory() as s:
            rows = s.execute(
                select(Call, func.count(Turn.id))
                .outerjoin(Turn)
                .group_by(Call.id)
                .order_by(Call.started_at.desc(), Call.id.desc())
                .limit(limit)
            ).all()
        out = [
            {
                "id": c.id,
                "caller": c.caller_masked,
                "started_at": _fmt(c.started_at, tz),
                "ended_at": _fmt(c.ended_at, tz),
                "outcome": c.outcome,
                "satisfaction": c.satisfaction,
                "turns": n,
                "degraded": c.degraded,
            }
            for c, n in rows
        ]
        if as_json:
            typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
            return
        from console.labels import CALLER_WITHHELD_VI, OUTCOME_VI

        if not out:
            typer.echo("Chưa có cuộc gọi nào.")
        for c, (call, _n) in zip(out, rows, strict=True):
            outcome = OUTCOME_VI.get(c["outcome"] or "", c["outcome"] or "-")
            typer.echo(
                f"{c['id']:>6}  {format_local(call.started_at, tz, '%d/%m/%Y %H:%M:%S', empty='-')}  "
                f"{c['caller'] or CALLER_WITHHELD_VI:>14}  {outcome}  {c['turns']} lượt  "
                f"hài lòng: {c['satisfaction'] or '-'}"
            )

    @calls_app.command("show")
    def calls_show(
        ctx: typer.Context,
        call_id: Annotated[int, typer.Argument(help="Call id (see `calls list`).")],
        as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    ) -> None:
        """One call with every turn."""
        from core.errors import HotlineError
        from ivr.store import call_report

        settings, factory = _factory(ctx)
        data = call_report(factory, call_id=call_id, tz=settings.locale.tz)
        if data is None:
            raise HotlineError(f"Không có cuộc gọi số {call_id}.")
        if as_json:
            typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
            return
        from console.labels import CALLER_WITHHELD_VI, INTENT_ACTION_VI, KIND_VI, OUTCOME_VI, TURN_ACTION_VI

        def local(iso: str | None) -> str:  # the report's ISO time with offset, read the Vietnamese way
            return dt.datetime.fromisoformat(iso).strftime("%d/%m/%Y %H:%M:%S") if iso else "-"

        outcome = OUTCOME_VI.get(data["outcome"] or "", data["outcome"] or "-")
        typer.echo(
            f"Cuộc gọi số {data['id']} từ {data['caller'] or CALLER_WITHHELD_VI}, "
            f"{local(data['started_at'])} → {local(data['ended_at'])}. Kết quả: {outcome}. "
            f"Hài lòng: {data['satisfaction'] or '-'}"
        )
        actions = {**INTENT_ACTION_VI, **TURN_ACTION_VI}
        for t in data["turns"]:
            bits = [f"{t['seq']:>3} {KIND_VI.get(t['kind'], t['kind'])}"]
            if t["transcript"]:
                bits.append(f"“{t['transcript']}” (độ tin cậy {t['confidence']})")
            if t["dtmf"]:
                bits.append(f"phím {t['dtmf']}")
            if t["intent"]:
                bits.append(f"→ chủ đề {t['intent']} (điểm {t['score']})")
            if t["action"]:
                bits.append(f"[{actions.get(t['action'], t['action'])}]")
            if t["response_ms"] is not None:
                bits.append(f"trả lời sau {t['response_ms']} ms")
            typer.echo("  ".join(bits))

    @calls_app.command("purge")
    def calls_purge(ctx: typer.Context) -> None:
        """Delete recordings, transcripts and audit entries older than the privacy retention periods."""
        from hotline.service import purge_expired

        settings, _ = _factory(ctx)  # migrated first
        counts = purge_expired(settings)
        typer.echo("purged: " + ", ".join(f"{k}={v}" for k, v in counts.items()))

    @tickets_app.command("list")
    def tickets_list(
        ctx: typer.Context,
        status: Annotated[
            str | None, typer.Option(help="Only this status: new|in_progress|answered|closed.")
        ] = None,
        limit: Annotated[int, typer.Option(help="Newest N tickets.")] = 50,
        as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    ) -> None:
        """Newest tickets first."""
        from sqlalchemy import select

        from ivr.models import Ticket

        settings, factory = _factory(ctx)
        q = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
        if status:
            q = q.where(Ticket.status == status)
        from console.labels import CALLER_WITHHELD_VI, TICKET_REASON_VI, TICKET_STATUS_VI

        tz = settings.locale.tz
        with factory() as s:
            tickets = list(s.scalars(q))
            rows = [_ticket_dict(t, tz) for t in tickets]
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not tickets:
            typer.echo("Chưa có phiếu nào.")
        for t in tickets:
            empty = "(không có lời nhắn: cần gọi lại)" if t.reason == "callback" else "(chưa có nội dung)"
            text = (t.transcript or empty)[:60]
            status, reason = TICKET_STATUS_VI.get(t.status, "Khác"), TICKET_REASON_VI.get(t.reason, "Khác")
            head = f"{t.number}  {format_local(t.created_at, tz)}  {status:<11} {reason:<11}"
            typer.echo(f"{head} {t.caller_masked or CALLER_WITHHELD_VI:>14}  {text}")

    @tickets_app.command("show")
    def tickets_show(
        ctx: typer.Context,
        number: str,
        as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    ) -> None:
        """One ticket: transcript, audio file, status and reply."""
        from core.errors import HotlineError
        from ivr.store import CallStore

        settings, factory = _factory(ctx)
        t = CallStore(factory, settings.data_dir).ticket(number)
        if t is None:
            raise HotlineError(f"no ticket number {number}")
        if as_json:
            typer.echo(json.dumps(_ticket_dict(t, settings.locale.tz), ensure_ascii=False, indent=2))
            return
        for label, value in _ticket_lines(t, settings):
            typer.echo(f"{label:>16}: {value}")

    @tickets_app.command("reply")
    def tickets_reply(
        ctx: typer.Context,
        number: str,
        note: Annotated[str, typer.Argument(help="Reply the caller hears when calling back.")],
        status: Annotated[str, typer.Option(help="new|in_progress|answered|closed")] = "answered",
    ) -> None:
        """Record an operator's reply (the caller hears it with the ticket status)."""
        from ivr.store import CallStore

        settings, factory = _factory(ctx)
        t = CallStore(factory, settings.data_dir).reply_ticket(number, note, status)
        typer.echo(_status_line(t))

    @tickets_app.command("close")
    def tickets_close(
        ctx: typer.Context, number: str, note: Annotated[str, typer.Option(help="Optional final reply.")] = ""
    ) -> None:
        """Close a ticket."""
        from ivr.store import CallStore

        settings, factory = _factory(ctx)
        t = CallStore(factory, settings.data_dir).reply_ticket(number, note, "closed")
        typer.echo(_status_line(t))
