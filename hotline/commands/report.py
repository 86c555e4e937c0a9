"""`hotline report --month MM/YYYY`: the province's monthly report of tickets and calls, as CSV or XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hotline.commands import settings_of


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        ctx: typer.Context,
        month: Annotated[str, typer.Option(help="The month, MM/YYYY (local time), e.g. 03/2027.")],
        fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "xlsx",
        out: Annotated[
            Path | None, typer.Option(help="File to write; default bao-cao-phan-anh-YYYY-MM.<format> here.")
        ] = None,
    ) -> None:
        """Tickets received, handled on time and overdue (in total, by category, by agency), calls and
        satisfaction of one month, then the month's tickets: the same file as the console's download."""
        from broadcast.communes import load_communes
        from console.data.ticket_figures import month_figures, parse_month
        from console.data.times import utcnow
        from console.monthly_report import Names, to_csv, to_xlsx
        from core.db import engine_for, session_factory
        from core.errors import HotlineError
        from hotline.db import upgrade

        if fmt not in ("csv", "xlsx"):
            raise HotlineError(f"--format {fmt}: choose csv or xlsx")
        try:
            year, mon = parse_month(month)
        except ValueError as exc:
            raise HotlineError(f"--month {exc}") from None
        settings = settings_of(ctx)
        upgrade(settings.database_url)
        factory = session_factory(engine_for(settings))
        with factory() as s:
            fig = month_figures(s, year, mon, now=utcnow(), tz=settings.locale.tz)
        try:
            communes = {str(c.code): c.name for c in load_communes(settings.broadcast.province).communes}
        except Exception:  # names are a courtesy: the report still lists the codes
            communes = {}
        names = Names.of(settings.ivr.tickets, communes)
        body = (to_csv if fmt == "csv" else to_xlsx)(fig, names)
        path = out or Path(f"bao-cao-phan-anh-{year:04d}-{mon:02d}.{fmt}")
        path.write_bytes(body)
        rate = fig.total.on_time_rate
        typer.echo(
            f"{path}: tháng {mon:02d}/{year}: {fig.total.received} phiếu, {fig.total.handled} đã xử lý, "
            f"tỷ lệ đúng hạn {'–' if rate is None else f'{rate * 100:.1f} %'.replace('.', ',')}"
        )
