"""`hotline run`: start the configured components and supervise them until interrupted."""

from __future__ import annotations

import asyncio
import logging

import uvicorn

from hotline.db import upgrade
from hotline.settings import Settings
from hotline.web.app import create_app

logger = logging.getLogger(__name__)


async def _serve_web(settings: Settings) -> None:
    config = uvicorn.Config(create_app(settings), host=settings.web.host, port=settings.web.port,
                            log_level=settings.logging.level.lower())
    await uvicorn.Server(config).serve()


async def _run(settings: Settings) -> None:
    upgrade(settings.database_url)
    url = settings.web.public_url or f"http://{settings.web.host}:{settings.web.port}"
    print(f"Web app: {url}/  (health: {url}/healthz)", flush=True)
    await _serve_web(settings)


def run_all(settings: Settings) -> None:
    asyncio.run(_run(settings))
