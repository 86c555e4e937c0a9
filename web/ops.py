"""Operations endpoints: `/healthz` (the process serves), `/readyz` (it can take calls), `/metrics`.

Mounted on the web app, and on the worker's own small server when the web app runs elsewhere
(`hotline run --no-web`: `create_ops_app`). `/healthz` is open; `/metrics` and `/readyz` answer clients on
this machine, or anyone with `ops.token` (see `web.settings.OpsSettings`).
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from core import __version__
from core.db import engine_for
from core.metrics import CONTENT_TYPE
from web.headers import SecurityHeaders
from web.readiness import AppProbe, readiness

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from web.settings import OpsConfig

NO_STORE = {"Cache-Control": "no-store"}


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ops_router(settings: OpsConfig, engine: Engine, probe: AppProbe) -> APIRouter:
    token = settings.ops.token

    def allowed(request: Request) -> None:
        """The token when one is configured, else a client on this machine (the connecting address, or
        the one a trusted proxy names)."""
        if token:
            sent = request.headers.get("authorization", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
                raise HTTPException(401, headers={"WWW-Authenticate": "Bearer"})
        elif not _is_loopback(request.client.host if request.client else None):
            raise HTTPException(403)

    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__}, headers=NO_STORE)

    @router.get("/readyz", dependencies=[Depends(allowed)])
    async def readyz() -> JSONResponse:
        ready, checks = await readiness(settings, engine, probe)
        body = {"ready": ready, "checks": {name: c.to_json() for name, c in checks.items()}}
        return JSONResponse(body, status_code=200 if ready else 503, headers=NO_STORE)

    @router.get("/metrics", dependencies=[Depends(allowed)])
    async def metrics() -> Response:
        text = await probe.metrics()
        if text is None:
            raise HTTPException(503, "Không lấy được số liệu của ứng dụng tổng đài")
        return Response(text, media_type=CONTENT_TYPE, headers=NO_STORE)

    return router


def create_ops_app(settings: OpsConfig, probe: AppProbe) -> FastAPI:
    """The worker's own server (`ops.worker_host:worker_port`) when it does not host the web app."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SecurityHeaders)
    app.include_router(ops_router(settings, engine_for(settings), probe))
    return app
