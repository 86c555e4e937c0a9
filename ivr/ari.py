"""A small typed ARI client (REST on httpx, events on websockets) that reconnects forever.

Why not the `ari-client` package: it configures the root logger at import, parses every event
into strict models (one unexpected field and the event is lost), dispatches each event as its own
task (so DTMF and hang-ups of one call can be handled out of order) and stops for good when the
WebSocket closes. A call flow needs ordered events and a connection that survives Asterisk
restarts, which is little code on top of httpx and websockets.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import websockets

from core.errors import HotlineError
from core.metrics import ErrorStage, count_error
from ivr import metrics

logger = logging.getLogger(__name__)


class AriError(HotlineError):
    """An ARI request failed; `status` is the HTTP status (0: Asterisk unreachable)."""

    code = "ari"

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class AriConfig:
    url: str  # base URL without /ari, e.g. http://127.0.0.1:8088
    user: str
    password: str
    app: str
    max_backoff_s: float = 3.0  # reconnect delay cap
    request_timeout_s: float = 5.0


EventHandler = Callable[[dict[str, Any]], None]
ConnectHandler = Callable[[], Awaitable[None]]


def _seg(value: str) -> str:
    return quote(str(value), safe="")


class AriClient:
    """REST calls plus an event loop that delivers events in order to one synchronous handler."""

    def __init__(self, cfg: AriConfig) -> None:
        self.cfg = cfg
        self.http = httpx.AsyncClient(
            base_url=cfg.url.rstrip("/") + "/ari",
            auth=(cfg.user, cfg.password),
            timeout=cfg.request_timeout_s,
        )
        self.connected = asyncio.Event()
        self.malformed = 0  # events that could not be parsed (logged and ignored)
        self.connects = 0
        self.connecting_since: datetime | None = None  # when the current connection was begun

    # --- REST -----------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        ok_missing: bool = False,
    ) -> Any:
        try:
            resp = await self.http.request(method, path, params=params, json=body)
        except httpx.HTTPError as exc:
            count_error(ErrorStage.ARI)
            raise AriError(f"ARI {method} {path}: {type(exc).__name__}: {exc}") from exc
        if resp.status_code == 404 and ok_missing:
            return None
        if resp.status_code >= 300:
            count_error(ErrorStage.ARI)
            raise AriError(
                f"ARI {method} {path}: {resp.status_code} {resp.text.strip()[:200]}", resp.status_code
            )
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            return None

    async def answer(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{_seg(channel_id)}/answer")

    async def variable(self, channel_id: str, name: str) -> str:
        """A channel variable or dialplan function, e.g. CHANNEL(audionativeformat); "" when unset."""
        resp = await self.request("GET", f"/channels/{_seg(channel_id)}/variable", params={"variable": name})
        return str((resp or {}).get("value") or "")

    async def hangup(self, channel_id: str) -> None:
        await self.request("DELETE", f"/channels/{_seg(channel_id)}", ok_missing=True)

    async def channels(self) -> list[dict[str, Any]]:
        return await self.request("GET", "/channels") or []

    async def bridges(self) -> list[dict[str, Any]]:
        return await self.request("GET", "/bridges") or []

    async def create_bridge(self, bridge_id: str, name: str = "") -> dict[str, Any]:
        return await self.request(
            "POST", f"/bridges/{_seg(bridge_id)}", params={"type": "mixing", "name": name}
        )

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{_seg(bridge_id)}", ok_missing=True)

    async def add_to_bridge(self, bridge_id: str, channel_id: str) -> None:
        await self.request("POST", f"/bridges/{_seg(bridge_id)}/addChannel", params={"channel": channel_id})

    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None:
        await self.request(
            "POST",
            f"/bridges/{_seg(bridge_id)}/removeChannel",
            params={"channel": channel_id},
            ok_missing=True,
        )

    async def external_media(self, channel_id: str, external_host: str, fmt: str) -> dict[str, Any]:
        return await self.request(
            "POST",
            "/channels/externalMedia",
            params={
                "channelId": channel_id,
                "app": self.cfg.app,
                "external_host": external_host,
                "format": fmt,
                "encapsulation": "rtp",
                "transport": "udp",
                "connection_type": "client",
                "direction": "both",
            },
        )

    async def originate(
        self, endpoint: str, channel_id: str, *, app_args: str, timeout_s: int, caller_id: str = ""
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "endpoint": endpoint,
            "app": self.cfg.app,
            "appArgs": app_args,
            "channelId": channel_id,
            "timeout": timeout_s,
        }
        if caller_id:
            params["callerId"] = caller_id
        return await self.request("POST", "/channels", params=params)

    async def continue_in_dialplan(self, channel_id: str, context: str, extension: str, label: str) -> None:
        """Leave Stasis: the channel goes on in the dialplan at `context,extension,label`."""
        params = {"context": context, "extension": extension, "label": label}
        await self.request("POST", f"/channels/{_seg(channel_id)}/continue", params=params)

    async def ring(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{_seg(channel_id)}/ring", ok_missing=True)

    # --- events ---------------------------------------------------------------------------------

    def _ws_url(self) -> str:
        base = self.cfg.url.rstrip("/")
        ws = "ws" + base[4:] if base.startswith("http") else base
        return f"{ws}/ari/events?app={quote(self.cfg.app)}&subscribeAll=false"

    async def run(
        self, on_event: EventHandler, stop: asyncio.Event, on_connect: ConnectHandler | None = None
    ) -> None:
        """Receive events until `stop` is set; reconnect with capped exponential backoff on any failure."""
        delay = 0.2
        token = base64.b64encode(f"{self.cfg.user}:{self.cfg.password}".encode()).decode()
        headers = {"Authorization": f"Basic {token}"}
        while not stop.is_set():
            try:
                self.connecting_since = datetime.now(UTC)
                async with websockets.connect(
                    self._ws_url(),
                    additional_headers=headers,
                    open_timeout=5,
                    ping_interval=10,
                    ping_timeout=10,
                    max_size=2**22,
                ) as ws:
                    self.connects += 1
                    if self.connects > 1:
                        metrics.ARI_RECONNECTS.inc()
                    self.connected.set()
                    metrics.ARI_CONNECTED.inc()
                    delay = 0.2
                    logger.info("ARI connected (%s, app %s)", self.cfg.url, self.cfg.app)
                    if on_connect is not None:
                        try:
                            await on_connect()
                        except Exception as exc:  # re-sync is best effort; events keep flowing
                            logger.warning("ARI re-sync failed: %s", exc)
                    await self._pump(ws, on_event, stop)
            except asyncio.CancelledError:
                raise
            except (TimeoutError, OSError, websockets.exceptions.WebSocketException) as exc:
                if self.connected.is_set():
                    logger.warning("ARI connection lost: %s", exc)
                else:
                    logger.info("ARI not reachable (%s): retrying in %.1f s", exc, delay)
            finally:
                if self.connected.is_set():
                    metrics.ARI_CONNECTED.dec()
                self.connected.clear()
            if stop.is_set():
                break
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass
            delay = min(self.cfg.max_backoff_s, delay * 2)

    async def _pump(self, ws: Any, on_event: EventHandler, stop: asyncio.Event) -> None:
        stopper = asyncio.create_task(stop.wait())
        try:
            while True:
                recv = asyncio.create_task(ws.recv())
                done, _ = await asyncio.wait({recv, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if stopper in done:
                    recv.cancel()
                    return
                message = recv.result()
                event = parse_event(message)
                if event is None:
                    self.malformed += 1
                    logger.warning("malformed ARI event ignored: %.200r", message)
                    continue
                try:
                    on_event(event)
                except Exception:  # one bad handler must not kill the connection
                    logger.exception("ARI event handler failed for %s", event.get("type"))
        finally:
            stopper.cancel()

    async def close(self) -> None:
        await self.http.aclose()


def parse_event(message: str | bytes) -> dict[str, Any] | None:
    """A JSON object with a string `type`, or None."""
    try:
        data = json.loads(message)
    except (ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return None
    return data


def channel_of(event: dict[str, Any]) -> dict[str, Any]:
    ch = event.get("channel")
    return ch if isinstance(ch, dict) else {}


MAX_CHANNEL_ID = 150  # Asterisk's AST_MAX_UNIQUEID: no channel of Asterisk has a longer id


def channel_id_of(event: dict[str, Any]) -> str | None:
    """The event's channel id when it can be one (a non-empty string no longer than Asterisk's), else None."""
    cid = channel_of(event).get("id")
    return cid if isinstance(cid, str) and 0 < len(cid) <= MAX_CHANNEL_ID else None


def mapping(value: Any) -> dict[str, Any]:
    """A JSON object field of an event, or {} when the event carries something else there."""
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str:
    """A string field of an event ("" when absent or not a string: a number is not taken as text)."""
    return value if isinstance(value, str) else ""
