"""Service commands: `hotline serve`, `hotline run`, `hotline service-units`, `hotline db upgrade`,
`hotline config check`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hotline.commands import settings_of


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
    config_app = typer.Typer(help="Configuration.", no_args_is_help=True)
    app.add_typer(db_app, name="db")
    app.add_typer(config_app, name="config")

    @db_app.command("upgrade")
    def db_upgrade(ctx: typer.Context) -> None:
        """Create or migrate the database schema to the newest revision."""
        from hotline.db import upgrade
        from hotline.private_data import secure_data

        settings = settings_of(ctx)
        upgrade(settings.database_url)
        secure_data(settings)
        typer.echo(f"database up to date: {_safe_url(settings.database_url)}")

    @config_app.command("check")
    def config_check(ctx: typer.Context) -> None:
        """Validate config/hotline.yaml and the environment overrides (and the voice tables it names)."""
        from voice.catalog import catalog_from_settings
        from voice.tts.lexicon import lexicon_from_settings

        settings = settings_of(ctx)
        lexicon_from_settings(settings)  # else a mistake in it shows only when something is spoken
        catalog_from_settings(settings)
        typer.echo(f"ok: {settings.config_file}")

    @app.command("serve")
    def serve(
        ctx: typer.Context,
        host: Annotated[str | None, typer.Option(help="Bind address (default from config).")] = None,
        port: Annotated[int | None, typer.Option(help="Port (default from config).")] = None,
    ) -> None:
        """Start the web app (radio pages, API, console)."""
        import uvicorn

        from hotline.private_data import secure_data
        from hotline.web_server import web_server_config
        from web.app import create_app

        settings = settings_of(ctx)
        secure_data(settings)
        server = uvicorn.Server(web_server_config(create_app(settings), settings, host=host, port=port))
        server.run()
        if not server.started:  # e.g. the port is taken: uvicorn has logged why
            raise typer.Exit(3)

    @app.command("service-units")
    def service_units(
        ctx: typer.Context,
        out: Annotated[Path | None, typer.Option("--out", help="Write the units here (else print).")] = None,
        user: Annotated[str, typer.Option("--user", help="User the hotline and web app run as.")] = "hotline",
    ) -> None:
        """systemd units for this installation: Asterisk, the supervised hotline, the web app, the jobs."""
        from hotline.units import render_units

        try:
            units = render_units(settings_of(ctx), user)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        for name, text in units.items():
            if out is None:
                typer.echo(f"# --- {name}\n{text}")
            else:
                (out / name).write_text(text)
                typer.echo(f"wrote {out / name}")

    @app.command("run")
    def run(
        ctx: typer.Context,
        web: Annotated[bool, typer.Option("--web/--no-web", help="Also serve the web app.")] = True,
        worker: Annotated[bool, typer.Option("--worker", hidden=True)] = False,
    ) -> None:
        """The main job: start everything configured (Asterisk, the hotline, the web app) and keep the
        hotline running: if its worker dies, callers go to the dialplan fallback and it is restarted."""
        from hotline.service import run_all, run_worker

        settings = settings_of(ctx)
        if worker:
            run_worker(settings, web=web)
            return
        root = ctx.find_root().obj or {}
        code = run_all(settings, web=web, verbose=bool(root.get("verbose")))
        if code:
            raise typer.Exit(code)

    @app.command("worker")
    def worker(
        ctx: typer.Context, child: Annotated[bool, typer.Option("--child", hidden=True)] = False
    ) -> None:
        """A call worker (ivr.workers.ari_mode: outbound): takes the calls HAProxy gives it over Asterisk's
        per-call WebSockets; restarted if it dies or hangs; SIGTERM drains it (no new calls, the current
        ones finish)."""
        from hotline.service import run_call_worker

        root = ctx.find_root().obj or {}
        code = run_call_worker(settings_of(ctx), child=child, verbose=bool(root.get("verbose")))
        if code:
            raise typer.Exit(code)

    @app.command("haproxy-config")
    def haproxy_config_cmd(
        ctx: typer.Context,
        out: Annotated[
            Path | None, typer.Option("--out", "-o", help="Write haproxy.cfg here (default: print it).")
        ] = None,
        pid_file: Annotated[str, typer.Option("--pid-file", help="HAProxy's pidfile line.")] = "",
    ) -> None:
        """HAProxy's configuration for the call workers (front, health checks, leastconn): ivr.workers."""
        from hotline.haproxy import haproxy_config

        text = haproxy_config(settings_of(ctx).ivr.workers, pid_file=pid_file)
        if out is None:
            typer.echo(text, nl=False)
            return
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(out)
        typer.echo(f"wrote {out}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
