"""A call worker (`hotline worker`): accepts the WebSocket Asterisk opens for each call (ARI outbound,
per_call_config) and runs the call on it with the same flow as the inbound application.

Each connection gets its own `Hotline` over a `SocketAri` (REST over the call's socket); the services
(recognizer, prompts, store) are the worker's, shared by its calls. Nothing about a call is kept on disk
that another worker would need: if this process dies, Asterisk reconnects the call through HAProxy to
another worker, whose first message is then not the call's StasisStart: that worker hands the caller to
the dialplan fallback (`hand_over_call`). If no worker answers, the call leaves Stasis with
STASISSTATUS=FAILED and the dialplan's fallback runs anyway.

/healthz says 200 when ready, 503 while starting or draining: HAProxy sends new calls elsewhere. SIGTERM
drains: no new calls, the current ones finish (at most `ivr.workers.drain_seconds`), then the process ends.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import ipaddress
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from ivr.app import Hotline
from ivr.ari import AriConfig, channel_id_of, parse_event, text
from ivr.ids import OUR_PREFIXES
from ivr.orphans import hand_over_call
from ivr.socket_ari import SocketAri
from ivr.startup import close_services, start_background

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection
    from websockets.http11 import Request, Response

    from ivr.services import Services
    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)

# A socket with no StasisStart this long after its first message is a reconnected call whose worker is
# gone. Asterisk checks every 500 ms whether a new call's socket is up before it starts the call.
ORPHAN_AFTER_S = 1.2
# Asterisk closes a call's socket 3 s after the call's StasisEnd (res/ari/ari_websockets.c), waiting at
# most 5 s for that event first.
SOCKET_CLOSE_GRACE_S = 9.0
ARI_PATH = "/ari"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"


@dataclass
class WorkerState:
    """What /healthz reports and the tests read."""

    ready: bool = False
    draining: bool = False
    active: int = 0  # calls running now
    served: int = 0  # calls started since the worker started
    orphans: int = 0  # calls of a gone worker handed to the fallback

    def metrics(self) -> bytes:
        """The worker's call counts in Prometheus' text format (after the process's own metrics)."""
        lines = [
            "# HELP hotline_worker_calls_running Calls this call worker runs now",
            "# TYPE hotline_worker_calls_running gauge",
            f"hotline_worker_calls_running {self.active}",
            "# HELP hotline_worker_calls_served_total Calls this call worker started since it started",
            "# TYPE hotline_worker_calls_served_total counter",
            f"hotline_worker_calls_served_total {self.served}",
            "# HELP hotline_worker_calls_handed_on_total Calls of a gone worker handed to the fallback here",
            "# TYPE hotline_worker_calls_handed_on_total counter",
            f"hotline_worker_calls_handed_on_total {self.orphans}",
            "# HELP hotline_worker_draining 1 while the worker drains (takes no new calls)",
            "# TYPE hotline_worker_draining gauge",
            f"hotline_worker_draining {int(self.draining)}",
        ]
        return ("\n".join(lines) + "\n").encode()

    def health(self) -> tuple[HTTPStatus, dict[str, Any]]:
        status = "draining" if self.draining else ("ready" if self.ready else "starting")
        code = HTTPStatus.OK if status == "ready" else HTTPStatus.SERVICE_UNAVAILABLE
        return code, {
            "status": status,
            "active": self.active,
            "served": self.served,
            "orphans": self.orphans,
        }


def authorized(header: str | None, user: str, password: str) -> bool:
    """HTTP Basic credentials equal to `user`:`password` (compared in constant time)."""
    if not header or not header.startswith("Basic ") or not password:
        return False
    try:
        given = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(given.encode(), f"{user}:{password}".encode())


def _loopback(address: Any) -> bool:
    try:
        return ipaddress.ip_address(str(address[0])).is_loopback
    except (ValueError, TypeError, IndexError):
        return False


def is_call_start(event: dict[str, Any]) -> bool:
    """The first event of a new call's socket: the caller's StasisStart (not one of our own legs)."""
    if event.get("type") != "StasisStart":
        return False
    cid = channel_id_of(event)
    args = event.get("args")
    return (
        cid is not None
        and not cid.startswith(OUR_PREFIXES)
        and not (isinstance(args, list) and args[:1] == ["operator"])
    )


def caller_channel_name(application: str, app_name: str) -> str:
    """The caller's channel name from a per-call application name (`<app>:<channel name>`)."""
    prefix = f"{app_name}:"
    return application[len(prefix) :] if application.startswith(prefix) else ""


class CallWorker:
    """The WebSocket server of one worker and the calls running on it."""

    def __init__(self, services: Services, ari_cfg: AriConfig, user: str, password: str) -> None:
        self.s = services
        self.ari_cfg = ari_cfg
        self.user = user
        self.password = password
        self.state = WorkerState()
        self.home = Hotline(services)  # background work (warm-up, pre-rendering), no calls
        self.idle = asyncio.Event()  # no call running
        self.idle.set()
        self.sockets = 0  # call sockets open (Asterisk closes a call's socket seconds after its end)
        self.no_sockets = asyncio.Event()
        self.no_sockets.set()

    # --- HTTP: health and the WebSocket handshake --------------------------------------------------

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == HEALTH_PATH:
            code, body = self.state.health()
            response = connection.respond(code, json.dumps(body) + "\n")
            response.headers["Content-Type"] = "application/json"
            return response
        if path == METRICS_PATH:
            return self._metrics(connection, request)
        if path != ARI_PATH:
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        if not authorized(request.headers.get("Authorization"), self.user, self.password):
            logger.warning("call connection refused: wrong credentials (from %s)", connection.remote_address)
            return connection.respond(HTTPStatus.UNAUTHORIZED, "unauthorized\n")
        if self.state.draining or not self.state.ready:
            # HAProxy retries another worker on 503 (retry-on 503 + redispatch).
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "not taking calls\n")
        return None

    def _metrics(self, connection: ServerConnection, request: Request) -> Response:
        """/metrics for a client on this machine, or anyone with `ops.token` (as the web app's)."""
        ops = getattr(self.s.settings, "ops", None)
        token = str(getattr(ops, "token", "") or "")
        if token:
            sent = request.headers.get("Authorization") or ""
            if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
                return connection.respond(HTTPStatus.UNAUTHORIZED, "unauthorized\n")
        elif not _loopback(connection.remote_address):
            return connection.respond(HTTPStatus.FORBIDDEN, "forbidden\n")
        from core.metrics import CONTENT_TYPE, render

        body = render() + self.state.metrics()
        response = connection.respond(HTTPStatus.OK, body.decode())
        response.headers["Content-Type"] = CONTENT_TYPE
        response.headers["Cache-Control"] = "no-store"
        return response

    # --- one call's socket ---------------------------------------------------------------------------

    async def handle(self, ws: ServerConnection) -> None:
        self.sockets += 1
        self.no_sockets.clear()
        try:
            await self._serve_socket(ws)
        finally:
            self.sockets -= 1
            if self.sockets == 0:
                self.no_sockets.set()

    async def _serve_socket(self, ws: ServerConnection) -> None:
        transport = SocketAri(self.ari_cfg, ws)
        app: Hotline | None = None
        started = False
        ending: asyncio.Task[None] | None = None
        orphan_timer: asyncio.TimerHandle | None = None
        try:
            async for message in ws:
                event = parse_event(message)
                if event is None:
                    logger.warning("malformed message on a call's socket ignored: %.200r", message)
                    continue
                if event.get("type") == "RESTResponse":
                    transport.on_response(event)
                    continue
                if app is None:
                    transport.cfg = replace(self.ari_cfg, app=text(event.get("application")))
                    app = Hotline(replace(self.s, ari=transport))
                    app.asr_loaded = self.home.asr_loaded
                    # A new call's socket says ApplicationRegistered, then StasisStart once Asterisk
                    # has seen the connection up (it looks every 500 ms); a reconnected one never does.
                    orphan_timer = asyncio.get_running_loop().call_later(
                        ORPHAN_AFTER_S, self._orphan, app, transport.cfg.app
                    )
                if is_call_start(event) and not started and not app.orphaned:
                    if orphan_timer is not None:
                        orphan_timer.cancel()
                    started = True
                    self._call_started()
                    app.on_event(event)
                    ending = asyncio.create_task(self._until_ended(app), name="call-ending")
                    continue
                elif app.orphaned and event.get("type") == "StasisStart":
                    continue  # too late: the caller is on its way to the fallback already
                app.on_event(event)
        except Exception as exc:  # a connection torn down mid-frame: the call is Asterisk's to hand on
            logger.info("call socket closed: %s", exc)
        finally:
            if orphan_timer is not None:
                orphan_timer.cancel()
            transport.fail_pending("the call's connection closed")
            if app is not None:
                await app.wind_down()
            if ending is not None:
                await ending

    async def _until_ended(self, app: Hotline) -> None:
        """The call counts as running until its session ended (Asterisk closes the socket seconds later)."""
        try:
            calls = [t for t in app.background if t.get_name().startswith("call-")]
            if calls:
                await asyncio.wait(calls)
        finally:
            self._call_ended()

    def _call_started(self) -> None:
        self.state.active += 1
        self.state.served += 1
        self.idle.clear()

    def _call_ended(self) -> None:
        self.state.active -= 1
        if self.state.active == 0:
            self.idle.set()

    def _orphan(self, app: Hotline, application: str) -> None:
        """The socket of a call this worker never started: its worker is gone and Asterisk reconnected."""
        name = caller_channel_name(application, self.s.settings.ivr.app_name)
        app.orphaned = True
        logger.warning("a call of another worker came here: to the fallback")

        async def hand_on() -> None:
            if not name:
                logger.error("orphaned call socket for application %r: no caller to hand on", application)
                return
            done = await hand_over_call(app.s.ari, name)
            if done.to_fallback or done.kept:
                self.state.orphans += 1
            elif not done.hung_up:
                app.orphaned = False  # not in Stasis yet: a late StasisStart still starts the call here
            for pair in done.kept:  # left talking: this socket now ends the pair when one side hangs up
                app.kept[pair.caller_id] = pair
                app.kept[pair.operator_id] = pair

        app.spawn(hand_on(), "orphan")

    # --- the worker's life -----------------------------------------------------------------------------

    async def serve(self, host: str, port: int, stop: asyncio.Event, drain_s: float) -> None:
        """Accept calls until `stop`; then drain (no new calls, the current ones finish) and return."""
        from websockets.asyncio.server import serve
        from websockets.typing import Subprotocol

        async with serve(
            self.handle,
            host,
            port,
            process_request=self.process_request,
            subprotocols=[Subprotocol("ari")],  # the protocol Asterisk asks for
            ping_interval=10,
            ping_timeout=10,
            max_size=2**22,
        ) as server:
            logger.info("call worker listening on %s:%d", host, port)
            await stop.wait()
            self.state.draining = True
            logger.info("call worker draining: %d calls to finish", self.state.active)
            began = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.idle.wait(), drain_s)
            # Ended calls' sockets are closed by Asterisk a few seconds later; leaving first would make it
            # reconnect them elsewhere (harmless, but another worker would log an orphan).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.no_sockets.wait(), SOCKET_CLOSE_GRACE_S)
            took = time.monotonic() - began
            logger.info("call worker drained in %.1f s (%d calls still on)", took, self.state.active)
            server.close()


async def run_worker(
    settings: IvrConfig,
    services: Services,
    stop: asyncio.Event,
    *,
    password: str,
    on_ready: Callable[[CallWorker], None] | None = None,
) -> None:
    """Run a call worker until `stop` is set and its calls have finished (what `hotline worker` runs)."""
    from asterisk.workers import WORKER_USER

    workers = settings.ivr.workers
    worker = CallWorker(services, services.ari.cfg, WORKER_USER, password)
    # Messages callers left while no worker answered: imported by the workers that see Asterisk's spool
    # (those on its machine, sharing its data directory), one pass at a time across them.
    watcher = start_background(worker.home, settings, services, fallback_messages=True)
    serving = asyncio.create_task(
        worker.serve(workers.listen_address, workers.listen_port, stop, workers.drain_seconds)
    )
    warm = [t for t in worker.home.background if t.get_name() == "asr-warm-up"]
    if warm:  # take calls once the recognizer is loaded (else the first callers would get the keypad)
        await asyncio.wait(warm, timeout=120)
    worker.state.ready = True
    if on_ready is not None:
        on_ready(worker)
    try:
        await serving
    finally:
        await worker.home.wind_down()
        await close_services(services, watcher)
    logger.info("call worker stopped (%d calls served)", worker.state.served)
