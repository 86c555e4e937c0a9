"""Soak: many real SIP calls, several at once, each hung up at a random moment; nothing may be left behind.

Starts its own Asterisk and the hotline application in-process (as `bench.ivr` does), publishes a commune
radio segment, registers an operator seat that rings and never answers, then places `CALLS` calls with
the real pjsua2 caller, `CONCURRENCY` at once. Each call follows a scenario drawn from a seeded random
generator and the caller hangs up at a random moment of it: while the hotline answers and sets up the
call's media, during the greeting, while a spoken question is being recognized, while a complaint is
being recorded (chosen by key or by speech), while the operator transfer rings, during radio playback,
or the call runs to its normal end (the caller says goodbye by key and the hotline hangs up).

Afterwards (and after a short settle time) nothing may be left: channels, bridges and external media
channels in Asterisk (ARI), RTP ports and UDP sockets of the application (its port pool, /proc/self/fd
and /proc/net/udp), admitted recognitions, background tasks and child processes (decoders), recordings
in the spool, open files of the application and of Asterisk beyond a small slack, call rows left open in
the database; every call that reached recording left a ticket, with its audio file.
The application's memory is sampled every `RSS_EVERY` calls and must stay within `RSS_BOUND_MB` of its
level after the first `RSS_WARMUP_CALLS` calls. `ok` is false, with the reasons, when any check fails.

The same checks serve the small bounded version in the test suite (tests/ivr/test_soak.py).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPEECH = ROOT / "tests" / "fixtures" / "speech"
QUESTION = SPEECH / "binh_north_male.wav"  # "coach" in the test catalog
COMPLAINT = SPEECH / "ly_north_female.wav"  # "feedback" in the test catalog: the complaint path by speech
MORE = SPEECH / "ngoc_north_female.wav"  # said into a recording

SEED = 20261203
CALLS = 200
CONCURRENCY = 5
BUDGET_S = 45 * 60  # the whole campaign; calls not started by then are reported as not run
CALL_TIMEOUT_S = 90.0  # one call, end to end
SETTLE_S = 20.0  # after the last call: hang-ups, tickets and the call log settle within this
RSS_EVERY = 10  # calls between memory samples
RSS_WARMUP_CALLS = 40  # caches (prompts, TTS, models' buffers) fill during these
RSS_BOUND_MB = 40.0  # growth allowed after the warm-up
FD_SLACK = 6  # open files the application may gain (lazily opened database connections, caches)
ASTERISK_FD_SLACK = 10  # the same for Asterisk (its own caches, logger files)
COMMUNE = "17329"  # Xã Anh Sơn (Nghệ An): radio by phone is asked for by this code
TRANSFER_TIMEOUT_S = 15  # the operator seat rings this long (longer than any hang-up delay drawn)

MOMENTS = (
    "setup", "greeting", "recognition", "recording_key", "recording_speech", "transfer", "radio", "normal",
)  # fmt: skip

BULLETIN = """---
title: Bản tin thử nghiệm
date: 2026-11-24
communes: all
---
## Dịch vụ công

Từ ngày 1/12/2026, bà con nộp hồ sơ qua mạng tại cổng dịch vụ công của tỉnh. Mọi thắc mắc xin gọi tổng
đài hỗ trợ dịch vụ công. Bản tin được phát lại vào buổi chiều.
"""


@dataclass(frozen=True)
class Plan:
    """One call of the campaign: its scenario and when the caller hangs up (seconds into the moment)."""

    index: int
    moment: str
    delay_s: float

    def script(self, commune: str = COMMUNE):
        """The caller's script (sip.script.CallScript)."""
        from sip.script import CallScript

        d = self.delay_s
        if self.moment == "setup":  # hang up while the hotline answers and sets up the call's media
            return CallScript().wait(d).hangup()
        s = CallScript().wait_for_audio(timeout=15)
        if self.moment == "greeting":
            return s.wait(d).hangup()
        if self.moment == "recognition":  # hang up while the question is recognized and answered
            return s.wait_for_silence(1.0, timeout=40).play(QUESTION).wait(d).hangup()
        if self.moment == "recording_key":
            s = s.wait(0.3).dtmf("4").wait_for_audio(timeout=10).wait_for_silence(1.0, timeout=30)
            return (s.play(COMPLAINT) if d > 1.0 else s).wait(d).hangup()
        if self.moment == "recording_speech":
            s = s.wait_for_silence(1.0, timeout=40).play(COMPLAINT)
            s = s.wait_for_audio(timeout=10).wait_for_silence(1.0, timeout=30)  # intro and beep
            return (s.play(MORE) if d > 1.0 else s).wait(d).hangup()
        if self.moment == "transfer":  # "please hold", then the seat rings (or a message is offered)
            return s.wait(0.3).dtmf("0").wait_for_audio(timeout=10).wait(d).hangup()
        if self.moment == "radio":
            s = s.wait(0.3).dtmf("8").wait_for_audio(timeout=10).wait_for_silence(0.8, timeout=30)
            for digit in commune:
                s = s.dtmf(digit).wait(0.25)
            return s.dtmf("#").wait_for_audio(timeout=10).wait(d).hangup()
        # normal: a question by key, its answer, then goodbye by key; the hotline hangs up.
        s = s.wait(0.3).dtmf("1").wait_for_audio(timeout=10).wait_for_silence(1.0, timeout=30)
        return s.dtmf("9").wait(15).hangup()


DELAYS: dict[str, tuple[float, float]] = {  # seconds after the moment began, drawn uniformly
    "setup": (0.0, 0.4),
    "greeting": (0.0, 3.5),
    "recognition": (0.0, 1.5),
    "recording_key": (0.2, 4.0),
    "recording_speech": (0.2, 4.0),
    "transfer": (0.5, 9.0),
    "radio": (0.3, 5.0),
    "normal": (0.0, 0.0),
}


def plan(calls: int, seed: int = SEED, moments: tuple[str, ...] = MOMENTS) -> list[Plan]:
    """The campaign's calls: every moment in turn, in a seeded random order, with random delays."""
    rng = random.Random(seed)
    drawn = [moments[i % len(moments)] for i in range(calls)]
    rng.shuffle(drawn)
    return [Plan(i, m, round(rng.uniform(*DELAYS[m]), 2)) for i, m in enumerate(drawn)]


# --- what the application and Asterisk hold ------------------------------------------------------


def _udp_inodes_in(start: int, end: int) -> dict[int, int]:
    """UDP sockets bound to a port in [start, end] on this machine: inode -> port (/proc/net/udp*)."""
    found: dict[int, int] = {}
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            port = int(parts[1].rsplit(":", 1)[1], 16)
            if start <= port <= end:
                found[int(parts[9])] = port
    return found


def _socket_inodes(pid: int | str = "self") -> set[int]:
    inodes: set[int] = set()
    base = Path(f"/proc/{pid}/fd")
    for fd in _listdir(base):
        try:
            target = os.readlink(base / fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _listdir(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def child_processes(skip: tuple[int | None, ...] = ()) -> list[str]:
    """Processes this one started and still has (running or unreaped), by name: decoders, engines.

    Asterisk (`skip`) and the operator seat of the campaign are expected; anything else after the calls
    ended was left behind by a call.
    """
    me, found = os.getpid(), []
    for entry in _listdir(Path("/proc")):
        if not entry.isdigit() or int(entry) in skip:
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        name, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == me and b"operator-agent" not in cmdline:
            found.append(f"{name} ({fields[0]})")
    return sorted(found)


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def inventory(app: Any, handle: Any) -> dict[str, Any]:
    """What the hotline application (`ivr.app.Hotline`, running in this process) and Asterisk hold now."""
    from ivr.ids import PREFIX_BRIDGE, PREFIX_MEDIA, PREFIX_OPERATOR, SPOOL_DIR

    ports = app.s.ports
    channels = handle.channels()
    bridges = handle.bridges()
    media_sockets = _udp_inodes_in(ports.start, ports.end)
    ours = _socket_inodes()
    spool = app.s.store.recordings_dir / SPOOL_DIR
    ast_pid = getattr(handle, "pid", None)
    return {
        "channels": len(channels),
        "bridges": len(bridges),
        "external_media_channels": sum(
            1
            for c in channels
            if c.get("id", "").startswith(PREFIX_MEDIA) or "UnicastRTP" in c.get("name", "")
        ),
        "operator_channels": sum(1 for c in channels if c.get("id", "").startswith(PREFIX_OPERATOR)),
        "our_bridges": sum(1 for b in bridges if b.get("id", "").startswith(PREFIX_BRIDGE)),
        "sessions": len(app.sessions),
        "owned_channels": len(app.owned),
        "waiters": len(app.waiters),
        "recognitions_admitted": app.s.asr.active if getattr(app.s, "asr", None) is not None else 0,
        "background_tasks": sum(1 for t in getattr(app, "background", ()) if not t.done()),
        "rtp_ports_in_use": ports.in_use,
        "rtp_sockets_open": sum(1 for inode in media_sockets if inode in ours),
        "spooled_recordings": len(_listdir(spool)),
        "child_processes": len(child_processes((ast_pid,))),
        "open_fds": len(_listdir(Path("/proc/self/fd"))),
        "threads": threading.active_count(),
        "rss_mb": round(rss_mb(), 1),
        "asterisk_fds": len(_listdir(Path(f"/proc/{ast_pid}/fd"))) if ast_pid else None,
        "asterisk_channels_cli": _asterisk_channel_count(handle),
    }


def _asterisk_channel_count(handle: Any) -> int | None:
    """Asterisk's own count of active channels (`core show channels count`), beside ARI's view."""
    try:
        out = handle.cli("core show channels count")
    except Exception:
        return None
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0].isdigit() and words[1] == "active" and words[2].startswith("channel"):
            return int(words[0])
    return None


def settle(app: Any, handle: Any, timeout: float = SETTLE_S) -> float:
    """Wait until the application has no call and Asterisk no channel or bridge; returns seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not app.sessions and not app.owned and not handle.channels() and not handle.bridges():
            break
        time.sleep(0.2)
    return round(time.monotonic() - started, 1)


LEAK_KEYS = (
    "channels", "bridges", "external_media_channels", "operator_channels", "our_bridges", "sessions",
    "owned_channels", "waiters", "recognitions_admitted", "rtp_ports_in_use", "rtp_sockets_open",
    "spooled_recordings",
)  # fmt: skip


def leaks(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Why `after` holds more than an idle hotline should; empty when nothing leaked."""
    reasons = [f"{key}: {after[key]} left" for key in LEAK_KEYS if after[key]]
    if after["background_tasks"] > before["background_tasks"]:
        reasons.append(f"background tasks: {before['background_tasks']} -> {after['background_tasks']}")
    if after["child_processes"] > before["child_processes"]:
        reasons.append(f"child processes: {before['child_processes']} -> {after['child_processes']}")
    if after["open_fds"] - before["open_fds"] > FD_SLACK:
        reasons.append(f"open files of the application: {before['open_fds']} -> {after['open_fds']}")
    a0, a1 = before["asterisk_fds"], after["asterisk_fds"]
    if a0 is not None and a1 is not None and a1 - a0 > ASTERISK_FD_SLACK:
        reasons.append(f"open files of Asterisk: {a0} -> {a1}")
    if after["asterisk_channels_cli"]:
        reasons.append(f"Asterisk counts {after['asterisk_channels_cli']} active channels")
    return reasons


class RecordingWatch:
    """Which calls reached recording (a recorder was started for them), seen at the listener."""

    def __init__(self) -> None:
        self.calls: set[str] = set()
        self._real: Callable[..., Any] | None = None

    def __enter__(self) -> RecordingWatch:
        from ivr.listener import CallListener

        real = self._real = CallListener.start_recording
        calls = self.calls

        def start_recording(listener: Any, name: str, max_seconds: float, spool: Any) -> None:
            calls.add(listener.call)
            real(listener, name, max_seconds, spool)

        CallListener.start_recording = start_recording  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        from ivr.listener import CallListener

        CallListener.start_recording = self._real  # type: ignore[method-assign]


def outcomes(factory: Any, results: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """How the calls of each moment ended in the call log (shows the moments were reached)."""
    from sqlalchemy import select

    from ivr.models import Call

    by_channel = {r["channel_id"]: r["moment"] for r in results if r.get("channel_id")}
    seen: dict[str, Counter[str]] = {}
    with factory() as s:
        for cid, outcome in s.execute(
            select(Call.channel_id, Call.outcome).where(Call.channel_id.in_(by_channel))
        ):
            seen.setdefault(by_channel[cid], Counter())[str(outcome)] += 1
    return {moment: dict(counts) for moment, counts in sorted(seen.items())}


def lost_or_open(factory: Any, recorded: set[str], channel_ids: list[str]) -> list[str]:
    """Call-log problems: calls left open, calls missing, recorded calls without a ticket or its audio."""
    from sqlalchemy import select

    from ivr.enums import TurnAction
    from ivr.models import Call, Ticket

    problems: list[str] = []
    with factory() as s:
        rows = {c.channel_id: c for c in s.scalars(select(Call).where(Call.channel_id.in_(channel_ids)))}
        open_rows = s.scalars(select(Call.channel_id).where(Call.ended_at.is_(None))).all()
        if open_rows:
            problems.append(f"call rows left open: {len(open_rows)} ({', '.join(open_rows[:3])})")
        missing = [cid for cid in channel_ids if cid not in rows]
        if missing:
            problems.append(f"calls missing from the call log: {len(missing)} ({', '.join(missing[:3])})")
        for cid in sorted(recorded):
            row = rows.get(cid)
            if row is None:
                continue
            ticket = s.scalars(select(Ticket).where(Ticket.call_id == row.id)).first()
            empty = any(t.action == TurnAction.RECORDING_EMPTY for t in row.turns)
            if ticket is None and not empty:
                problems.append(f"call {cid} reached recording and left no ticket ({row.outcome})")
            elif ticket is not None and ticket.audio_path and not Path(ticket.audio_path).is_file():
                problems.append(f"ticket {ticket.number} of call {cid}: its audio file is missing")
    return problems


@dataclass
class Campaign:
    """Runs planned calls against a running hotline and reports what was left behind."""

    app: Any  # ivr.app.Hotline
    handle: Any  # asterisk.handle.AsteriskHandle (or the tests' AsteriskUnderTest)
    target: Any  # sip.script.CallTarget
    factory: Any  # call-log sessions
    concurrency: int = CONCURRENCY
    budget_s: float = BUDGET_S
    rss_every: int = RSS_EVERY
    results: list[dict[str, Any]] = field(default_factory=list)
    rss: list[tuple[int, float]] = field(default_factory=list)  # (calls finished, MB)

    def run(self, plans: list[Plan]) -> dict[str, Any]:
        from sip.caller import call

        before = inventory(self.app, self.handle)
        self.rss.append((0, before["rss_mb"]))
        deadline = time.monotonic() + self.budget_s
        lock = threading.Lock()
        started = time.monotonic()

        def one(p: Plan) -> None:
            if time.monotonic() > deadline:
                with lock:
                    self.results.append({"index": p.index, "moment": p.moment, "not_run": True})
                return
            r = call(self.target, p.script(), timeout=CALL_TIMEOUT_S)
            with lock:
                self.results.append({
                    "index": p.index, "moment": p.moment, "delay_s": p.delay_s, "connected": r.connected,
                    "channel_id": r.channel_id, "hangup_by": r.hangup_by,
                    "duration_s": round(r.duration_s, 1), "error": r.error,
                })  # fmt: skip
                done = len(self.results)
                if done % self.rss_every == 0:
                    self.rss.append((done, round(rss_mb(), 1)))

        with RecordingWatch() as watch, ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            list(pool.map(one, plans))
            wall = time.monotonic() - started
            waited = settle(self.app, self.handle)
        after = inventory(self.app, self.handle)
        self.rss.append((len(self.results), after["rss_mb"]))
        ran = [r for r in self.results if not r.get("not_run")]
        channel_ids = [r["channel_id"] for r in ran if r["connected"] and r["channel_id"]]
        reasons = leaks(before, after)
        reasons += lost_or_open(self.factory, watch.calls & set(channel_ids), channel_ids)
        failed = [r for r in ran if not r["connected"]]
        if failed:
            first = failed[0]["error"] or failed[0]["moment"]
            reasons.append(f"calls not connected: {len(failed)} ({first})")
        return {
            "calls_planned": len(plans),
            "calls_run": len(ran),
            "calls_connected": sum(1 for r in ran if r["connected"]),
            # The caller learns the channel id through ARI; a call without it escapes the call-log checks.
            "calls_without_channel_id": sum(1 for r in ran if r["connected"] and not r["channel_id"]),
            "concurrency": self.concurrency,
            "moments": dict(Counter(r["moment"] for r in ran)),
            "hangup_by": dict(Counter(r["hangup_by"] or "none" for r in ran)),
            "outcomes": outcomes(self.factory, ran),
            "reached_recording": len(watch.calls),
            "wall_s": round(wall, 1),
            "settle_s": waited,
            "before": before,
            "after": after,
            "memory": memory(self.rss),
            "leaks": reasons,
            "ok": not reasons,
        }


def memory(samples: list[tuple[int, float]], warmup: int = RSS_WARMUP_CALLS) -> dict[str, Any]:
    """RSS first/last/max, the slope (MB per 100 calls) after the warm-up, and growth against the bound."""
    mbs = [mb for _, mb in samples]
    late = [(n, mb) for n, mb in samples if n >= warmup] or samples[-1:]
    slope = None
    if len(late) >= 2:
        xs, ys = [n for n, _ in late], [mb for _, mb in late]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        var = sum((x - mx) ** 2 for x in xs)
        slope = (
            round(100 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var, 2)
            if var
            else None
        )
    growth = round(max(mb for _, mb in late) - late[0][1], 1)
    return {
        "samples": samples,
        "first_mb": mbs[0],
        "last_mb": mbs[-1],
        "max_mb": max(mbs),
        "after_warmup_mb": late[0][1],
        "growth_after_warmup_mb": growth,
        "slope_mb_per_100_calls": slope,
        "bound_mb": RSS_BOUND_MB,
        "warmup_calls": warmup,
        "within_bound": growth <= RSS_BOUND_MB,
    }


def publish_radio(app: Any) -> str:
    """A published segment for every commune, so that radio by phone has something to play."""
    from broadcast.bulletin import parse_bulletin

    radio = app.s.radio
    if radio is None:
        raise RuntimeError("radio by phone is unavailable in this hotline")
    if radio.latest_segment(COMMUNE) is None:
        radio.service.publish(parse_bulletin(BULLETIN, "soak.md"))
    path = radio.latest_segment(COMMUNE)
    if path is None:
        raise RuntimeError("the published segment is not found by its commune code")
    return path


def operator_seat(env: dict[str, str], seconds: float) -> subprocess.Popen:
    """An operator phone registered as seat 1 that rings and never answers (one call at a time)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotline", "operator-agent", "--json", "--calls", "10000",
         "--timeout", str(int(seconds)), "--ring", "3600"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    assert proc.stdout is not None
    for line in proc.stdout:  # bounded by the agent's own registration timeout
        if '"registered"' in line or time.monotonic() > deadline:
            break
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep its pipe drained
    return proc


def run(
    calls: int = CALLS, concurrency: int = CONCURRENCY, seed: int = SEED, moments: tuple[str, ...] = MOMENTS
) -> dict:
    from asterisk.process import start
    from bench.ivr import _App, hotline_env
    from core.db import engine_for, session_factory
    from hotline.settings import load_settings
    from sip.script import CallTarget

    tmp = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    env = hotline_env(
        tmp,
        HOTLINE_IVR__FLOW__TRANSFER_TIMEOUT_SECONDS=str(TRANSFER_TIMEOUT_S),
        HOTLINE_IVR__FLOW__RATING="false",
    )
    settings = load_settings(ROOT / "config" / "hotline.yaml", env=env)
    handle = start(settings)
    app = _App(settings)
    seat = None
    out: dict[str, Any] = {"seed": seed, "calls": calls, "concurrency": concurrency,
                           "bounds": {"rss_growth_mb": RSS_BOUND_MB, "rss_warmup_calls": RSS_WARMUP_CALLS,
                                      "fd_slack": FD_SLACK, "asterisk_fd_slack": ASTERISK_FD_SLACK,
                                      "budget_s": BUDGET_S, "settle_s": SETTLE_S}}  # fmt: skip
    try:
        app.start()
        out["radio_segment"] = Path(publish_radio(app.app)).name
        seat = operator_seat(env, BUDGET_S + 120)
        campaign = Campaign(
            app.app,
            handle,
            CallTarget.from_handle(handle),
            session_factory(engine_for(settings)),
            concurrency=concurrency,
        )
        out.update(campaign.run(plan(calls, seed, moments)))
        out["errors"] = [r["error"] for r in campaign.results if r.get("error")][:5]
    finally:
        if seat is not None:
            seat.terminate()
            try:
                seat.wait(15)
            except subprocess.TimeoutExpired:
                seat.kill()
        if app.app is not None:
            app.close()
        handle.stop()
        layout = getattr(handle, "layout", None)
        if layout is not None and layout.root != Path("/"):
            shutil.rmtree(layout.host_inst, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return out


if __name__ == "__main__":
    import json

    n = int(sys.argv[1]) if len(sys.argv) > 1 else CALLS
    print(json.dumps(run(n), indent=2, ensure_ascii=False))
