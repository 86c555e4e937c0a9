"""`hotline calls list|show|purge`, `hotline tickets list|show|reply|close`: the call log for operators."""

from __future__ import annotations

import json
from datetime import tzinfo
from typing import Annotated

import typer

from core.clock import format_local, zone
from hotline.commands import settings_of

DEFAULT_TZ = zone()  # only for callers without settings; the commands pass `locale.time_zone`


def _factory(ctx: typer.Context):
    from core.db import engine_for, session_factory
    from hotline.db import upgrade

    settings = settings_of(ctx)
    upgrade(settings.database_url)
    return settings, session_factory(engine_for(settings))


def _fmt(dt, tz: tzinfo = DEFAULT_TZ) -> str:
    """A stored (UTC) time in the configured zone (`locale.time_zone`), as the console shows it."""
    return format_local(dt, tz, "%Y-%m-%d %H:%M:%S", empty="-")


def _ticket_dict(t, tz: tzinfo = DEFAULT_TZ) -> dict:
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
        "handled_at": _fmt(t.handled_at),
    }


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
        if not out:
            typer.echo("no calls yet")
        for c in out:
            typer.echo(
                f"{c['id']:>6}  {c['started_at']}  {c['caller']:>14}  {c['outcome']:<14} "
                f"turns={c['turns']} rating={c['satisfaction'] or '-'}"
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
            raise HotlineError(f"no call with id {call_id}")
        if as_json:
            typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
            return
        typer.echo(
            f"call {data['id']} from {data['caller']}  {data['started_at']} -> {data['ended_at']}  "
            f"outcome={data['outcome']} rating={data['satisfaction'] or '-'}"
        )
        for t in data["turns"]:
            bits = [f"{t['seq']:>3} {t['kind']:<8}"]
            if t["transcript"]:
                bits.append(f'"{t["transcript"]}" (conf {t["confidence"]})')
            if t["dtmf"]:
                bits.append(f"keys {t['dtmf']}")
            if t["intent"]:
                bits.append(f"-> {t['intent']} ({t['score']})")
            if t["action"]:
                bits.append(f"[{t['action']}]")
            if t["response_ms"] is not None:
                bits.append(f"{t['response_ms']} ms")
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
        status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
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
        with factory() as s:
            rows = [_ticket_dict(t, settings.locale.tz) for t in s.scalars(q)]
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not rows:
            typer.echo("no tickets")
        for t in rows:
            empty = "(no message: call back)" if t["reason"] == "callback" else "(no transcript yet)"
            text = (t["transcript"] or empty)[:60]
            head = f"{t['number']}  {t['created_at']}  {t['status']:<11} {t['reason']:<9}"
            typer.echo(f"{head} {t['caller']:>14}  {text}")

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
        d = _ticket_dict(t, settings.locale.tz)
        if as_json:
            typer.echo(json.dumps(d, ensure_ascii=False, indent=2))
            return
        for k, v in d.items():
            typer.echo(f"{k:>12}: {v if v not in (None, '') else '-'}")

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
        typer.echo(f"ticket {t.number}: {t.status}")

    @tickets_app.command("close")
    def tickets_close(
        ctx: typer.Context, number: str, note: Annotated[str, typer.Option(help="Optional final reply.")] = ""
    ) -> None:
        """Close a ticket."""
        from ivr.store import CallStore

        settings, factory = _factory(ctx)
        t = CallStore(factory, settings.data_dir).reply_ticket(number, note, "closed")
        typer.echo(f"ticket {t.number}: {t.status}")
