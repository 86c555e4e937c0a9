"""The real Asterisk for IVR tests: one instance per test session on free loopback ports."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from core.db import engine_for, session_factory
from ivr.ids import OUR_PREFIXES
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "tests" / "fixtures" / "ivr" / "intents"


_HANDED_OUT: list[tuple[int, int]] = []  # ranges given to Asterisk or the app in this test session


def free_rtp_range(size: int = 200) -> tuple[int, int]:
    """An even-aligned UDP port range whose ports are free (checked, not assumed).

    Below the kernel's ephemeral range: sockets bound to port 0 (resolvers, SIP clients of other tests)
    then never land inside it.
    """
    try:
        ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    top = max(12000, min(40000, ephemeral_low) - size)
    for _ in range(50):
        start = random.randrange(10000, top, 2)
        if any(start <= end and other <= start + size - 1 for other, end in _HANDED_OUT):
            continue  # another instance of this test session (not bound yet) has it
        busy = False
        for port in range(start, start + size, 10):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    busy = True
                    break
        if not busy:
            _HANDED_OUT.append((start, start + size - 1))
            return start, start + size - 1
    raise RuntimeError("no free RTP port range on 127.0.0.1")


def loopback_env(
    data: Path, web_port: int | None = None, rtp_ports: int = 200, media_ports: int = 200
) -> dict[str, str]:
    """The environment of a whole hotline (Asterisk, application, web app) under `data`, on free
    loopback ports: what `hotline run` and `hotline call` read in a test or a campaign."""
    rtp, media = free_rtp_range(rtp_ports), free_rtp_range(media_ports)
    return {
        **os.environ,
        "HOTLINE_PATHS__DATA_DIR": str(data / "var"),
        "HOTLINE_PATHS__CACHE_DIR": str(data / "var" / "cache"),
        "HOTLINE_WEB__PORT": str(web_port or free_port(socket.SOCK_STREAM)),
        "HOTLINE_OPS__WORKER_PORT": str(free_port(socket.SOCK_STREAM)),  # metrics of a worker without web
        "HOTLINE_IVR__ASTERISK__SIP_PORT": str(free_port(socket.SOCK_DGRAM)),
        "HOTLINE_IVR__ASTERISK__HTTP_PORT": str(free_port(socket.SOCK_STREAM)),
        "HOTLINE_IVR__ASTERISK__RTP_PORT_START": str(rtp[0]),
        "HOTLINE_IVR__ASTERISK__RTP_PORT_END": str(rtp[1]),
        "HOTLINE_IVR__MEDIA__PORT_START": str(media[0]),
        "HOTLINE_IVR__MEDIA__PORT_END": str(media[1]),
    }


def wait_answered(handle, limit_s: float = 30.0) -> None:
    """Until a caller's channel is up in Asterisk (polled through ARI every 50 ms, bounded)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        channels = handle.ari("GET", "/channels")
        if any(c.get("state") == "Up" and not c["id"].startswith(OUR_PREFIXES) for c in channels):
            return
        time.sleep(0.05)
    raise AssertionError("no call was answered")


class AsteriskUnderTest:
    """The session's Asterisk: ARI/SIP coordinates, helpers for leak checks and for the caller."""

    def __init__(self, handle, settings, env: dict[str, str], startup_s: float) -> None:
        self.handle = handle
        self.settings = settings
        self.env = env  # HOTLINE_* variables that point a `hotline` subprocess at this instance
        self.startup_s = startup_s  # provisioning (cold cache) + start, seconds
        self.ari_url = handle.ari_url
        self.rest_url = handle.rest_url
        self.ari_user = handle.ari_user
        self.ari_password = handle.ari_password
        self.app_name = handle.app_name
        self.sip_host = handle.sip_host
        self.sip_port = handle.sip_port
        self.extension = handle.extension

    @property
    def auth(self) -> tuple[str, str]:
        return self.handle.auth

    @property
    def client_env(self) -> dict[str, str]:
        """HOTLINE_* overrides that point settings with ANOTHER data dir at this instance (external mode)."""
        return {
            "HOTLINE_IVR__ASTERISK__MODE": "external",
            "HOTLINE_IVR__ASTERISK__ARI_URL": self.ari_url,
            "HOTLINE_IVR__ASTERISK__ARI_USER": self.ari_user,
            "HOTLINE_IVR__ASTERISK__ARI_PASSWORD": self.ari_password,
            "HOTLINE_IVR__ASTERISK__SIP_PORT": str(self.sip_port),
            "HOTLINE_IVR__ASTERISK__HTTP_PORT": self.env["HOTLINE_IVR__ASTERISK__HTTP_PORT"],
        }

    def restart(self) -> float:
        """Stop Asterisk cleanly and start it again on the same ports; returns the seconds it took."""
        from asterisk.process import start

        began = time.monotonic()
        self.handle.stop()
        self.handle = start(self.settings)
        return time.monotonic() - began

    def events_url(self, app: str | None = None) -> str:
        """ARI WebSocket URL with credentials in the query (works with every websockets version)."""
        return self.handle.events_url(app) + f"&api_key={self.ari_user}:{self.ari_password}"

    def channels(self) -> list[dict]:
        return self.handle.channels()

    def bridges(self) -> list[dict]:
        return self.handle.bridges()

    def cli(self, command: str) -> str:
        return self.handle.cli(command)

    def target(self, to: str | None = None, register: bool = False):
        from sip.script import CallTarget

        return CallTarget.from_handle(self.handle, to=to, register=register)

    def log_text(self) -> str:
        return self.handle.log_file.read_text(errors="replace")

    def wait_clean(self, timeout: float = 5.0) -> None:
        """Assert that no channel and no bridge is left (waits a little for hang-ups to settle)."""
        deadline = time.monotonic() + timeout
        while True:
            channels, bridges = self.channels(), self.bridges()
            if not channels and not bridges:
                return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"leaked: channels {[c['id'] for c in channels]}, bridges {[b['id'] for b in bridges]}"
                )
            time.sleep(0.1)


OWNER_FILE = "test-owner.pid"  # in a test instance's directory: the pytest process that started it


def _sweep_orphans(root: Path) -> None:
    """Stop Asterisk test instances whose test session died without its teardown (killed run)."""
    from asterisk.instance import stop_instance
    from asterisk.render import Layout

    for owner in sorted((root / "srv" / "hotline").glob(f"*/{OWNER_FILE}")):
        try:
            owner_pid = int(owner.read_text())
        except (OSError, ValueError):
            continue
        if Path(f"/proc/{owner_pid}").exists():
            continue  # a test session still running (maybe another one): leave it alone
        layout = Layout(root=root, inst="/" + str(owner.parent.relative_to(root)))
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if layout.conf.encode() in cmdline:
                stop_instance(layout, int(proc.name), timeout=5.0)
        shutil.rmtree(owner.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def asterisk(tmp_path_factory):
    """A real Asterisk 22 (chroot by default) on free loopback ports, started once per session."""
    from asterisk.process import start
    from hotline.settings import load_settings

    data = tmp_path_factory.mktemp("asterisk-session")
    rtp_start, rtp_end = free_rtp_range()
    overrides = {
        "HOTLINE_PATHS__DATA_DIR": str(data / "var"),
        "HOTLINE_PATHS__CACHE_DIR": str(data / "var" / "cache"),
        "HOTLINE_IVR__ASTERISK__SIP_PORT": str(free_port(socket.SOCK_DGRAM)),
        "HOTLINE_IVR__ASTERISK__HTTP_PORT": str(free_port(socket.SOCK_STREAM)),
        "HOTLINE_IVR__ASTERISK__RTP_PORT_START": str(rtp_start),
        "HOTLINE_IVR__ASTERISK__RTP_PORT_END": str(rtp_end),
        "HOTLINE_IVR__ASTERISK__OPERATOR_SEATS": "2",  # operator and operator2: ring-all transfers
    }
    env = {**os.environ, **overrides}
    settings = load_settings(ROOT / "config" / "hotline.yaml", env=env)
    from asterisk.handle import layout_for

    if settings.ivr.asterisk.mode == "chroot":
        _sweep_orphans(layout_for(settings).root)
    started = time.monotonic()
    handle = start(settings)
    if handle.layout is not None:
        (handle.layout.host_inst / OWNER_FILE).write_text(str(os.getpid()))
    under_test = AsteriskUnderTest(handle, settings, overrides, time.monotonic() - started)
    try:
        yield under_test
    finally:
        handle = under_test.handle  # restart() replaces the handle: stop the one running now
        handle.stop()
        if handle.layout is not None and handle.layout.root != Path("/"):
            shutil.rmtree(handle.layout.host_inst, ignore_errors=True)


class FlakyRecognizer:
    """The real recognizer, with a switch that makes it raise like a crashed engine."""

    def __init__(self, real):
        self.real = real
        self.fail = False

    def open_stream(self, rate, **kw):
        if self.fail:
            raise RuntimeError("injected ASR engine failure")
        return self.real.open_stream(rate, **kw)

    async def transcribe(self, chunk, **kw):
        if self.fail:
            raise RuntimeError("injected ASR engine failure")
        return await self.real.transcribe(chunk, **kw)

    async def warm_up(self):
        await self.real.warm_up()

    def close(self):
        self.real.close()


class RunningHotline:
    """`run_hotline` in its own thread and event loop, as `hotline run` would run it."""

    def __init__(self, settings):
        self.settings = settings
        self.app = None
        self.flaky: FlakyRecognizer | None = None
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="hotline-app", daemon=True)

    def start(self):
        self._thread.start()
        if not self._ready.wait(180):
            raise RuntimeError("hotline application did not start")
        if self.error:
            raise self.error
        deadline = time.monotonic() + 20
        while not self.app.s.ari.connected.is_set():
            assert time.monotonic() < deadline, "application never connected to ARI"
            time.sleep(0.05)

    def _main(self):
        from hotline.service import build_hotline_services
        from ivr.startup import run_hotline

        async def main():
            self.loop = asyncio.get_running_loop()
            self.stop_event = asyncio.Event()
            try:
                services = await build_hotline_services(self.settings)
                if services.recognizer is not None:
                    self.flaky = services.recognizer = FlakyRecognizer(services.recognizer)

                def ready(app):
                    self.app = app
                    self._ready.set()

                await run_hotline(self.settings, self.stop_event, services=services, on_ready=ready)
            except BaseException as exc:  # surfaced to the test thread
                self.error = exc
                self._ready.set()
                raise

        asyncio.run(main())

    def stop(self):
        if getattr(self, "loop", None) is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self._thread.join(30)

    def wait_idle(self, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while self.app.sessions or self.app.owned:
            assert time.monotonic() < deadline, (
                f"sessions left: {list(self.app.sessions)} {list(self.app.owned)}"
            )
            time.sleep(0.05)
        assert self.app.s.ports.in_use == 0, "RTP port leaked"


@pytest.fixture(scope="module")
def hotline(asterisk, tmp_path_factory, request):
    """The hotline application on the session's Asterisk, for one test module.

    Not for the whole session: other modules connect their own ARI application under the same name
    (test_caller.py) or need no application at all (test_fallback_messages_e2e.py). A module that edits
    the catalog (`WRITABLE_CATALOG = True`) gets its own copy of it.
    """
    from hotline.settings import load_settings

    catalog = CATALOG
    if getattr(request.module, "WRITABLE_CATALOG", False):
        catalog = tmp_path_factory.mktemp("catalog") / "intents"
        shutil.copytree(CATALOG, catalog)
    start, end = free_rtp_range(100)
    env = {
        **os.environ,
        **asterisk.env,
        "HOTLINE_INTENTS__CATALOG_DIR": str(catalog),
        "HOTLINE_IVR__FLOW__RECORDING_NOTICE": "false",  # covered by the flow unit tests; saves 3 s per call
        "HOTLINE_IVR__FLOW__NO_INPUT_SECONDS": "6",
        # Both seats ring at once; a seat fails at once unless an agent registers as it.
        "HOTLINE_IVR__FLOW__OPERATOR_ENDPOINT": "PJSIP/operator&PJSIP/operator2",
        "HOTLINE_IVR__FLOW__TRANSFER_TIMEOUT_SECONDS": "10",  # longer than the prompt + one ring
        "HOTLINE_IVR__FLOW__RATING": "false",
        "HOTLINE_IVR__MEDIA__PORT_START": str(start),
        "HOTLINE_IVR__MEDIA__PORT_END": str(end),
        "HOTLINE_IVR__PROMPTS_DIR": str(tmp_path_factory.mktemp("prompt-recordings")),
        "HOTLINE_IVR__ATTEMPTS__PIN_FAILURES": "2",  # the lock-out is reached in two calls
    }
    settings = load_settings(ROOT / "config" / "hotline.yaml", env=env)
    running = RunningHotline(settings)
    running.start()
    running.factory = session_factory(engine_for(settings))
    yield running
    running.stop()
