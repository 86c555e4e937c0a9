"""Caps on HTTP request bodies, counted as the bytes arrive (chunked bodies included): 413 past the cap.

One default for every route; the few routes that take a file get a larger cap, given by the app factory.
A declared Content-Length over the cap is refused before the route runs, so nothing is read at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.errors import error_response

DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # forms and JSON: the largest console form is a few hundred kB
MULTIPART_OVERHEAD_BYTES = 64 * 1024  # boundaries, part headers and the small fields beside one file


def upload_cap(file_bytes: int) -> int:
    """Body cap of a route that takes one file of at most `file_bytes` (multipart or as the whole body)."""
    return file_bytes + MULTIPART_OVERHEAD_BYTES


def _size_vi(n: int) -> str:
    """1048576 -> '1 MB', 21037056 -> '20,1 MB', 327680 -> '320 kB' (Vietnamese decimal comma)."""
    if n < 1 << 20:
        return f"{n // 1024} kB"
    return f"{n / (1 << 20):.1f}".replace(".", ",").removesuffix(",0") + " MB"


class BodyTooLarge(HTTPException):
    """Raised from `receive` past the cap; routes parsing a body let it through to the error handler."""

    def __init__(self, cap: int) -> None:
        super().__init__(413, f"Dữ liệu gửi lên quá lớn (tối đa {_size_vi(cap)}).")


class BodyLimit:
    """ASGI middleware enforcing `default` bytes, or the cap of the first matching (method, path template)."""

    def __init__(self, app: ASGIApp, default: int, caps: Mapping[tuple[str, str], int]) -> None:
        self.app = app
        self.default = default
        self.caps: list[tuple[str, re.Pattern[str], int]] = [
            (method.upper(), compile_path(path)[0], cap) for (method, path), cap in caps.items()
        ]

    def cap_for(self, method: str, path: str) -> int:
        for m, pattern, cap in self.caps:
            if m == method and pattern.match(path):
                return cap
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap_for(scope["method"], scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            await error_response(Request(scope), 413, BodyTooLarge(cap).detail)(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise BodyTooLarge(cap)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge as exc:  # raised where no handler turned it into a response
            if started:
                raise
            await error_response(Request(scope), 413, exc.detail)(scope, receive, send)
