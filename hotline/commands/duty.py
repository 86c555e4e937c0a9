"""`hotline duty`: who takes transferred calls now and over the next days (the rota of `ivr.duty`).

What it prints is for the operators on duty, so it is Vietnamese, like the console.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Annotated

import typer

from hotline.commands import settings_of

if TYPE_CHECKING:
    from ivr.duty import OnDuty, Rota


def who(ring: str) -> str:
    """A Dial string as operators say it: "máy operator2, số 0987654321"; "" is nobody."""
    from asterisk.dial import dial_targets, outside_number

    names = []
    for target in dial_targets(ring):
        outside = outside_number(target)
        names.append(f"số {outside[0]}" if outside else f"máy {target.removeprefix('PJSIP/')}")
    return ", ".join(names) or "không ai (người gọi để lại lời nhắn)"


def days_vi(days: frozenset[str]) -> str:
    """ "Thứ Hai đến Thứ Sáu, ngày lễ": runs of three weekdays or more are written as a range."""
    from ivr.duty import DAY_VI, HOLIDAY, WEEKDAYS

    parts: list[str] = []
    run: list[str] = []
    for day in (*WEEKDAYS, ""):
        if day in days:
            run.append(day)
            continue
        if len(run) >= 3:
            parts.append(f"{DAY_VI[run[0]]} đến {DAY_VI[run[-1]]}")
        else:
            parts += [DAY_VI[d] for d in run]
        run = []
    if HOLIDAY in days:
        parts.append(DAY_VI[HOLIDAY])
    return ", ".join(parts)


def _shift_label(rota: Rota, on: OnDuty) -> str:
    return "ngoài ca trực" if on.shift is None else f"ca {rota.shifts.index(on.shift) + 1}"


def _day_title(rota: Rota, day: dt.date, holiday_name: str) -> str:
    from ivr.duty import DAY_VI, WEEKDAYS

    title = f"{DAY_VI[WEEKDAYS[day.weekday()]]} {day:%d/%m/%Y}"
    return f"{title}, ngày lễ: {holiday_name}" if rota.kind(day) == "holiday" else title


def register_duty(app: typer.Typer) -> None:
    @app.command("duty")
    def duty(
        ctx: typer.Context,
        days: Annotated[int, typer.Option(min=1, max=60, help="Days to list, from today.")] = 7,
        at: Annotated[
            str | None, typer.Option(help="Local time to look at instead of now, e.g. '2027-02-08 09:00'.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    ) -> None:
        """Who the operators on duty are now and for the next days (ivr.duty, public holidays included)."""
        from ivr.duty import HolidayCalendar
        from ivr.services import duty_rota
        from ivr.settings import duty_zone

        settings = settings_of(ctx)
        rota = duty_rota(settings)
        default = settings.ivr.flow.operator_endpoint
        if rota is None:
            typer.echo(f"Chưa có lịch trực (ivr.duty.rota trống): {who(default)} nhận cuộc gọi mọi lúc.")
            return
        try:
            now = dt.datetime.fromisoformat(at).replace(tzinfo=rota.tz) if at else dt.datetime.now(rota.tz)
        except ValueError:
            raise typer.BadParameter(f"{at!r}: write a local time as YYYY-MM-DD HH:MM") from None
        calendar = HolidayCalendar(settings.ivr.duty.extra_holidays)
        current = rota.on_duty(now)
        plan = []
        for n in range(days):
            day = now.date() + dt.timedelta(days=n)
            plan.append((day, calendar.name(day), rota.day_plan(day)))
        if as_json:
            out = {
                "timezone": duty_zone(settings),
                "now": {"at": now.isoformat(timespec="minutes"), "ring": current.ring},
                "days": [
                    {
                        "date": day.isoformat(),
                        "holiday": name if rota.kind(day) == "holiday" else "",
                        "ring": [{"from": a, "to": b, "ring": on.ring, "shift": on.shift is not None}
                                 for a, b, on in hours],
                    }
                    for day, name, hours in plan
                ],
            }  # fmt: skip
            typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
            return
        typer.echo(f"Lịch trực (giờ {duty_zone(settings)}):")
        for n, shift in enumerate(rota.shifts, 1):
            typer.echo(f"  ca {n}: {days_vi(shift.days)}, {shift.hours}: {who(shift.ring)}")
        typer.echo(f"  ngoài ca trực: {who(rota.default)}")
        typer.echo("")
        title = _day_title(rota, now.date(), calendar.name(now.date()))
        typer.echo(f"Lúc này, {now:%H:%M} {title}: {who(current.ring)} ({_shift_label(rota, current)})")
        for day, name, hours in plan:
            typer.echo("")
            typer.echo(_day_title(rota, day, name))
            for a, b, on in hours:
                typer.echo(f"  {a}-{b}  {who(on.ring)} ({_shift_label(rota, on)})")
