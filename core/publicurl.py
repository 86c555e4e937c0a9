"""The web app's own base URL and host names, from the settings: links in feeds and the names writes may use.

A request's Host header is whatever the client typed (or a DNS-rebinding page chose); links handed to other
programs (RSS enclosures, job URLs) and the check of where a write came from rely on configuration instead.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from core.config import WebSettings

# Bind addresses that mean "every interface": no single name to link to.
ANY_ADDRESS = ("", "0.0.0.0", "::")


def check_public_url(value: str) -> str:
    """`web.public_url`: empty, or an absolute http(s) URL without query or fragment (no trailing '/')."""
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL, e.g. https://tongdai.nghean.gov.vn")
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError("must not carry a query, a fragment or a user name")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise ValueError(f"has an invalid port ({exc})") from None
    return value.rstrip("/")


def _host_in_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def public_base_url(web: WebSettings) -> str:
    """`web.public_url`, else http://<bind host>:<port> (the machine's name when bound to every interface)."""
    if web.public_url:
        return web.public_url.rstrip("/")
    host = socket.gethostname() if web.host in ANY_ADDRESS else web.host
    return f"http://{_host_in_url(host)}:{web.port}"


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def own_host_names(web: WebSettings) -> frozenset[str]:
    """Host names (lower case, without port) the service goes by: public_url's, the bind host, localhost."""
    names = {"localhost"}
    if web.public_url:
        names.add((urlsplit(web.public_url).hostname or "").lower())
    if web.host not in ANY_ADDRESS:
        names.add(web.host.strip("[]").lower())
    else:
        names.add(socket.gethostname().lower())
    return frozenset(n for n in names if n)


def is_own_host(hostname: str, web: WebSettings) -> bool:
    """An IP address cannot be rebound by DNS; any other name must be one the settings give."""
    hostname = hostname.strip("[]").lower()
    return is_ip_literal(hostname) or hostname in own_host_names(web)
