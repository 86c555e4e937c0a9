"""Calls per machine with 1, 2 and 3 call workers behind HAProxy, and what a worker killed mid-run costs.

Everything real, on this one machine: PostgreSQL (a throw-away cluster, as the tests start it), Asterisk in
outbound mode (one WebSocket per call), HAProxy rendered by the product, `hotline worker` processes (each a
supervisor and its worker) and real pjsua2 SIP callers saying a real Vietnamese recording. For each number
of workers, N calls at once (starts spread over `STAGGER_S`), as `bench.ivr` places them; the highest level
whose p95 stays within the turn-taking target is that configuration's "calls per machine".

The kill run: rounds of calls at the highest level the sweep sustained with `KILL_WORKERS` workers (and
at `KILL_LEVEL` too, if that is higher); in each kill round one worker
(alternately) is sent SIGKILL `KILL_AFTER_S` after the round's last call reached a worker, while its
callers are in the greeting, speaking or waiting for their answer. Each call is then one of:

- **answered**: the caller heard an answer to its question (its end of speech -> first answer audio is
  measured) and was not handed to the fallback;
- **handed to the fallback**: Asterisk's dialplan fallback took it (its log names the call's SIP Call-ID)
  and the caller heard the fallback's apology less than `DEAD_AIR_S` after the kill;
- **failed**: anything else: not connected, hung up without an answer or the apology, or the apology only
  after `DEAD_AIR_S` or more of silence (dead air).

Steady rounds (no kill) at the same level give the latency to compare the surviving calls with. All
workers share this machine's cores: more workers on one machine measure isolation and overhead, not more
capacity.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.ivr import CLIP, EXPECTED, question_script
from bench.stats import loadavg, pct, proc_cpu_s

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "tests" / "fixtures" / "ivr" / "intents"
HOTLINE = [sys.executable, "-m", "hotline"]
READY = "The call worker is taking calls"

WORKER_COUNTS = (1, 2, 3)
LEVELS = (5, 10, 20)
STAGGER_S = 4.0  # call starts spread over this many seconds, as in bench.ivr
TARGET_P95_S = 0.80  # the turn-taking target at 20 calls: end of speech -> first answer audio
KILL_WORKERS = 2
KILL_LEVEL = 20  # the level; the run uses the highest level the sweep found sustainable, up to it
KILL_CALLS = 100  # calls placed in kill rounds in all (rounds of the chosen level, at most MAX_KILL_ROUNDS)
MAX_KILL_ROUNDS = 6
STEADY_ROUNDS = 1  # besides the sweep's own round at KILL_LEVEL with KILL_WORKERS workers
KILL_AFTER_S = (
    1.0  # after the round's last call reached a worker: the first callers speaking, the last greeted
)
DEAD_AIR_S = 3.0  # silence after the kill beyond this is dead air (the "fallback within 3 s")


# --- What one call came to (pure: tested without Asterisk) -------------------------------------------


@dataclass
class CallOutcome:
    connected: bool
    sip_call_id: str
    latency_s: float | None  # the caller's end of speech -> first answer audio, if it heard one
    correct: bool  # the call log has the expected intent for its first spoken turn
    fallback: bool  # Asterisk's dialplan fallback took the call
    dead_air_s: float | None  # silence heard after the kill (fallback calls of a kill round)
    error: str = ""

    @property
    def kind(self) -> str:
        """answered | fallback | failed (see the module's docstring)."""
        if not self.connected:
            return "failed"
        if self.fallback:
            ok = self.dead_air_s is not None and self.dead_air_s < DEAD_AIR_S
            return "fallback" if ok else "failed"
        return "answered" if self.latency_s is not None else "failed"


def fallback_call_ids(asterisk_log: str) -> set[str]:
    """SIP Call-IDs of calls the dialplan fallback took (the application unavailable or not serving)."""
    ids = set()
    for line in asterisk_log.splitlines():
        if "hotline-fallback: application" in line and "call-id=" in line:
            ids.add(line.split("call-id=", 1)[1].split()[0])
    return ids


def upper_95(failed: int, calls: int) -> float | None:
    """Wilson score upper bound (95 %) of a share seen as failed/calls: what "0 of 100" can claim."""
    if not calls:
        return None
    z = 1.96
    p = failed / calls
    centre = p + z * z / (2 * calls)
    spread = z * math.sqrt(p * (1 - p) / calls + z * z / (4 * calls * calls))
    return round((centre + spread) / (1 + z * z / calls), 4)


def summarize(outcomes: list[CallOutcome]) -> dict[str, Any]:
    """Shares by kind, and the latency of the answered calls (the fallback's and failures' excluded)."""
    n = len(outcomes)
    kinds = [o.kind for o in outcomes]
    heard = [o.latency_s for o in outcomes if o.kind == "answered" and o.latency_s is not None]
    dead = [o.dead_air_s for o in outcomes if o.fallback and o.dead_air_s is not None]
    return {
        "calls": n,
        "answered": kinds.count("answered"),
        "handed_to_fallback": kinds.count("fallback"),
        "failed": kinds.count("failed"),
        "failed_share": round(kinds.count("failed") / n, 4) if n else None,
        "failed_share_upper_95": upper_95(kinds.count("failed"), n),
        "answered_correctly_share": round(sum(o.correct for o in outcomes) / n, 3) if n else None,
        "latency_p50_s": pct(heard, 0.5),
        "latency_p95_s": pct(heard, 0.95),
        "fallback_dead_air_max_s": max(dead) if dead else None,
        "errors": sorted({o.error for o in outcomes if o.error})[:3],
    }


def calls_per_machine(levels: dict[str, dict[str, Any]], target_s: float = TARGET_P95_S) -> int:
    """The highest level whose p95 is within the target with nothing failed and every call answered
    correctly, tried in increasing order (0 when none is)."""
    best = 0
    for level in sorted(levels, key=int):
        row = levels[level]
        p95 = row.get("latency_p95_s")
        if p95 is None or p95 > target_s or row.get("failed") or row.get("answered_correctly_share") != 1.0:
            break
        best = int(level)
    return best


# --- The machinery: PostgreSQL, Asterisk, HAProxy, workers --------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(what: str, check, limit_s: float, every_s: float = 0.2):
    deadline = time.monotonic() + limit_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(every_s)


class Worker:
    """One `hotline worker` (supervisor and worker) with its own data directory, port and media ports."""

    def __init__(self, name: str, base_env: dict[str, str], data: Path, port: int) -> None:
        from tests.ivr.conftest import free_rtp_range

        media = free_rtp_range(100)
        self.name, self.port, self.data = name, port, data
        self.env = {
            **base_env,
            "HOTLINE_PATHS__DATA_DIR": str(data / "var"),
            "HOTLINE_IVR__WORKERS__LISTEN_PORT": str(port),
            "HOTLINE_IVR__MEDIA__PORT_START": str(media[0]),
            "HOTLINE_IVR__MEDIA__PORT_END": str(media[1]),
        }
        self.log = data / "worker.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*HOTLINE, "worker"], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def readies(self) -> int:
        return self.log.read_text(errors="replace").count(READY) if self.log.exists() else 0

    def wait_ready(self, count: int = 1, limit_s: float = 300.0) -> None:
        def ready() -> bool:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(
                    f"worker {self.name} exited: {self.log.read_text(errors='replace')[-2000:]}"
                )
            return self.readies() >= count

        _wait_for(f"worker {self.name} ready", ready, limit_s)

    def health(self) -> dict[str, Any]:
        try:
            resp = httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5)
        except httpx.HTTPError:
            return {"http": 0}
        return {**resp.json(), "http": resp.status_code}

    def child(self) -> int:
        return int((self.data / "var" / "run" / "worker.pid").read_text())

    def cpu_s(self) -> float:
        own = proc_cpu_s(self.proc.pid) if self.proc is not None else 0.0
        with contextlib.suppress(OSError, ValueError):
            own += proc_cpu_s(self.child())
        return own

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        child = None
        with contextlib.suppress(OSError, ValueError):
            child = self.child()
        self.proc.kill()
        self.proc.wait(10)
        if child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)


@dataclass
class Province:
    env: dict[str, str]
    handle: Any  # asterisk.process.AsteriskHandle
    data: Path
    db_url: str
    workers: list[Worker] = field(default_factory=list)
    haproxy: subprocess.Popen[bytes] | None = None
    ports: list[int] = field(default_factory=list)

    def use_workers(self, n: int) -> None:
        """HAProxy rendered for the first `n` workers (started here if need be), each seen up by it."""
        from hotline.haproxy import haproxy_config
        from hotline.settings import load_settings

        while len(self.workers) < n:
            k = len(self.workers) + 1
            self.workers.append(Worker(f"w{k}", self.env, self.data / f"worker{k}", self.ports[k - 1]))
            self.workers[-1].start()
        for worker in self.workers[n:]:
            worker.stop()
        del self.workers[n:]
        for worker in self.workers:
            worker.wait_ready()
        env = {
            **self.env,
            "HOTLINE_IVR__WORKERS__BACKENDS": json.dumps([f"127.0.0.1:{p}" for p in self.ports[:n]]),
        }
        settings = load_settings(ROOT / "config" / "hotline.yaml", env=env)
        cfg = self.data / "haproxy.cfg"
        cfg.write_text(haproxy_config(settings.ivr.workers), encoding="utf-8")
        self.stop_haproxy()
        self.haproxy = subprocess.Popen(
            ["haproxy", "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for worker in self.workers:
            _wait_for(f"worker {worker.name} healthy", lambda w=worker: w.health()["http"] == 200, 30)
        time.sleep(1.5)  # more than one health-check interval: HAProxy has marked them up

    def stop_haproxy(self) -> None:
        if self.haproxy is not None and self.haproxy.poll() is None:
            self.haproxy.terminate()
            self.haproxy.wait(10)
        self.haproxy = None

    def asterisk_log(self) -> str:
        return Path(self.handle.log_file).read_text(errors="replace")

    def idle(self, limit_s: float = 60.0) -> None:
        """Until no worker has a call on (the previous round's are over)."""
        _wait_for("calls ended", lambda: all(w.health().get("active", 0) == 0 for w in self.workers), limit_s)


# --- One round of simultaneous calls --------------------------------------------------------------------


def _round(
    province: Province, calls: int, tag: str, stagger_s: float, kill: Worker | None = None
) -> tuple[list[CallOutcome], dict[str, Any]]:
    from sqlalchemy import select

    from core.db import engine_for, session_factory
    from hotline.settings import load_settings
    from ivr.models import Call
    from sip.caller import call
    from sip.script import CallTarget
    from tests.support import silence_after

    target = CallTarget.from_handle(province.handle)
    script = question_script()
    rec = province.data / "heard" / tag
    rec.mkdir(parents=True, exist_ok=True)
    killed: list[float] = []
    on_victim: list[int] = []

    def killer() -> None:
        # Once every caller of the round is on a worker (the callers' processes start slowly on a busy
        # machine: a fixed moment could find half of them still dialling), then KILL_AFTER_S more.
        assert kill is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if sum(w.health().get("active", 0) for w in province.workers) >= calls:
                break
            time.sleep(0.2)
        time.sleep(KILL_AFTER_S)
        on_victim.append(kill.health().get("active", 0))
        os.kill(kill.child(), signal.SIGKILL)
        killed.append(time.time())

    def one(i: int):
        time.sleep(stagger_s * i / max(1, calls - 1) if calls > 1 else 0.0)
        return call(target, script, record=rec / f"{i}.wav", timeout=180)

    servers = [*province.workers]
    cpu0 = sum(w.cpu_s() for w in servers) + proc_cpu_s(province.handle.pid or 0)
    t0 = time.monotonic()
    thread = threading.Thread(target=killer, daemon=True) if kill is not None else None
    if thread is not None:
        thread.start()
    with ThreadPoolExecutor(max_workers=calls) as pool:
        results = list(pool.map(one, range(calls)))
    wall = time.monotonic() - t0
    cpu = sum(w.cpu_s() for w in servers) + proc_cpu_s(province.handle.pid or 0) - cpu0
    if thread is not None:
        thread.join()
    time.sleep(1.0)  # the fallback's log lines are written
    taken = fallback_call_ids(province.asterisk_log())
    settings = load_settings(ROOT / "config" / "hotline.yaml", env=province.env)
    engine = engine_for(settings)
    outcomes = []
    try:
        with session_factory(engine)() as s:
            for r in results:
                row = (
                    s.scalars(select(Call).where(Call.channel_id == r.channel_id)).first()
                    if r.channel_id
                    else None
                )
                turns = [t for t in (row.turns if row else []) if t.kind == "speech"]
                fallback = bool(r.sip_call_id) and r.sip_call_id in taken
                dead = None
                if fallback and killed and r.recording:
                    dead = silence_after(r.recording, killed[0] - r.recording_started_at)
                outcomes.append(
                    CallOutcome(
                        connected=r.connected,
                        sip_call_id=r.sip_call_id,
                        latency_s=r.latencies[0] if r.latencies else None,
                        correct=bool(turns) and turns[0].intent == EXPECTED and not fallback,
                        fallback=fallback,
                        dead_air_s=dead,
                        error=r.error,
                    )
                )
    finally:
        engine.dispose()
    shutil.rmtree(rec, ignore_errors=True)
    # CPU of the killed worker's process is lost with it: reported for steady rounds only.
    info = {"wall_s": round(wall, 1), "load_after": loadavg()}
    if on_victim:
        info["calls_on_killed_worker"] = on_victim[0]
    if kill is None:
        info["cpu_server_cores"] = round(cpu / wall, 2)  # workers (supervisors too) + Asterisk
        info["cpu_server_s_per_call"] = round(cpu / calls, 2)
    return outcomes, info


def _start(tmp: Path) -> tuple[Province, Any, Any]:
    from asterisk.process import start
    from hotline.settings import load_settings
    from tests.ivr.conftest import loopback_env
    from tests.pg import start_cluster

    if shutil.which("haproxy") is None:
        raise RuntimeError("haproxy is not installed (make setup installs it)")
    cluster = start_cluster()
    db_url = cluster.create_database(template=cluster.migrated())
    ports = [_free_port() for _ in WORKER_COUNTS]
    env = {
        **loopback_env(tmp, rtp_ports=400),
        "HOTLINE_DATABASE__URL": db_url,
        "HOTLINE_IVR__WORKERS__ARI_MODE": "outbound",
        "HOTLINE_IVR__WORKERS__FRONT_PORT": str(_free_port()),
        "HOTLINE_IVR__WORKERS__BACKENDS": json.dumps([f"127.0.0.1:{p}" for p in ports]),
        "HOTLINE_IVR__WORKERS__HEALTH_INTERVAL_MS": "500",
        "HOTLINE_IVR__WORKERS__SECRETS_FILE": str(tmp / "var" / "asterisk" / "secrets.json"),
        "HOTLINE_INTENTS__CATALOG_DIR": str(CATALOG),
        "HOTLINE_IVR__FLOW__RECORDING_NOTICE": "false",
        "HOTLINE_IVR__FLOW__RATING": "false",
        "HOTLINE_IVR__MAX_RECOGNITIONS": "32",  # as bench.ivr: latency measured, not the keypad limit
    }
    handle = start(load_settings(ROOT / "config" / "hotline.yaml", env=env))
    return Province(env=env, handle=handle, data=tmp, db_url=db_url, ports=ports), cluster, handle


def _sweep(province: Province, levels: tuple[int, ...], stagger_s: float) -> dict[str, Any]:
    out: dict[str, Any] = {"load_before": loadavg(), "levels": {}}
    for level in levels:
        province.idle()
        outcomes, info = _round(province, level, f"n{len(province.workers)}-{level}", stagger_s)
        out["levels"][str(level)] = {**summarize(outcomes), **info}
        print(
            f"   {len(province.workers)} worker(s), {level} calls: {out['levels'][str(level)]}",
            file=sys.stderr,
        )
    out["calls_per_machine"] = calls_per_machine(out["levels"])
    return out


def _kill_run(
    province: Province, level: int, rounds: int, steady_rounds: int, stagger_s: float
) -> dict[str, Any]:
    steady: list[CallOutcome] = []
    killed: list[CallOutcome] = []
    per_round: list[dict[str, Any]] = []
    for r in range(steady_rounds):
        province.idle()
        outcomes, info = _round(province, level, f"steady{r}", stagger_s)
        steady += outcomes
        per_round.append({"kind": "steady", **summarize(outcomes), **info})
        print(f"   steady round {r + 1}: {per_round[-1]}", file=sys.stderr)
    for r in range(rounds):
        province.idle()
        victim = province.workers[r % len(province.workers)]
        readies = victim.readies()
        outcomes, info = _round(province, level, f"kill{r}", stagger_s, kill=victim)
        killed += outcomes
        per_round.append({"kind": "kill", "killed": victim.name, **summarize(outcomes), **info})
        print(f"   kill round {r + 1}: {per_round[-1]}", file=sys.stderr)
        victim.wait_ready(readies + 1)  # its supervisor started it again
        _wait_for("restarted worker healthy", lambda w=victim: w.health()["http"] == 200, 30)
        time.sleep(1.5)
    return {
        "workers": len(province.workers),
        "calls_per_round": level,
        "kill_after_s": KILL_AFTER_S,
        "dead_air_limit_s": DEAD_AIR_S,
        "steady": summarize(steady),
        "with_kill": summarize(killed),
        "rounds": per_round,
        "calls": [
            {k: v for k, v in asdict(o).items() if k != "sip_call_id"} | {"kind": o.kind} for o in killed
        ],
    }


def kill_plan(sweep: dict[str, Any], ceiling: int = KILL_LEVEL, calls: int = KILL_CALLS) -> tuple[int, int]:
    """(level, rounds) of the kill run: the highest level the sweep sustained (within the target), up to
    `ceiling`, else the sweep's lowest; enough rounds for about `calls` calls, at most MAX_KILL_ROUNDS."""
    levels = sorted(int(k) for k in sweep["levels"])
    sustained = min(sweep["calls_per_machine"], ceiling)
    level = sustained if sustained in levels else (levels[0] if levels else ceiling)
    return level, max(1, min(MAX_KILL_ROUNDS, math.ceil(calls / level)))


def run(
    worker_counts: tuple[int, ...] = WORKER_COUNTS,
    levels: tuple[int, ...] = LEVELS,
    kill_calls: int = KILL_CALLS,
    kill_level: int = KILL_LEVEL,
    stagger_s: float = STAGGER_S,
) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    out: dict[str, Any] = {
        "clip": CLIP.name,
        "stagger_s": stagger_s,
        "target_p95_s": TARGET_P95_S,
        "load_before": loadavg(),
        "workers": {},
    }
    province, cluster, handle = _start(tmp)
    try:
        for n in worker_counts:
            province.use_workers(n)
            out["workers"][str(n)] = _sweep(province, levels, stagger_s)
            if n == KILL_WORKERS and kill_calls:
                level, rounds = kill_plan(out["workers"][str(n)], kill_level, kill_calls)
                out["kill"] = _kill_run(province, level, rounds, STEADY_ROUNDS, stagger_s)
                out["kill"]["steady_sweep_round"] = out["workers"][str(n)]["levels"].get(str(level))
                if level < kill_level and str(kill_level) in out["workers"][str(n)]["levels"]:
                    # ... and at the level too, though this machine does not sustain it there
                    rounds = max(1, min(MAX_KILL_ROUNDS, math.ceil(kill_calls / kill_level)))
                    out["kill_at_issue_level"] = _kill_run(
                        province, kill_level, rounds, STEADY_ROUNDS, stagger_s
                    )
                    sweep = out["workers"][str(n)]["levels"][str(kill_level)]
                    out["kill_at_issue_level"]["steady_sweep_round"] = sweep
    finally:
        for worker in province.workers:
            worker.stop()
        province.stop_haproxy()
        handle.stop()
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    out["load_after"] = loadavg()
    return out


if __name__ == "__main__":
    # python -m bench.workers [--workers=1,2] [--kill-calls=20] [--kill-level=10] [LEVEL ...]
    args = sys.argv[1:]
    counts, kill_calls, kill_at = WORKER_COUNTS, KILL_CALLS, KILL_LEVEL
    while args and args[0].startswith("--"):
        key, _, value = args.pop(0).partition("=")
        if key == "--workers":
            counts = tuple(int(v) for v in value.split(","))
        elif key == "--kill-calls":
            kill_calls = int(value)
        elif key == "--kill-level":
            kill_at = int(value)
    lv = tuple(int(a) for a in args) or LEVELS
    print(json.dumps(run(counts, lv, kill_calls, kill_at), indent=2, ensure_ascii=False))
