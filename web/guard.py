"""Writes a browser sends from another site, or through a host name we do not go by, are refused (403).

Browsers put `Origin` on every POST, PUT, PATCH and DELETE (`Referer` on older ones). A cross-site form
or script shows a foreign origin; a DNS-rebinding page shows its own name as both Origin and Host, which is
why the name must also be one of ours (core.publicurl). Clients that send neither header are not browsers
acting for someone else; they still need the token or session each route asks for.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from core.config import WebSettings
from core.publicurl import is_own_host
from web.errors import error_response

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an Origin or Referer value; None when it is not an http(s) URL ("null"...)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme]


def _host_header(value: str, scheme: str) -> tuple[str, int] | None:
    origin = _origin_of(f"{scheme}://{value}")
    return (origin[1], origin[2]) if origin else None


def same_site_write(origin: str, host: str, web: WebSettings) -> bool:
    """Whether a browser write from page `origin` to Host `host` comes from our own pages."""
    source = _origin_of(origin)
    if source is None:
        return False
    if web.public_url and source == _origin_of(web.public_url):
        return True  # behind a TLS proxy the app sees http and the proxy's Host: the configured URL decides
    scheme, name, port = source
    if _host_header(host, scheme) != (name, port):
        return False
    return is_own_host(name, web)


class WriteGuard:
    """ASGI middleware: 403 for writes whose Origin (or Referer) is not one of our own pages."""

    def __init__(self, app: ASGIApp, web: WebSettings) -> None:
        self.app = app
        self.web = web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin") or headers.get("referer")
        if origin is None or same_site_write(origin, headers.get("host", ""), self.web):
            await self.app(scope, receive, send)
            return
        logger.warning("refused %s %s from a foreign page", scope["method"], scope["path"])
        response = error_response(
            Request(scope),
            403,
            "Yêu cầu ghi dữ liệu đến từ một trang web khác hoặc qua một tên miền lạ nên đã bị từ chối.",
        )
        await response(scope, receive, send)
