"""`hotline run`: start Asterisk, then a worker with the hotline ARI application and the web app, kept
alive by a supervisor (hotline/supervisor.py); stop them together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

from asterisk.process import ensure_running
from asterisk.process import stop as stop_asterisk
from broadcast import phone as broadcast_phone
from console.data import audit
from core.db import engine_for, session_factory
from core.errors import ConfigError
from core.jobs import InProcessRunner
from hotline.db import upgrade
from hotline.jobs import call_jobs, run_jobs
from hotline.private_data import secure_data
from hotline.settings import Settings
from hotline.supervisor import (
    Supervisor,
    call_worker_command,
    die_with_supervisor,
    hand_over_orphans,
    tell_supervisor_ready,
    worker_command,
)
from hotline.web_server import web_server_config
from ivr.app import Hotline
from ivr.audit import CallAuditAction
from ivr.fallback_messages import messages_dir
from ivr.flow import CommuneFinder
from ivr.prompts import TEXTS_DIR, prompt_render_dir
from ivr.retention import purge
from ivr.services import RadioSource, Services
from ivr.startup import build_services, run_hotline
from voice.tts.cache import purge_unused
from web.app import create_app
from web.ops import create_ops_app
from web.readiness import LocalProbe

logger = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn without signal handlers of its own: Ctrl+C stops Asterisk and the hotline, not only the web."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve_web(settings: Settings, stop: asyncio.Event, probe: LocalProbe) -> None:
    server = _Server(web_server_config(create_app(settings, app_probe=probe), settings))
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await task


async def _serve_ops(settings: Settings, stop: asyncio.Event, probe: LocalProbe) -> None:
    """Without the web app, the worker serves /metrics and /readyz itself (`ops.worker_port`): Prometheus
    scrapes it, and `hotline serve` asks it for the application's state."""
    ops = settings.ops
    family = socket.AF_INET6 if ":" in ops.worker_host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # Bound here, not by uvicorn: uvicorn answers a port in use with SystemExit, which would end the
        # worker (and its calls) for the sake of its metrics.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((ops.worker_host, ops.worker_port))
    except OSError as exc:
        sock.close()
        logger.error("metrics and readiness not served on %s:%d: %s", ops.worker_host, ops.worker_port, exc)
        await stop.wait()
        return
    server = _Server(web_server_config(create_ops_app(settings, probe), settings))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await stop.wait()
    server.should_exit = True
    await task


def purge_expired(settings: Settings) -> dict[str, int]:
    """One retention pass over every kind of personal data (a job: hotline/jobs.py, every 6 h)."""
    engine = engine_for(settings)
    try:
        factory = session_factory(engine)
        counts = purge(
            factory,
            recording_days=settings.privacy.recording_retention_days,
            transcript_days=settings.privacy.transcript_retention_days,
            recordings_dir=settings.data_dir / settings.ivr.recordings_dir,
            messages_dir=messages_dir(settings),
        )
        counts["audit_entries"] = audit.purge(factory, days=settings.privacy.audit_retention_days)
        days = settings.privacy.render_cache_days
        counts["render_cache"] = purge_unused(settings.cache_dir / "tts", days) + purge_unused(
            prompt_render_dir(settings) / TEXTS_DIR, days
        )
        return counts
    finally:
        engine.dispose()


def commune_finder(settings: Settings) -> CommuneFinder | None:
    """Which commune a caller means, from the radio side's list; without it only team codes are known."""
    try:
        return broadcast_phone.commune_finder(settings)
    except Exception as exc:
        logger.warning("commune names unavailable (the teams' codes still work): %s", exc)
        return None


def commune_names(settings: Settings) -> list[str]:
    """The province's commune names: word bank units, so a recorded name is said in the talent's voice."""
    try:
        from broadcast.communes import load_communes

        return [c.name for c in load_communes(settings.broadcast.province).communes]
    except Exception as exc:
        logger.warning("commune names unavailable to the word bank (they are synthesized): %s", exc)
        return []


def radio_source(settings: Settings) -> RadioSource | None:
    """Commune radio by phone, from the radio side's catalog; the hotline runs without it on failure."""
    try:
        return broadcast_phone.radio_source(settings)
    except Exception as exc:
        logger.warning("radio by phone unavailable: %s", exc)
        return None


class ConsoleAudit:
    """What the call side audits (prompts re-recorded by phone, PIN lock-outs), in the console's audit
    log; `who` is the operator seat (the phone, not an account)."""

    def __init__(self, settings: Settings) -> None:
        self.factory = session_factory(engine_for(settings))

    def record(self, who: str, action: CallAuditAction, target: str, detail: str) -> None:
        audit.record(self.factory, None, action, target, detail, username=who)


async def build_hotline_services(settings: Settings, **parts: Any) -> Services:
    """The hotline's shared services on a current schema: radio by phone, communes, the audit log wired in."""
    await asyncio.to_thread(upgrade, settings.database_url)
    parts.setdefault("radio", radio_source(settings))
    parts.setdefault("communes", commune_finder(settings))
    parts.setdefault("commune_names", commune_names(settings))
    parts.setdefault("audit", ConsoleAudit(settings))
    services = await build_services(settings, **parts)
    services.jobs = await call_jobs(settings, services)
    return services


async def _hotline(settings: Settings, stop: asyncio.Event, ready: asyncio.Event, probe: LocalProbe) -> None:
    services = await build_hotline_services(settings)

    def on_ready(app: Hotline) -> None:
        probe.app_of = lambda: app
        ready.set()

    try:
        await run_hotline(settings, stop, services=services, on_ready=on_ready)
    finally:
        if isinstance(services.jobs, InProcessRunner):
            services.jobs.close()  # a transcription not started yet runs at the next start


async def _worker(settings: Settings, web: bool) -> None:
    """The worker: the ARI application, the web app (unless it runs as its own service), the jobs."""
    die_with_supervisor()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    asterisk = await asyncio.to_thread(ensure_running, settings)  # normally the supervisor's, running
    web_url = settings.web.public_url or f"http://{settings.web.host}:{settings.web.port}"
    ready = asyncio.Event()
    probe = LocalProbe(lambda: None)  # the application, once it has started
    hotline = asyncio.create_task(_hotline(settings, stop, ready, probe))
    tasks = [hotline, asyncio.create_task(run_jobs(settings, stop))]  # the retention purge
    serve = _serve_web if web else _serve_ops
    tasks.append(asyncio.create_task(serve(settings, stop, probe)))
    ready_wait = asyncio.create_task(ready.wait())
    await asyncio.wait({hotline, ready_wait}, return_when=asyncio.FIRST_COMPLETED)
    if hotline.done():
        stop.set()
        ready_wait.cancel()
        await asyncio.gather(*tasks[1:])
        hotline.result()  # raises what stopped the application
        return
    tell_supervisor_ready()
    lines = ["", "The hotline is running.", asterisk.describe()]
    if web:
        lines.append(f"Web app:    {web_url}/  (radio pages)  {web_url}/console/  (operators)")
    print("\n".join([*lines, asterisk.how_to_call(), "Stop with Ctrl+C.", ""]), flush=True)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            raise result


async def _supervise(settings: Settings, web: bool, verbose: bool) -> int:
    """The supervisor: schema, data permissions and Asterisk once; then the worker, restarted if it dies."""
    await asyncio.to_thread(upgrade, settings.database_url)
    await asyncio.to_thread(secure_data, settings)
    print("Starting Asterisk (the first start builds its root filesystem, about a minute)...", flush=True)
    asterisk = await asyncio.to_thread(ensure_running, settings)
    supervisor = Supervisor(settings, worker_command(settings, web=web, verbose=verbose))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, supervisor.stop.set)
    try:
        await hand_over_orphans(settings)  # callers an earlier run left in Stasis (its supervisor was killed)
        return await supervisor.run()
    finally:
        if asterisk.owned:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(stop_asterisk, settings)  # whichever instance runs for our data


def run_all(settings: Settings, *, web: bool = True, verbose: bool = False) -> int:
    """`hotline run`: the supervisor; returns its exit status."""
    if settings.ivr.workers.ari_mode == "outbound":
        # Its ARI connection would register the Stasis application and take every call from the workers.
        raise ConfigError(
            f"{settings.config_file}: ivr.workers.ari_mode is outbound: calls go to `hotline worker` "
            "processes behind HAProxy (`hotline asterisk up`, `hotline haproxy-config`), not `hotline run`"
        )
    return asyncio.run(_supervise(settings, web, verbose))


def run_worker(settings: Settings, *, web: bool = True) -> None:
    """`hotline run --worker`: what the supervisor starts (and restarts)."""
    asyncio.run(_worker(settings, web))


async def _call_worker(settings: Settings) -> None:
    """`hotline worker --child`: calls from Asterisk's per-call WebSockets until SIGTERM drains it."""
    from asterisk.handle import worker_password
    from ivr.worker import CallWorker, run_worker

    die_with_supervisor()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    password = await asyncio.to_thread(worker_password, settings)
    workers = settings.ivr.workers
    # Its own calls only: what its killed predecessor left open is closed, the other workers' is live.
    services = await build_hotline_services(settings, worker=workers.worker_name)

    def ready(worker: CallWorker) -> None:
        tell_supervisor_ready(heartbeat_s=workers.watchdog_seconds / 5)
        where = f"{workers.listen_address}:{workers.listen_port}"
        print(f"The call worker is taking calls on {where} (health: /healthz).", flush=True)

    try:
        await run_worker(settings, services, stop, password=password, on_ready=ready)
    finally:
        if isinstance(services.jobs, InProcessRunner):
            services.jobs.close()  # a transcription not started yet runs at the next start


async def _no_hand_over(settings: Settings) -> None:
    """A call worker died: its calls' sockets closed with it, and Asterisk reconnects each through HAProxy
    to another worker (which hands the caller to the fallback) or, with none up, runs the fallback itself."""


async def _supervise_call_worker(settings: Settings, verbose: bool) -> int:
    workers = settings.ivr.workers
    supervisor = Supervisor(
        settings,
        call_worker_command(settings, verbose=verbose),
        on_death=_no_hand_over,
        death_note="its calls' sockets reconnect to another worker, which hands them to the fallback",
        watchdog_s=workers.watchdog_seconds,
        stop_timeout_s=workers.drain_seconds + 15,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, supervisor.stop.set)
    return await supervisor.run()


def run_call_worker(settings: Settings, *, child: bool = False, verbose: bool = False) -> int:
    """`hotline worker`: a supervisor that restarts its call worker when it dies or hangs (watchdog)."""
    if settings.ivr.workers.ari_mode != "outbound":
        raise ConfigError(
            f"{settings.config_file}: ivr.workers.ari_mode is inbound: `hotline run` serves the calls; "
            "set it to outbound to run call workers behind HAProxy"
        )
    if child:
        asyncio.run(_call_worker(settings))
        return 0
    return asyncio.run(_supervise_call_worker(settings, verbose))
