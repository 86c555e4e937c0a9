"""Security headers on every response: no MIME sniffing, no framing, a content policy for our own pages.

Our pages (radio, console, errors) use no script and only their own styles, audio and forms, so the policy
allows nothing else; a response that set a header itself keeps its own value (the radio commune list adds
its own filter script file that way).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The interactive API page (web.docs) runs Swagger UI from our own files: scripts from this site only
# (none inline), the inline styles its components set, the OpenAPI document fetched from here.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def add_security_headers(headers: MutableHeaders, policy: str = PAGE_POLICY) -> None:
    """Set the headers above where the response did not set its own."""
    for name, value in (*COMMON.items(), ("Content-Security-Policy", policy)):
        headers.setdefault(name, value)


class SecurityHeaders:
    """ASGI middleware adding the headers above; `docs_path` gets the Swagger UI policy."""

    def __init__(self, app: ASGIApp, docs_path: str | None = None) -> None:
        self.app = app
        self.docs_path = docs_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] == self.docs_path else PAGE_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(MutableHeaders(scope=message), policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)
