"""Several call workers behind HAProxy (ARI outbound, per-call WebSockets), as a province runs them: real
Asterisk, real HAProxy, real `hotline worker` processes (each a supervisor and its worker) on one
PostgreSQL, real SIP callers.

Two Asterisk instances (distinct system names, so their channel ids never collide), one HAProxy and three
workers (the third for the first test only); the first worker shares Asterisk A's data directory, as the
worker on the Asterisk machine does. The tests run in order, each starting from what the previous one
left: spread (calls from both Asterisks), kill -9 (the supervisor restarts the worker, which closes its
own dead call), the restarted worker takes calls, drain (one worker left), SIGSTOP (the watchdog), no
worker at all, a message left meanwhile becomes one ticket."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.ivr.conftest import CATALOG, free_rtp_range, loopback_env
from tests.support import fallback_message_script, free_port, silence_after

ROOT = Path(__file__).resolve().parents[1]
# The command as `python -m hotline` from the checkout: the code under test, whatever is installed.
HOTLINE = [sys.executable, "-m", "hotline"]
READY = "The call worker is taking calls"

pytestmark = [pytest.mark.slow, pytest.mark.asterisk]


def _wait_for(what: str, check, limit_s: float = 30.0, every_s: float = 0.1):
    deadline = time.monotonic() + limit_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every_s)


class Worker:
    """One `hotline worker` process with its own data directory and listen port."""

    def __init__(self, name: str, base_env: dict[str, str], data: Path, port: int) -> None:
        self.name = name
        self.port = port
        media = free_rtp_range(40)
        self.env = {
            **base_env,
            "HOTLINE_PATHS__DATA_DIR": str(data / "var"),
            "HOTLINE_PATHS__CACHE_DIR": base_env["HOTLINE_PATHS__CACHE_DIR"],  # rendered prompts shared
            "HOTLINE_IVR__WORKERS__LISTEN_PORT": str(port),
            "HOTLINE_IVR__MEDIA__PORT_START": str(media[0]),
            "HOTLINE_IVR__MEDIA__PORT_END": str(media[1]),
        }
        self.data = data
        self.log = data / "worker.log"
        self.proc: subprocess.Popen | None = None
        self.mark = 0

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.mark = len(self.output())  # this run's output starts here (the log is appended to)
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [*HOTLINE, "worker"], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
        )
        out.close()

    def wait_ready(self, limit_s: float = 180.0) -> None:
        def ready() -> bool:
            assert self.proc is not None and self.proc.poll() is None, self.output()[-3000:]
            return READY in self.output()[self.mark :]

        _wait_for(f"worker {self.name} ready", ready, limit_s, 0.2)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def health(self) -> dict:
        resp = httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5)
        return {**resp.json(), "http": resp.status_code}

    def child(self) -> int:
        """The pid of the call worker process its supervisor runs now."""
        return int((self.data / "var" / "run" / f"worker-{self.port}.pid").read_text())

    def signal_child(self, sig: int) -> None:
        os.kill(self.child(), sig)

    def stop(self) -> None:
        """Down at once: the supervisor (so nothing restarts), then its worker."""
        if self.proc is None or self.proc.poll() is not None:
            return
        child = self.child()
        self.proc.kill()
        self.proc.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)


class Province:
    def __init__(
        self,
        env: dict[str, str],
        handle,
        haproxy: subprocess.Popen,
        workers: list[Worker],
        *,
        env_b: dict[str, str],
        db_url: str,
    ) -> None:
        self.env = env
        self.handle = handle
        self.haproxy = haproxy
        self.workers = workers
        self.env_b = env_b  # the second Asterisk's (its SIP port): a caller through it
        self.db_url = db_url
        self.third: Worker | None = None

    def call(self, heard: Path, wait: float, *, via_b: bool = False) -> subprocess.Popen:
        """A caller who listens `wait` seconds after the answer, recording what it hears (JSON on stdout)."""
        return subprocess.Popen(
            [*HOTLINE, "call", "--wait", str(wait), "--record", str(heard), "--log-wait", "0", "--json"],
            cwd=ROOT,
            env=self.env_b if via_b else self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def fallback_lines(self) -> list[str]:
        log = self.handle.log_file.read_text(errors="replace")
        return [line for line in log.splitlines() if "hotline-fallback: application" in line]

    def calls_in_store(self) -> list[dict]:
        done = subprocess.run(
            [*HOTLINE, "calls", "list", "--json"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)

    def call_rows(self) -> list[dict]:
        """Every call row as stored (channel id, worker, outcome, ended or not)."""
        import sqlalchemy as sa

        engine = sa.create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT channel_id, worker, outcome, ended_at FROM calls"))
                return [dict(r._mapping) for r in rows]
        finally:
            engine.dispose()

    def wait_backend_up(self, worker: Worker) -> None:
        """Until HAProxy's health check has seen the worker ready (its /healthz answered 200)."""
        _wait_for(f"worker {worker.name} ready", lambda: worker.health()["http"] == 200, 20)
        time.sleep(1.2)  # one health-check interval: HAProxy has marked it up


def _answered(call: subprocess.Popen) -> dict:
    out, _ = call.communicate(timeout=90)
    result = json.loads(out)
    assert result["connected"], result
    return result


@pytest.fixture(scope="module")
def province(tmp_path_factory, postgres):
    from asterisk.process import start
    from hotline.settings import load_settings

    if shutil.which("haproxy") is None:
        pytest.fail("haproxy is not installed (make setup installs it)", pytrace=False)
    data = tmp_path_factory.mktemp("province")
    ports = [free_port(socket.SOCK_STREAM) for _ in range(3)]
    db_url = postgres.create_database(template=postgres.migrated())
    env = {
        **loopback_env(data),
        "HOTLINE_IVR__ASTERISK__SYSTEM_NAME": "hotline_a",
        "HOTLINE_DATABASE__URL": db_url,
        "HOTLINE_IVR__WORKERS__ARI_MODE": "outbound",
        "HOTLINE_IVR__WORKERS__FRONT_PORT": str(free_port(socket.SOCK_STREAM)),
        "HOTLINE_IVR__WORKERS__BACKENDS": json.dumps([f"127.0.0.1:{p}" for p in ports]),
        "HOTLINE_IVR__WORKERS__HEALTH_INTERVAL_MS": "500",
        "HOTLINE_IVR__WORKERS__WATCHDOG_SECONDS": "2",
        "HOTLINE_IVR__WORKERS__SECRETS_FILE": str(data / "var" / "asterisk" / "secrets.json"),
        "HOTLINE_INTENTS__CATALOG_DIR": str(CATALOG),
        "HOTLINE_IVR__FLOW__RECORDING_NOTICE": "false",
        "HOTLINE_IVR__FLOW__RATING": "false",
    }
    # A second Asterisk instance (another data directory, SIP port, RTP range and system name) sending its
    # calls to the same HAProxy front with the same worker password (the shared secrets file).
    rtp_b = free_rtp_range(200)
    env_b = {
        **env,
        "HOTLINE_PATHS__DATA_DIR": str(data / "var_b"),
        "HOTLINE_IVR__ASTERISK__SYSTEM_NAME": "hotline_b",
        "HOTLINE_IVR__ASTERISK__SIP_PORT": str(free_port(socket.SOCK_DGRAM)),
        "HOTLINE_IVR__ASTERISK__HTTP_PORT": str(free_port(socket.SOCK_STREAM)),
        "HOTLINE_IVR__ASTERISK__RTP_PORT_START": str(rtp_b[0]),
        "HOTLINE_IVR__ASTERISK__RTP_PORT_END": str(rtp_b[1]),
    }
    settings = load_settings(ROOT / "config" / "hotline.yaml", env=env)
    handle = start(settings)
    handle_b = None
    haproxy = None
    # The first worker shares Asterisk A's data directory (the worker on the Asterisk machine).
    workers = [
        Worker(f"w{n}", env, data if n == 1 else data / f"worker{n}", port) for n, port in enumerate(ports, 1)
    ]
    try:
        cfg = data / "haproxy.cfg"
        done = subprocess.run(
            [*HOTLINE, "haproxy-config", "--out", str(cfg)], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        haproxy = subprocess.Popen(
            ["haproxy", "-db", "-f", str(cfg)],
            stdout=subprocess.DEVNULL,
            stderr=(data / "haproxy.log").open("wb"),
        )
        for worker in workers:
            worker.start()
        handle_b = start(load_settings(ROOT / "config" / "hotline.yaml", env=env_b))  # while they load
        for worker in workers:
            worker.wait_ready()
        # The third worker serves the first test only; the later ones count on two.
        province = Province(env, handle, haproxy, workers[:2], env_b=env_b, db_url=db_url)
        province.third = workers[2]
        for worker in workers:
            province.wait_backend_up(worker)
        yield province
    finally:
        for worker in workers:
            worker.stop()
        if haproxy is not None:
            haproxy.terminate()
            haproxy.wait(10)
        for h in (handle, handle_b):
            if h is None:
                continue
            h.stop()
            if h.layout is not None and h.layout.root != Path("/"):
                shutil.rmtree(h.layout.host_inst, ignore_errors=True)
        postgres.drop_database(db_url)


def test_calls_from_two_asterisks_spread_over_workers_none_handled_twice(province, tmp_path):
    three = [*province.workers, province.third]
    callers = [province.call(tmp_path / f"heard{n}.wav", wait=3, via_b=n == 1) for n in range(3)]
    for n, caller in enumerate(callers):
        _answered(caller)
        assert (tmp_path / f"heard{n}.wav").stat().st_size > 8000  # the greeting was heard
    served = [w.health()["served"] for w in three]
    assert served == [1, 1, 1], served
    _wait_for(
        "the calls stored", lambda: len([c for c in province.calls_in_store() if c.get("ended_at")]) == 3
    )
    assert len(province.calls_in_store()) == 3  # one row per call: none handled twice
    rows = province.call_rows()
    # Calls from both Asterisks (their system names prefix the channel ids), one on each worker.
    prefixes = sorted(r["channel_id"].split("-")[0] for r in rows)
    assert prefixes == ["hotline_a", "hotline_a", "hotline_b"], rows
    names = {f"{socket.gethostname()}:{w.port}" for w in three}
    assert {r["worker"] for r in rows} == names, rows
    assert province.fallback_lines() == []
    # Each worker's /metrics (loopback) counts its call.
    for worker in three:
        text = httpx.get(f"http://127.0.0.1:{worker.port}/metrics", timeout=5).text
        assert "hotline_worker_calls_served_total 1" in text and "hotline_worker_calls_running 0" in text
    # The third worker leaves (drained: Asterisk closes the ended calls' sockets first); two go on.
    province.third.proc.send_signal(signal.SIGTERM)
    assert province.third.proc.wait(30) == 0, province.third.output()[-2000:]
    assert "(0 calls still on)" in province.third.output()
    time.sleep(1.2)  # HAProxy's checks have marked it down


def _fallback_channels(province: Province) -> set[str]:
    return {line.split("channel=")[1].split()[0] for line in province.fallback_lines() if "channel=" in line}


def test_killed_worker_sends_its_caller_to_the_fallback_and_the_other_call_goes_on(province, tmp_path):
    before = _fallback_channels(province)
    served = province.workers[1].health()["served"]
    heard = [tmp_path / f"heard{n}.wav" for n in range(2)]
    callers = [province.call(h, wait=7) for h in heard]
    _wait_for("a call on each worker", lambda: [w.health()["active"] for w in province.workers] == [1, 1], 30)
    time.sleep(1.0)  # into the greeting
    doomed, survivor = province.workers
    doomed.signal_child(signal.SIGKILL)
    killed = time.time()
    results = [_answered(c) for c in callers]
    handed = _fallback_channels(province) - before
    assert len(handed) == 1, (
        province.fallback_lines()
    )  # one caller, the killed worker's, went to the fallback
    assert survivor.health()["orphans"] == 1  # handed on by the other worker (Asterisk reconnected there)
    silences = [
        silence_after(wav, killed - r["recording_started_at"]) for r, wav in zip(results, heard, strict=True)
    ]
    print(f"silence after kill -9, per caller: {silences} s")  # the README's figure (pytest -s)
    assert max(silences) < 3.0, f"a caller heard {max(silences):.1f} s of silence after the worker died"
    # The other call went on to its end on its worker: not handed to the fallback, stored as ended.
    assert survivor.health()["served"] == served + 1
    assert "the hotline worker died (signal 9)" in doomed.output()  # its supervisor restarts it


def test_the_killed_workers_supervisor_restarts_it_and_it_takes_new_calls(province, tmp_path):
    restarted, _ = province.workers  # killed in the previous test: its supervisor started a new one
    _wait_for("the restarted worker", lambda: restarted.output().count(READY) == 2, 120, 0.2)
    # At its start (seconds after the kill, while the other worker's call still ran) it closed the call its
    # killed predecessor left open, and only that one: the other call ended as it should.
    _wait_for("every call closed", lambda: all(r["ended_at"] for r in province.call_rows()), 15)
    rows = province.call_rows()
    interrupted = [r for r in rows if r["outcome"] == "interrupted"]
    assert [r["worker"] for r in interrupted] == [f"{socket.gethostname()}:{restarted.port}"], rows
    province.wait_backend_up(restarted)
    before = _fallback_channels(province)
    callers = [province.call(tmp_path / f"heard{n}.wav", wait=2) for n in range(2)]
    for caller in callers:
        _answered(caller)
    assert restarted.health()["served"] == 1  # one of the two calls at once went to the new process
    assert _fallback_channels(province) == before


def test_draining_worker_finishes_its_call_and_takes_no_new_one(province, tmp_path):
    served = [w.health()["served"] for w in province.workers]
    orphans = sum(w.health()["orphans"] for w in province.workers)
    first = province.call(tmp_path / "first.wav", wait=6)
    busy = _wait_for(
        "the call on a worker", lambda: next((w for w in province.workers if w.health()["active"]), None)
    )
    other = next(w for w in province.workers if w is not busy)
    busy.proc.send_signal(signal.SIGTERM)  # as `systemctl stop` does: the supervisor drains its worker
    _wait_for("draining", lambda: busy.health()["status"] == "draining", 5)
    time.sleep(1.2)  # HAProxy's checks see the 503 (a connection meanwhile is retried elsewhere anyway)
    assert busy.health()["served"] == served[province.workers.index(busy)] + 1  # the first call only
    second = _answered(province.call(tmp_path / "second.wav", wait=2))
    assert second["connected"]
    assert other.health()["served"] == served[province.workers.index(other)] + 1  # the new call went there
    heard = _answered(first)
    assert heard["connected"]
    assert busy.proc.wait(30) == 0, busy.output()[-2000:]  # ended by itself once its call was over
    assert silence_after(tmp_path / "first.wav", 1.0) < 3.0  # the call was not cut
    assert "(0 calls still on)" in busy.output()
    assert other.health()["orphans"] == orphans  # nothing of the drained worker was left to hand on


def test_a_hung_worker_is_killed_by_its_watchdog_and_its_caller_gets_the_fallback(province, tmp_path):
    """SIGSTOP: the socket stays open and Asterisk notices nothing; the supervisor's watchdog does."""
    (worker,) = [w for w in province.workers if w.proc.poll() is None]  # the other one was drained
    before = _fallback_channels(province)
    heard = tmp_path / "heard.wav"
    caller = province.call(heard, wait=8)
    _wait_for("the call on the worker", lambda: worker.health()["active"] == 1)
    time.sleep(1.0)  # into the greeting
    hung = worker.child()
    os.kill(hung, signal.SIGSTOP)
    stopped = time.time()
    result = _answered(caller)
    silence = silence_after(heard, stopped - result["recording_started_at"])
    print(f"silence after SIGSTOP (watchdog 2 s): {silence} s")
    assert "sent no heartbeat" in worker.output() and f"(pid {hung})" in worker.output()
    handed = _fallback_channels(province) - before
    assert len(handed) == 1, province.fallback_lines()  # no other worker up: Asterisk's own fallback
    assert silence < 2.0 + 3.0  # the watchdog's limit, then at most 3 s as for a dead worker


def test_all_workers_down_callers_get_the_fallback(province, tmp_path):
    for worker in province.workers:
        worker.stop()
    before = len(province.fallback_lines())
    heard = tmp_path / "heard.wav"
    result = _answered(province.call(heard, wait=3))
    lines = province.fallback_lines()[before:]
    assert lines and all("STASISSTATUS=FAILED" in line for line in lines), lines
    silence = silence_after(heard, 0.0)
    print(f"silence before the apology with no worker up: {silence} s")
    assert silence < 3.0  # the apology, not dead air
    assert result["connected"]


def test_a_message_left_while_no_worker_answers_becomes_one_ticket(province, tmp_path):
    """The dialplan records a message while no worker is up; the worker on the Asterisk machine (it shares
    Asterisk's data directory) imports it once it starts, as a ticket, and empties the spool."""
    import sqlalchemy as sa

    from sip.caller import call
    from sip.script import CallTarget

    assert all(w.proc.poll() is not None for w in province.workers)  # all down (the previous test)
    messages = province.handle.messages_dir
    script = fallback_message_script()
    result = call(CallTarget.from_handle(province.handle), script, record=tmp_path / "heard.wav", timeout=90)
    assert result.connected, result.summary()
    _wait_for("the message in Asterisk's spool", lambda: list(messages.glob("*.wav")), 10)
    on_asterisk_machine = province.workers[0]
    on_asterisk_machine.start()

    def message_tickets() -> list:
        engine = sa.create_engine(province.db_url)
        try:
            with engine.connect() as conn:
                query = "SELECT number, caller FROM tickets WHERE reason = 'message'"
                return [tuple(r) for r in conn.execute(sa.text(query))]
        finally:
            engine.dispose()

    tickets = _wait_for("the message imported", message_tickets, 60, 0.5)
    assert len(tickets) == 1 and tickets[0][1] == "caller", tickets  # the caller the dialplan noted
    assert not list(messages.glob("*.wav")) and not list(messages.glob("*.caller"))
    time.sleep(1.0)
    assert len(message_tickets()) == 1  # imported once
