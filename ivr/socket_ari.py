"""ARI over one call's outbound WebSocket: REST requests travel as `RESTRequest` messages on the socket
Asterisk opened for the call, answers come back as `RESTResponse` messages matched by `request_id`.

The same interface as `AriClient` (the call flow cannot tell them apart); `cfg.app` is the call's own
Stasis application (`<app>:<channel name>`, what its StasisStart names), so the externalMedia channel and
the operator legs created for the call enter that application and their events come on this socket.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from typing import Any, Protocol
from urllib.parse import unquote

from core.metrics import ErrorStage, count_error
from ivr.ari import AriClient, AriConfig, AriError

logger = logging.getLogger(__name__)

_ids = itertools.count(1)


class TextSocket(Protocol):
    """The part of a WebSocket connection the transport needs."""

    async def send(self, message: str) -> None: ...


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class SocketAri(AriClient):
    """ARI requests on a call's WebSocket; `on_response` is fed the socket's RESTResponse messages."""

    def __init__(self, cfg: AriConfig, ws: TextSocket) -> None:
        # No HTTP client: everything goes over the socket (AriClient's REST helpers call `request`).
        self.cfg = cfg
        self.ws = ws
        self.connected = asyncio.Event()
        self.connected.set()
        self.malformed = 0
        self.connects = 1
        self.connecting_since = None
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.closed = False

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        ok_missing: bool = False,
    ) -> Any:
        if self.closed:
            raise AriError(f"ARI {method} {path}: the call's connection is closed")
        request_id = f"r{next(_ids)}"
        # Asterisk resolves the path from its ARI root without decoding it: segments go as they are.
        message: dict[str, Any] = {
            "type": "RESTRequest",
            "request_id": request_id,
            "method": method,
            "uri": unquote(path).lstrip("/"),
        }
        if params:
            message["query_strings"] = [{"name": k, "value": _value(v)} for k, v in params.items()]
        if body is not None:
            message["content_type"] = "application/json"
            message["message_body"] = json.dumps(body)
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = answer
        try:
            await self.ws.send(json.dumps(message))
            resp = await asyncio.wait_for(answer, self.cfg.request_timeout_s)
        except (TimeoutError, OSError, ConnectionError) as exc:
            count_error(ErrorStage.ARI)
            raise AriError(f"ARI {method} {path}: {type(exc).__name__}: {exc}") from exc
        except AriError:
            count_error(ErrorStage.ARI)
            raise
        except Exception as exc:  # the socket library's own closed-connection errors
            count_error(ErrorStage.ARI)
            raise AriError(f"ARI {method} {path}: {type(exc).__name__}: {exc}") from exc
        finally:
            self.pending.pop(request_id, None)
        status = resp.get("status_code")
        status = status if isinstance(status, int) else 0
        if status == 404 and ok_missing:
            return None
        raw = resp.get("message_body")
        if status >= 300 or status == 0:
            count_error(ErrorStage.ARI)
            detail = f"{resp.get('reason_phrase', '')} {raw or ''}".strip()[:200]
            raise AriError(f"ARI {method} {path}: {status} {detail}", status)
        if not isinstance(raw, str) or not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def on_response(self, message: dict[str, Any]) -> None:
        """A RESTResponse from the socket: completes the request it answers (unknown ones are ignored)."""
        answer = self.pending.get(str(message.get("request_id", "")))
        if answer is not None and not answer.done():
            answer.set_result(message)

    def fail_pending(self, reason: str) -> None:
        """The socket closed: every request waiting for an answer fails now, and later ones at once."""
        self.closed = True
        for answer in self.pending.values():
            if not answer.done():
                answer.set_exception(AriError(reason))
        self.pending.clear()

    async def run(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("a call's socket is pumped by the worker that accepted it")

    async def close(self) -> None:
        self.fail_pending("the call's connection is closed")
