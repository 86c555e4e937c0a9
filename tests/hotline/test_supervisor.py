"""The supervisor of `hotline run` with real worker processes (small Python scripts standing in for the
hotline worker): restarted when killed, the dead worker's callers handed on first, given up on a bad
config, stopped on request, readiness told to systemd."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time

import pytest

from hotline.settings import load_settings
from hotline.supervisor import RestartPolicy, Supervisor, worker_pid_file
from tests.support import until

READY_WORKER = """
import os, time
fd = int(os.environ["SUPERVISED_READY_FD"])
os.write(fd, b"1"); os.close(fd)
time.sleep(60)
"""
FAST = RestartPolicy(delays_s=(0.05,), stable_after_s=60, max_unready=3)


@pytest.fixture
def settings(tmp_path):
    env = {**os.environ, "HOTLINE_PATHS__DATA_DIR": str(tmp_path / "var")}
    return load_settings(None, env=env)


def supervisor(settings, script: str, deaths: list) -> Supervisor:
    async def on_death(_settings) -> None:
        deaths.append(time.monotonic())

    return Supervisor(settings, [sys.executable, "-c", script], FAST, on_death=on_death)


async def _worker_pid(settings, other_than: int = 0) -> int:
    path = worker_pid_file(settings)
    await until(lambda: path.exists() and int(path.read_text() or 0) not in (0, other_than), 10)
    return int(path.read_text())


async def test_a_killed_worker_is_replaced_after_its_callers_are_handed_on(settings):
    deaths: list[float] = []
    sup = supervisor(settings, READY_WORKER, deaths)
    running = asyncio.create_task(sup.run())
    first = await _worker_pid(settings)
    await asyncio.sleep(0.3)
    os.kill(first, signal.SIGKILL)
    killed = time.monotonic()
    second = await _worker_pid(settings, other_than=first)
    assert second != first and sup.restarts == 1
    assert len(deaths) == 1 and deaths[0] - killed < 2.0  # handed on at once, before the restart
    sup.stop.set()
    assert await asyncio.wait_for(running, 30) == 0
    assert not worker_pid_file(settings).exists()
    with pytest.raises(ProcessLookupError):
        os.kill(second, 0)  # stopped with the supervisor


async def test_a_worker_with_a_bad_config_is_not_restarted(settings):
    deaths: list[float] = []
    sup = supervisor(settings, "import sys; sys.exit(2)", deaths)
    assert await asyncio.wait_for(sup.run(), 30) == 2
    assert sup.restarts == 0 and len(deaths) == 1


async def test_a_worker_that_keeps_dying_before_it_is_ready_is_given_up(settings):
    deaths: list[float] = []
    sup = supervisor(settings, "import sys; sys.exit(1)", deaths)
    assert await asyncio.wait_for(sup.run(), 30) == 1
    assert len(deaths) == FAST.max_unready and sup.restarts == FAST.max_unready - 1


async def test_a_worker_stopped_by_ctrl_c_stops_the_supervisor_too(settings):
    sup = supervisor(settings, "import sys; sys.exit(130)", [])
    assert await asyncio.wait_for(sup.run(), 30) == 0
    assert sup.restarts == 0


async def test_systemd_hears_ready_once_the_worker_answers_calls(settings, tmp_path, monkeypatch):
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.setblocking(False)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        sup = supervisor(settings, READY_WORKER, [])
        running = asyncio.create_task(sup.run())
        loop = asyncio.get_running_loop()
        message = await asyncio.wait_for(loop.sock_recv(sock, 1024), 20)
        assert message.startswith(b"READY=1")
        sup.stop.set()
        assert await asyncio.wait_for(running, 30) == 0
        assert await asyncio.wait_for(loop.sock_recv(sock, 1024), 5) == b"STOPPING=1"


def test_the_back_off_grows_and_resets():
    policy = RestartPolicy(delays_s=(0.2, 1.0, 5.0))
    assert [policy.delay(n) for n in (1, 2, 3, 9)] == [0.2, 1.0, 5.0, 5.0]


BEATING_WORKER = """
import os, time
fd = int(os.environ["SUPERVISED_READY_FD"])
os.write(fd, b"1")
while True:
    time.sleep(0.1)
    os.write(fd, b".")
"""


async def test_the_watchdog_kills_a_worker_whose_heartbeat_stops_and_a_beating_one_lives(settings):
    deaths: list[float] = []
    sup = Supervisor(
        settings, [sys.executable, "-c", BEATING_WORKER], FAST, on_death=_record(deaths), watchdog_s=0.6
    )
    running = asyncio.create_task(sup.run())
    first = await _worker_pid(settings)
    await asyncio.sleep(1.5)  # beating: more than twice the watchdog's limit, not killed
    assert sup.hung == 0 and not deaths
    os.kill(first, signal.SIGSTOP)  # hung: alive, silent
    stopped = time.monotonic()
    second = await _worker_pid(settings, other_than=first)
    assert sup.hung == 1 and len(deaths) == 1 and deaths[0] - stopped < 0.6 + 1.0
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)  # killed (SIGKILL reaches a stopped process), then reaped
    assert second != first
    sup.stop.set()
    assert await asyncio.wait_for(running, 30) == 0


def _record(deaths: list[float]):
    async def on_death(_settings) -> None:
        deaths.append(time.monotonic())

    return on_death
