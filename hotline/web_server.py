"""How uvicorn serves the web app (`hotline serve`, `hotline run`): address, port, log level, proxy trust."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import uvicorn

if TYPE_CHECKING:
    from fastapi import FastAPI

    from hotline.settings import Settings


def web_server_config(
    app: FastAPI, settings: Settings, *, host: str | None = None, port: int | None = None
) -> uvicorn.Config:
    """uvicorn settings for the web app; X-Forwarded-For is believed only from `web.trusted_proxies`."""
    trusted = list(settings.web.trusted_proxies)
    config = uvicorn.Config(
        app,
        host=host or settings.web.host,
        port=port or settings.web.port,
        log_level=settings.logging.level.lower(),
        # None: uvicorn's own handlers would print its error tracebacks and access lines past the masking
        # filter (hotline.logs); its loggers propagate to ours instead.
        log_config=None,
        # uvicorn's default believes X-Forwarded-For from loopback (or $FORWARDED_ALLOW_IPS): anyone on the
        # machine could then choose the address the login limiter counts and the audit log records.
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted,
    )
    # A server configured earlier in this process (uvicorn's default logging) may have left its own
    # handlers on these loggers: they would still print past the masking filter.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    return config
