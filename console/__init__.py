"""Operators' web console under /console: calls, tickets, intents, prompts; login required everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ivr.settings import IvrConfig


def install(app: FastAPI, settings: IvrConfig) -> None:
    """Mount the console's routes on the app (called by web.app.create_app)."""
    from fastapi import Request
    from fastapi.responses import Response

    from console import (
        routes_audit,
        routes_auth,
        routes_calls,
        routes_catalog,
        routes_operators,
        routes_prompts,
        routes_tickets,
    )
    from console.prompt_files import clean_uploads
    from console.web import TEMPLATES_DIR, Console, LoginRequired, login_redirect

    console = Console(settings, app.state.sessions)
    app.state.console = console
    clean_uploads(settings)

    @app.exception_handler(LoginRequired)
    async def _to_login(_request: Request, exc: LoginRequired) -> Response:
        return login_redirect(exc)

    css = (TEMPLATES_DIR / "console.css").read_text(encoding="utf-8")

    @app.get("/console/console.css", include_in_schema=False)
    def _css() -> Response:
        return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

    for module in (
        routes_auth,
        routes_calls,
        routes_tickets,
        routes_catalog,
        routes_prompts,
        routes_audit,
        routes_operators,
    ):
        app.include_router(module.router(console))
