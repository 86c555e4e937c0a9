"""Operators' web console under /console: calls, tickets, intents, prompts; login required everywhere.

routes/ (the pages, module-level routers with FastAPI dependencies from deps.py), data/ (data access, one
module per table), edit/ (operator-edited files: one edit path, history, restore).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from console.context import ConsoleConfig


def install(app: FastAPI, settings: ConsoleConfig) -> None:
    """Mount the console's routes on the app (called by web.app.create_app)."""
    from fastapi import Request
    from fastapi.responses import Response

    from console.context import Console, LoginRequired, login_redirect
    from console.edit.recordings import clean_uploads
    from console.routes import ROUTERS

    app.state.console = Console(settings, app.state.sessions)
    clean_uploads(settings)

    @app.exception_handler(LoginRequired)
    async def _to_login(_request: Request, exc: LoginRequired) -> Response:
        return login_redirect(exc)

    for router in ROUTERS:
        app.include_router(router)
