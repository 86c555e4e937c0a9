"""`hotline run` keeps the hotline alive: a small supervisor process and one worker process.

The worker (`hotline run --worker`) runs the ARI application, the web app and the retention purge. If it
dies (a crash, the kernel's OOM killer, kill -9), Asterisk keeps its callers in Stasis with nobody
attached: silence. The supervisor imports no models and holds no calls, so it survives what kills a
worker; the moment the worker is gone it hands each caller to the dialplan fallback (an apology, the
operator seats, then a message: ivr/orphans.py), then starts a new worker. Under systemd
(`hotline service units`) the supervisor tells systemd when the hotline is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hotline.settings import Settings
from ivr.ari import AriClient
from ivr.orphans import hand_over
from ivr.startup import ari_config

logger = logging.getLogger(__name__)

READY_FD_ENV = "SUPERVISED_READY_FD"  # the worker writes one byte there once it answers calls
SUPERVISOR_ENV = "SUPERVISOR_PID"  # the worker stops if this process goes away
STOP_TIMEOUT_S = 45.0  # a worker ends its calls (tickets stored) within this, or is killed
EXIT_CONFIG = 2  # the CLI's exit status for a HotlineError (a bad config): restarting cannot help
STOPPED_ON_REQUEST = (0, 130)  # the worker stopped on SIGTERM/SIGINT (Ctrl+C reaches both processes)


@dataclass(frozen=True)
class RestartPolicy:
    """How soon a dead worker is replaced: quickly at first, slower if it keeps dying."""

    # Callers are never waiting on this: while no worker runs, Asterisk's dialplan serves them (apology,
    # operators, message). The back-off only keeps a worker that dies at once from spinning.
    delays_s: tuple[float, ...] = (0.2, 1.0, 2.0, 5.0, 10.0)
    stable_after_s: float = 30.0  # a worker that ran this long starts the back-off again from the first
    max_unready: int = 5  # workers in a row that died before answering calls: give up (systemd decides)

    def delay(self, failures: int) -> float:
        return self.delays_s[min(max(failures - 1, 0), len(self.delays_s) - 1)]


def worker_pid_file(settings: Settings) -> Path:
    """The running worker's pid; call workers sharing a data directory each have their own (by port)."""
    workers = settings.ivr.workers
    name = f"worker-{workers.listen_port}.pid" if workers.ari_mode == "outbound" else "worker.pid"
    return settings.data_dir / "run" / name


def notify_systemd(message: str) -> None:
    """sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET (absent outside systemd)."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError as exc:
        logger.debug("systemd notification failed: %s", exc)


async def hand_over_orphans(settings: Settings) -> None:
    """Callers a dead worker left in Stasis go to the dialplan fallback (best effort, bounded)."""
    ari = AriClient(ari_config(settings))
    try:
        await asyncio.wait_for(hand_over(ari, settings.ivr.app_name), timeout=10)
    except Exception as exc:  # Asterisk down too: its callers are gone with it
        logger.warning("calls left by the worker not handed on: %s", exc)
    finally:
        await ari.close()


class Supervisor:
    """Starts the worker, restarts it when it dies, stops it on SIGTERM/SIGINT."""

    def __init__(
        self,
        settings: Settings,
        command: Sequence[str],
        policy: RestartPolicy | None = None,
        on_death: Callable[[Settings], Awaitable[None]] = hand_over_orphans,
        *,
        watchdog_s: float | None = None,
        stop_timeout_s: float = STOP_TIMEOUT_S,
        death_note: str = "handing its callers to the dialplan fallback",
    ) -> None:
        self.settings = settings
        self.command = list(command)
        self.policy = policy or RestartPolicy()
        self.on_death = on_death  # what a dead worker's callers need before anything else
        self.death_note = death_note  # what happens to them, for the log line
        # A ready worker whose event loop sends no heartbeat this long is hung (stopped, deadlocked): it is
        # killed, which closes its calls' sockets and connections (None: no watchdog).
        self.watchdog_s = watchdog_s
        self.stop_timeout_s = stop_timeout_s
        self.stop = asyncio.Event()
        self.restarts = 0
        self.hung = 0  # workers killed by the watchdog

    async def run(self) -> int:
        """Until stopped: the worker's exit status when it stopped on request, else why we gave up."""
        failures = unready = 0
        announced = False
        while not self.stop.is_set():
            started = time.monotonic()
            proc, pipe = await self._spawn()
            ready = asyncio.ensure_future(pipe.ready())
            stopper = asyncio.create_task(self.stop.wait())
            exited = asyncio.create_task(proc.wait())
            waiting: set[asyncio.Future] = {stopper, exited, ready}
            watch: asyncio.Future | None = None
            while exited in waiting and stopper in waiting:
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                waiting -= done
                if ready in done and _said_ready(ready):
                    if not announced:
                        notify_systemd("READY=1\nSTATUS=answering calls")
                        announced = True
                    if self.watchdog_s is not None:
                        watch = asyncio.ensure_future(pipe.silent_for(self.watchdog_s))
                        waiting.add(watch)
                if watch is not None and watch in done:
                    logger.error(
                        "the hotline worker (pid %d) sent no heartbeat for %.1f s (hung): killed",
                        proc.pid,
                        self.watchdog_s,
                    )
                    self.hung += 1
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
            was_ready = _said_ready(ready)
            ready.cancel()
            if watch is not None:
                watch.cancel()
            pipe.close()
            if exited in waiting:  # asked to stop
                exited.cancel()
                return await self._stop_worker(proc)
            stopper.cancel()
            code = exited.result()
            if self.stop.is_set() or code in STOPPED_ON_REQUEST:  # e.g. Ctrl+C reached both processes
                worker_pid_file(self.settings).unlink(missing_ok=True)
                return 0
            failures, unready = self._count(started, was_ready, failures, unready)
            await self._died(code)
            if not was_ready and code == EXIT_CONFIG:
                logger.error("the hotline worker cannot start (see above): not restarting it")
                return EXIT_CONFIG
            if unready >= self.policy.max_unready:
                logger.error("the hotline worker died %d times before answering calls: giving up", unready)
                return 1
            delay = self.policy.delay(failures)
            notify_systemd(f"STATUS=worker died (exit {code}); restarting in {delay:.1f} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), delay)
            self.restarts += 1
        return 0

    def _count(self, started: float, was_ready: bool, failures: int, unready: int) -> tuple[int, int]:
        if time.monotonic() - started >= self.policy.stable_after_s:
            failures = 0
        return failures + 1, (0 if was_ready else unready + 1)

    async def _spawn(self) -> tuple[asyncio.subprocess.Process, WorkerPipe]:
        read_fd, write_fd = os.pipe()
        env = {**os.environ, READY_FD_ENV: str(write_fd), SUPERVISOR_ENV: str(os.getpid())}
        try:
            proc = await asyncio.create_subprocess_exec(*self.command, env=env, pass_fds=(write_fd,))
        finally:
            os.close(write_fd)
        pid_file = worker_pid_file(self.settings)
        pid_file.parent.mkdir(parents=True, exist_ok=True)
        pid_file.write_text(f"{proc.pid}\n")
        logger.info("hotline worker started (pid %d)", proc.pid)
        pipe = WorkerPipe(read_fd)
        await pipe.open()
        return proc, pipe

    async def _died(self, code: int) -> None:
        how = f"signal {-code}" if code < 0 else f"exit status {code}"
        logger.error("the hotline worker died (%s): %s", how, self.death_note)
        await self.on_death(self.settings)

    async def _stop_worker(self, proc: asyncio.subprocess.Process) -> int:
        notify_systemd("STOPPING=1")
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(proc.wait(), self.stop_timeout_s)
        except TimeoutError:
            logger.error("the hotline worker did not stop in %.0f s: killed", self.stop_timeout_s)
            proc.kill()
            code = await proc.wait()
            await self.on_death(self.settings)
        worker_pid_file(self.settings).unlink(missing_ok=True)
        return 0 if code in (0, -signal.SIGTERM) else code


def _said_ready(ready: asyncio.Future[bool]) -> bool:
    return ready.done() and not ready.cancelled() and ready.exception() is None and ready.result()


class WorkerPipe:
    """The worker's end of a pipe: one byte when it answers calls, then (with a watchdog) a heartbeat."""

    def __init__(self, read_fd: int) -> None:
        self.read_fd = read_fd
        self.reader = asyncio.StreamReader()
        self.transport: asyncio.ReadTransport | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        pipe = os.fdopen(self.read_fd, "rb", buffering=0)
        self.transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(self.reader), pipe
        )

    async def ready(self) -> bool:
        """True once the worker wrote to the pipe; False when it closed it unready (died)."""
        return bool(await self.reader.read(1))

    async def silent_for(self, limit_s: float) -> None:
        """Returns once no heartbeat came for `limit_s`; never while beats come or after the pipe closed
        (a worker that exits closes it: its exit is watched, not its silence)."""
        while True:
            try:
                data = await asyncio.wait_for(self.reader.read(4096), limit_s)
            except TimeoutError:
                return
            if not data:
                await asyncio.Event().wait()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def call_worker_command(settings: Settings, *, verbose: bool) -> list[str]:
    """A supervised call worker's command line (`hotline worker --child`)."""
    command = [sys.executable, "-m", "hotline", "--config", str(settings.config_file)]
    if verbose:
        command.append("--verbose")
    return [*command, "worker", "--child"]


def worker_command(settings: Settings, *, web: bool, verbose: bool) -> list[str]:
    """The worker's command line: this Python, the same config file (the environment is inherited)."""
    command = [sys.executable, "-m", "hotline", "--config", str(settings.config_file)]
    if verbose:
        command.append("--verbose")
    return [*command, "run", "--worker", "--web" if web else "--no-web"]


def tell_supervisor_ready(heartbeat_s: float | None = None) -> None:
    """In the worker: calls are answered now. Without `heartbeat_s` the pipe is closed; with it, the
    event loop writes a byte that often (the supervisor's watchdog kills a worker whose loop is stuck)."""
    fd = os.environ.pop(READY_FD_ENV, "")
    if not fd.isdigit():
        return
    out = int(fd)
    try:
        os.write(out, b"1")
    except OSError:
        return
    if heartbeat_s is None:
        with contextlib.suppress(OSError):
            os.close(out)
        return
    os.set_blocking(out, False)
    loop = asyncio.get_running_loop()

    def beat() -> None:
        try:
            os.write(out, b".")
        except BlockingIOError:
            pass  # the supervisor has not read the last beats yet: the pipe holds enough of them
        except OSError:
            return  # the supervisor is gone
        loop.call_later(heartbeat_s, beat)

    loop.call_later(heartbeat_s, beat)


def die_with_supervisor() -> None:
    """In the worker: stop (SIGTERM) if the supervisor is killed, so no second worker ever runs beside
    the next supervisor's. Linux prctl(PR_SET_PDEATHSIG); elsewhere the worker just outlives it."""
    expected = os.environ.get(SUPERVISOR_ENV, "")
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError) as exc:
        logger.debug("parent-death signal unavailable: %s", exc)
    if expected and str(os.getppid()) != expected:  # the supervisor died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)
