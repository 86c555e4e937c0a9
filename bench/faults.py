"""Fault injection: what a caller hears when a part of the hotline breaks, and whether it comes back.

Starts its own Asterisk and the hotline application in-process (as `bench.ivr` does), then for each fault
places real SIP calls with the pjsua2 caller while the fault is on, removes the fault, and places a normal
call that must work (recovery without a restart):

- `asterisk_restart`: Asterisk stopped and started again on the same ports during two calls;
- `asr_fail` / `asr_hang`: the recognizer raises, or never returns (from the moment it is switched on);
- `tts_fail` / `tts_hang`: the synthesizer raises, or never returns, for an answer not in the render cache;
- `db_locked`: a second connection holds an exclusive lock on the SQLite file during call set-up, and
  during the storing of a recorded complaint (the complaint must become a ticket once the lock is gone);
- `disk_full`: the data directory (database, recordings, spools) on a small tmpfs filled to the last few
  kilobytes; a complaint recorded then must be kept once space returns, and nothing half-written left.

Faults go through real seams: the recognizer and synthesizer objects the application's services hold are
wrapped (the flow is not mocked), the lock is a real SQLite lock, the full disk a real filesystem.

Dead air. From the caller's recording of what it heard (20 ms frames below -40 dBFS are silent), a call's
`dead_air_s` is the longest silence the hotline owed the caller an answer: each caller action (the end of
speech of a played clip, a key, or the moment a fault hit the call) opens a window that closes at the
caller's next action or hang-up. Inside a window, silences that end in hotline audio count, and so does a
window in which no hotline audio begins (the caller gave up on dead air). The silence at a window's end, after
the hotline's last prompt and before the caller acts, is the hotline waiting for the caller to speak or
key: it does not count, except before a hang-up by the hotline or Asterisk. The callers act as soon as
a prompt is followed by 3.5 s of silence, so a pause longer than the 3 s target inside the hotline's own
turn shows up as the end of a window followed by nothing (counted) or by more audio (counted).
`longest_silence_s` is the raw longest silence between the first audio and the hang-up, for reference.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from bench.ivr import CATALOG, ROOT, _App

SPEECH = ROOT / "tests" / "fixtures" / "speech"
QUESTION = SPEECH / "binh_north_male.wav"  # "huấn luyện viên...": intent `coach`, key 1
COMPLAINT = SPEECH / "ly_north_female.wav"
EXPECTED = "coach"
HANG_S = 3600.0  # a hung engine: never returns within a call
TARGET_S = 3.0  # the bound on dead air
SILENT_DB = -40.0
TMPFS_MB = 48
LEAVE_FREE_KB = 24  # what the filled data directory still has


# --- fault seams --------------------------------------------------------------------------------------


class FaultyRecognizer:
    """The application's recognizer with a switch: `mode` None (works), "fail" (raises), "hang"."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.mode: str | None = None

    async def _check(self) -> None:
        if self.mode == "fail":
            raise RuntimeError("injected ASR failure")
        if self.mode == "hang":
            await asyncio.sleep(HANG_S)

    def open_stream(self, rate: int, **kw: Any) -> Any:
        if self.mode == "fail":
            raise RuntimeError("injected ASR failure")
        return _FaultyStream(self, self.real.open_stream(rate, **kw))

    async def transcribe(self, chunk: Any, **kw: Any) -> Any:
        await self._check()
        return await self.real.transcribe(chunk, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class _FaultyStream:
    def __init__(self, owner: FaultyRecognizer, real: Any) -> None:
        self.owner, self.real = owner, real

    async def accept(self, chunk: Any) -> Any:
        await self.owner._check()
        return await self.real.accept(chunk)

    async def finish(self) -> Any:
        await self.owner._check()
        return await self.real.finish()

    def close(self) -> None:
        self.real.close()


class FaultySynth:
    """The application's synthesizer with a switch: `mode` None (works), "fail" (raises), "hang"."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.mode: str | None = None
        self.calls = 0  # syntheses asked while a fault was on

    async def synthesize(self, text: str, **kw: Any) -> Any:
        if self.mode is not None:
            self.calls += 1
        if self.mode == "fail":
            raise RuntimeError("injected TTS failure")
        if self.mode == "hang":
            await asyncio.sleep(HANG_S)
        return await self.real.synthesize(text, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class _FaultApp(_App):
    """The hotline application with its recognizer and synthesizer wrapped in fault switches."""

    def _main(self) -> None:
        from hotline.service import build_hotline_services
        from ivr.startup import run_hotline

        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            self.stop = asyncio.Event()
            services = await build_hotline_services(self.settings)
            self.asr = services.recognizer = FaultyRecognizer(services.recognizer)
            self.tts = services.prompts.synth = FaultySynth(services.prompts.synth)

            def ready(app: Any) -> None:
                self.app = app
                self._ready.set()

            await run_hotline(self.settings, self.stop, services=services, on_ready=ready)

        asyncio.run(main())


class _LogTap(logging.Handler):
    """Warnings and errors the application logged (what an operator reads in the journal)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[tuple[str, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.records.append((record.levelname, record.name, record.getMessage()[:300]))


# --- what the caller heard ----------------------------------------------------------------------------


def _silent_frames(path: Path) -> tuple[np.ndarray, float]:
    from voice.audio import read_audio, to_mono

    chunk = to_mono(read_audio(path))
    x = chunk.array().astype(np.float64) / 32768.0
    n = chunk.rate // 50
    frames = x[: x.size - x.size % n].reshape(-1, n)
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    return db <= SILENT_DB, 0.02


def _gaps(silent: np.ndarray, frame_s: float, a: float, b: float) -> list[tuple[float, float, bool]]:
    """Silences in [a, b) of the recording: (start, end, ends in audio)."""
    i, j = max(0, int(a / frame_s)), min(silent.size, int(b / frame_s))
    out: list[tuple[float, float, bool]] = []
    k = i
    while k < j:
        if not silent[k]:
            k += 1
            continue
        start = k
        while k < j and silent[k]:
            k += 1
        out.append((start * frame_s, k * frame_s, k < j))
    return out


def dead_air(result: Any, fault_at_s: float | None = None) -> dict[str, float | None]:
    """`dead_air_s` (see the module docstring) and the raw `longest_silence_s` of one call."""
    if not result.recording or not Path(result.recording).is_file():
        return {"dead_air_s": None, "longest_silence_s": None}
    silent, fs = _silent_frames(Path(result.recording))
    end = silent.size * fs
    loud = np.flatnonzero(~silent)
    if loud.size == 0:
        return {"dead_air_s": round(end, 2), "longest_silence_s": round(end, 2)}
    first = loud[0] * fs
    longest = max((e - s for s, e, _ in _gaps(silent, fs, first, end)), default=0.0)
    actions: list[tuple[float, float]] = []  # (window opens, caller acts again no sooner than)
    for p in result.played:
        actions.append((p["speech_end_s"], p["started_s"]))
    for ev in result.events:
        if ev["kind"] == "dtmf":
            actions.append((ev["t"] + 0.1, ev["t"]))
    if fault_at_s is not None:
        actions.append((fault_at_s, fault_at_s))
    starts = sorted({s for _, s in actions if s is not None})
    worst = 0.0
    for opens, _ in actions:
        closes = next((s for s in starts if s > opens + 0.05), end)
        gaps = _gaps(silent, fs, opens, closes)
        answered = any(ends_in_audio for _, _, ends_in_audio in gaps)  # hotline audio began after it
        for s, e, ends_in_audio in gaps:
            if ends_in_audio or not answered or (closes >= end and result.hangup_by == "remote"):
                worst = max(worst, e - max(s, opens))
    return {"dead_air_s": round(worst, 2), "longest_silence_s": round(longest, 2)}


# --- the campaign -------------------------------------------------------------------------------------


def _greeted() -> Any:
    from sip.script import CallScript

    return CallScript().wait_for_audio(timeout=15).wait_for_silence(1.0, timeout=40)


def _keypad_question() -> Any:
    from sip.script import CallScript

    return (
        CallScript()
        .wait_for_audio(timeout=15)
        .wait(0.3)
        .dtmf("1")
        .wait_for_audio(timeout=15)
        .wait_for_silence(3.5, timeout=60)
        .hangup()
    )


def _spoken_question(then_key: bool) -> Any:
    s = _greeted().play(QUESTION).wait_for_audio(timeout=15)
    s = s.wait(3.0) if then_key else s.wait_for_silence(3.5, timeout=60)
    if then_key:  # the keypad, when speech failed: a key while the keypad menu plays
        s = s.dtmf("1").wait_for_audio(timeout=15).wait_for_silence(3.5, timeout=60)
    return s.hangup()


def _complaint() -> Any:
    from sip.script import CallScript

    return (
        CallScript()
        .wait_for_audio(timeout=15)
        .wait(0.3)
        .dtmf("4")
        .wait_for_audio(timeout=10)
        .wait_for_silence(1.0, timeout=30)
        .play(COMPLAINT)
        .wait(0.3)
        .dtmf("#")
        .wait_for_audio(timeout=15)
        .wait_for_silence(3.5, timeout=60)
        .hangup()
    )


class Campaign:
    def __init__(self, handle: Any, app: _FaultApp, settings: Any, tmp: Path, tap: _LogTap) -> None:
        from core.db import engine_for, session_factory

        self.handle, self.app, self.settings, self.tmp, self.tap = handle, app, settings, tmp, tap
        self.factory = session_factory(engine_for(settings))
        self._ids = itertools.count(1)

    # --- helpers ---

    def place(
        self,
        script: Any,
        *,
        at: float | None = None,
        inject: Callable[[], None] | None = None,
        timeout: float = 150.0,
    ) -> dict[str, Any]:
        """One real call; `inject` runs `at` seconds after the INVITE (a fault hitting a live call)."""
        from sip.caller import call
        from sip.script import CallTarget

        rec = self.tmp / "heard" / f"call{next(self._ids)}.wav"
        rec.parent.mkdir(parents=True, exist_ok=True)
        hit: dict[str, float] = {}
        timer = None
        began = time.time()
        if inject is not None and at is not None:

            def fire() -> None:
                hit["t"] = time.time()
                inject()

            timer = threading.Timer(at, fire)
            timer.start()
        result = call(CallTarget.from_handle(self.handle), script, record=rec, timeout=timeout)
        if timer is not None:
            timer.join()
        fault_at = None
        if "t" in hit and result.recording_started_at:
            fault_at = hit["t"] - result.recording_started_at
        elif "t" in hit and result.answered_at:
            fault_at = hit["t"] - result.answered_at
        out: dict[str, Any] = {
            "connected": result.connected,
            "hangup_by": result.hangup_by,
            "duration_s": result.duration_s,
            **dead_air(result, fault_at),
        }
        if fault_at is not None:
            out["fault_at_s"] = round(fault_at, 2)
        if result.error:
            out["error"] = result.error[:200]
        out["_result"] = result
        out["_t0"] = began
        return out

    def call_row(self, result: Any, timeout: float = 30.0) -> dict[str, Any] | None:
        """The call log's view of a call (waits for its end to be written)."""
        from sqlalchemy import select

        from ivr.models import Call

        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(Exception), self.factory() as s:
                row = s.scalars(select(Call).where(Call.sip_call_id == result.sip_call_id)).first()
                if row is not None and row.ended_at is not None:
                    return {
                        "outcome": str(row.outcome),
                        "degraded": bool(row.degraded),
                        "intents": [t.intent for t in row.turns if t.intent],
                        "actions": [t.action for t in row.turns if t.action],
                    }
            if time.monotonic() > deadline:
                return None
            time.sleep(0.3)

    def idle(self, timeout: float = 25.0) -> bool:
        """No session, RTP port, channel or bridge left."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            app = self.app.app
            try:
                busy = app.sessions or app.owned or app.s.ports.in_use
                busy = busy or self.handle.channels() or self.handle.bridges()
            except Exception:
                busy = True
            if not busy:
                return True
            time.sleep(0.2)
        return False

    def recovered(self, spoken: bool = False) -> dict[str, Any]:
        """A normal call after the fault: answered with the right intent."""
        c = self.place(_spoken_question(False) if spoken else _keypad_question())
        row = self.call_row(c["_result"])
        ok = bool(c["connected"] and row and EXPECTED in row["intents"] and not row["degraded"])
        return {"ok": ok, "dead_air_s": c["dead_air_s"], "call": _public(c, row)}

    def _tickets(self) -> list[tuple[str, str, str | None]]:
        from sqlalchemy import select

        from ivr.models import Ticket

        with self.factory() as s:
            return [(t.number, t.reason, t.audio_path) for t in s.scalars(select(Ticket)).all()]

    def _wait_new_ticket(self, before: set[str], timeout: float) -> tuple[str, str, str | None] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                for t in self._tickets():
                    if t[0] not in before and t[2]:
                        return t
            time.sleep(0.5)
        return None

    def _logs_since(self, mark: int) -> list[str]:
        return [f"{lvl} {name}: {msg}" for lvl, name, msg in self.tap.records[mark:]]

    # --- faults ---

    def asterisk_restart(self) -> dict[str, Any]:
        from asterisk.process import start

        ari = self.app.app.s.ari
        connects = ari.connects

        def restart() -> None:
            self.handle.stop()
            self.handle.adopt(start(self.settings))

        script = (
            _greeted()
            .dtmf("1")
            .wait_for_audio(timeout=15)
            .wait_for_silence(3.5, timeout=40)
            .wait(30)
            .hangup()
        )
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(self.place, script, at=9.0, inject=restart)
            time.sleep(1.0)
            second = pool.submit(self.place, script)
            calls = [first.result(), second.result()]
        deadline = time.monotonic() + 30
        while ari.connects == connects or not ari.connected.is_set():
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        reconnected = ari.connected.is_set() and ari.connects > connects
        # The second call was hit at the same moment as the first (by the clock).
        t_hit = calls[0].get("fault_at_s")
        if t_hit is not None:
            r = calls[1]["_result"]
            shift = calls[1]["_t0"] - calls[0]["_t0"]
            calls[1].update(dead_air(r, t_hit - shift))
        rows = [self.call_row(c["_result"], timeout=15) for c in calls]
        out = {
            "calls": [_public(c, row) for c, row in zip(calls, rows, strict=True)],
            "reconnected": reconnected,
            "idle_after": self.idle(),
        }
        out["recovery"] = self.recovered()
        return out

    def asr(self, mode: str) -> dict[str, Any]:
        mark = len(self.tap.records)
        self.app.asr.mode = mode
        try:
            calls = [self.place(_spoken_question(True)) for _ in range(2)]
        finally:
            self.app.asr.mode = None
        rows = [self.call_row(c["_result"]) for c in calls]
        out = {
            "calls": [_public(c, row) for c, row in zip(calls, rows, strict=True)],
            "keypad_fallback": all(
                r and EXPECTED in r["intents"] and "fail:asr" in r["actions"] for r in rows
            ),
            "idle_after": self.idle(),
            "recognizing_after": self.app.app.s.asr.active,
        }
        out["recovery"] = self.recovered(spoken=True)
        out["logs"] = self._logs_since(mark)[:6]
        return out

    def _forget_answer(self) -> str:
        """The answer of key 1 leaves the render cache (memory and file): it must be synthesized."""
        from ivr import flow as F

        prompts = self.app.app.s.prompts
        catalog = self.app.app.s.understanding.current()[0]
        answer = next(i.answer for i in F.menu_from_catalog(catalog) if i.id == EXPECTED)
        prompts._dynamic.pop(answer, None)
        prompts.text_path(answer).unlink(missing_ok=True)
        return answer

    def tts(self, mode: str) -> dict[str, Any]:
        mark = len(self.tap.records)
        calls = []
        for _ in range(2):
            self._forget_answer()
            self.app.tts.mode = mode
            try:
                calls.append(self.place(_keypad_question()))
            finally:
                self.app.tts.mode = None
        rows = [self.call_row(c["_result"]) for c in calls]
        out = {
            "calls": [_public(c, row) for c, row in zip(calls, rows, strict=True)],
            "keypad_fallback": all(r and "fail:tts" in r["actions"] for r in rows),
            "idle_after": self.idle(),
        }
        self._forget_answer()
        out["recovery"] = self.recovered()
        out["logs"] = self._logs_since(mark)[:6]
        return out

    def _lock(self) -> sqlite3.Connection:
        db = self.settings.database_url.removeprefix("sqlite:///")
        conn = sqlite3.connect(db, isolation_level=None, timeout=10)
        conn.execute("BEGIN EXCLUSIVE")
        return conn

    def db_locked(self) -> dict[str, Any]:
        mark = len(self.tap.records)
        before = {t[0] for t in self._tickets()}
        lock = self._lock()  # held from before the call: set-up, call log and ticket all meet it
        try:
            setup = self.place(_keypad_question())
            complaint = self.place(_complaint())
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        released = time.monotonic()
        ticket = self._wait_new_ticket(before, 60)
        rows = [self.call_row(c["_result"], timeout=40) for c in (setup, complaint)]
        out = {
            "during_setup": _public(setup, rows[0]),
            "during_ticket": _public(complaint, rows[1]),
            "complaint_kept": ticket is not None,
            "ticket_after_release_s": round(time.monotonic() - released, 1) if ticket else None,
            "ticket_reason": ticket[1] if ticket else None,
            "calls_logged_after_release": all(r is not None for r in rows),
            "idle_after": self.idle(),
        }
        out["recovery"] = self.recovered()
        out["logs"] = self._logs_since(mark)[:6]
        return out

    def disk_full(self, data: Path) -> dict[str, Any]:
        mark = len(self.tap.records)
        before = {t[0] for t in self._tickets()}
        filler = data / "filler.bin"
        free = shutil.disk_usage(data).free
        with open(filler, "wb") as fh:
            block = b"\0" * (1 << 20)
            left = free - LEAVE_FREE_KB * 1024
            while left > 0:
                fh.write(block[: min(len(block), left)])
                left -= len(block)
        left_kb = shutil.disk_usage(data).free // 1024
        try:
            answered = self.place(_keypad_question())
            complaint = self.place(_complaint())
        finally:
            filler.unlink(missing_ok=True)
        freed = time.monotonic()
        ticket = self._wait_new_ticket(before, 60)
        rows = [self.call_row(c["_result"], timeout=40) for c in (answered, complaint)]
        time.sleep(1.0)  # a stored ticket's spool goes just after its row
        ours = [data / "recordings", data / "spool", data / "hotline.db"]  # not Asterisk's logs or locks
        half = [
            str(p.relative_to(data))
            for top in ours
            for p in ([top] if top.is_file() else top.rglob("*"))
            if p.is_file() and (p.name.endswith(".part") or p.stat().st_size == 0)
        ]
        spools = [str(p.relative_to(data)) for p in (data / "recordings").rglob("*.raw")]
        if ticket is not None and ticket[2]:
            from voice.audio import read_audio

            with contextlib.suppress(Exception):
                read_audio(ticket[2])  # a whole WAV, or this raises
        logs = self._logs_since(mark)
        out = {
            "free_kb_while_full": left_kb,
            "answered_while_full": _public(answered, rows[0]),
            "complaint_while_full": _public(complaint, rows[1]),
            "complaint_kept": ticket is not None,
            "ticket_after_space_s": round(time.monotonic() - freed, 1) if ticket else None,
            "half_written_files": half,
            "spools_left": spools,  # recordings not yet stored as tickets
            "disk_errors_logged": sum(
                "No space" in line or "disk is full" in line or "full" in line for line in logs
            ),
            "idle_after": self.idle(),
        }
        out["recovery"] = self.recovered()
        out["logs"] = logs[:8]
        return out


def _public(c: dict[str, Any], row: dict[str, Any] | None = None) -> dict[str, Any]:
    out = {k: v for k, v in c.items() if not k.startswith("_")}
    if row is not None:
        out["outcome"], out["degraded"] = row["outcome"], row["degraded"]
        out["actions"] = [a for a in row["actions"] if a.startswith(("fail", "ticket", "barge"))]
    else:
        out["logged"] = False
    return out


def _worst(section: Any) -> float:
    """The longest dead air of any call in a result section."""
    if isinstance(section, dict):
        own = section.get("dead_air_s")
        vals = [own if isinstance(own, int | float) else 0.0]
        vals += [_worst(v) for k, v in section.items() if k != "recovery"]
        return max(vals)
    if isinstance(section, list):
        return max((_worst(v) for v in section), default=0.0)
    return 0.0


def run(only: tuple[str, ...] = ()) -> dict:
    from asterisk.process import start
    from hotline.settings import load_settings
    from tests.ivr.conftest import loopback_env

    tmp = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    data = tmp / "var"
    data.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m,mode=0700", "tmpfs", str(data)], check=True
    )
    env = {
        **loopback_env(tmp),
        "HOTLINE_PATHS__DATA_DIR": str(data),
        "HOTLINE_PATHS__CACHE_DIR": str(tmp / "cache"),  # prompt renders: not the data directory
        "HOTLINE_IVR__FLOW__RECORDING_NOTICE": "false",
        "HOTLINE_IVR__FLOW__RATING": "false",
        "HOTLINE_INTENTS__CATALOG_DIR": str(CATALOG),
    }
    tap = _LogTap()
    logging.getLogger().addHandler(tap)
    if logging.getLogger().level > logging.WARNING:
        logging.getLogger().setLevel(logging.WARNING)
    handle = None
    app = None
    out: dict[str, Any] = {"target_s": TARGET_S, "tmpfs_mb": TMPFS_MB, "faults": {}}
    try:
        settings = load_settings(ROOT / "config" / "hotline.yaml", env=env)
        out["asr_timeout_seconds"] = settings.ivr.asr_timeout_seconds
        handle = start(settings)
        app = _FaultApp(settings)
        app.start()
        camp = Campaign(handle, app, settings, tmp, tap)
        cases: dict[str, Callable[[], dict[str, Any]]] = {
            "asr_fail": lambda: camp.asr("fail"),
            "asr_hang": lambda: camp.asr("hang"),
            "tts_fail": lambda: camp.tts("fail"),
            "tts_hang": lambda: camp.tts("hang"),
            "db_locked": camp.db_locked,
            "disk_full": lambda: camp.disk_full(data),
            "asterisk_restart": camp.asterisk_restart,
        }
        for name, case in cases.items():
            if only and name not in only:
                continue
            print(f"   fault {name}", flush=True)
            began = time.monotonic()
            try:
                res = case()
            except Exception as exc:  # one broken case must not hide the others
                logging.getLogger(__name__).exception("fault %s", name)
                res = {"error": f"{type(exc).__name__}: {exc}"}
            res["worst_dead_air_s"] = round(_worst(res), 2)
            res["recovered"] = bool(res.get("recovery", {}).get("ok"))
            res["seconds"] = round(time.monotonic() - began, 1)
            out["faults"][name] = res
        out["worst_dead_air_s"] = max((f["worst_dead_air_s"] for f in out["faults"].values()), default=None)
        out["all_recovered"] = all(f["recovered"] for f in out["faults"].values())
    finally:
        logging.getLogger().removeHandler(tap)
        if app is not None and app.app is not None:
            app.close()
        if handle is not None:
            handle.stop()
        subprocess.run(["umount", "-l", str(data)], check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    return out


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(tuple(sys.argv[1:])), indent=2, ensure_ascii=False, default=str))
