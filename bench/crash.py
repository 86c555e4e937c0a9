"""Crash campaign: kill -9 the hotline's worker mid-call and mid-recording, and an intent save mid-write.

Runs `hotline run` (supervisor + worker) as a newcomer does, on free loopback ports with a throwaway data
directory, and places real SIP calls with the pjsua2 caller. Each round kills the worker at a chosen
moment: into the greeting, or while the caller is recording a complaint. Measured per round: seconds of
silence the caller heard between the kill and the dialplan fallback's apology, and seconds until a new
worker answered calls. Checked after each round: the interrupted recording became a ticket. Checked at
the end: the next call is greeted, no call row is left open, no recording is left in the spool or half
written. Separately, a process saving an intent through the console's editor is killed at random moments:
the file is always one whole version, never half of one.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HOTLINE = str(Path(sys.executable).with_name("hotline"))
CLIP = ROOT / "tests" / "fixtures" / "speech" / "ly_north_female.wav"
GREETING_ROUNDS = 5
RECORDING_ROUNDS = 5
WRITE_KILLS = 60
SEED = 20261203
SILENCE_TARGET_S = 3.0


class HotlineRun:
    """`hotline run` in the background, its output in a file."""

    def __init__(self, data: Path) -> None:
        from tests.ivr.conftest import loopback_env

        self.data = data
        self.env = loopback_env(data)
        from hotline.settings import load_settings

        self.settings = load_settings(ROOT / "config" / "hotline.yaml", env=self.env)
        self.log = data / "run.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        out = open(self.log, "wb")  # noqa: SIM115 - the child writes to it until stop()
        self.proc = subprocess.Popen(
            [HOTLINE, "run"],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_ready(1, 300)

    def ready_count(self) -> int:
        return self.log.read_text(errors="replace").count("The hotline is running.")

    def wait_ready(self, count: int, limit_s: float) -> float:
        began = time.monotonic()
        while self.ready_count() < count:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"hotline run ended: {self.log.read_text()[-2000:]}")
            if time.monotonic() - began > limit_s:
                raise RuntimeError("the hotline did not become ready")
            time.sleep(0.1)
        return time.monotonic() - began

    def worker_pid(self) -> int:
        return int((self.data / "var" / "run" / "worker.pid").read_text())

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return -9


def _spool(run: HotlineRun) -> Path:
    from ivr.ids import SPOOL_DIR

    return run.settings.data_dir / run.settings.ivr.recordings_dir / SPOOL_DIR


def _wait_recording(run: HotlineRun, limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if _spool(run).exists() and any(_spool(run).iterdir()):
            return
        time.sleep(0.05)
    raise RuntimeError("the complaint was never recorded")


def _db_counts(run: HotlineRun) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(run.settings.database_url)
    try:
        with engine.connect() as db:
            queries = {
                "calls": "select count(*) from calls",
                "open_calls": "select count(*) from calls where ended_at is null",
                "tickets": "select count(*) from tickets",
            }
            return {k: db.execute(text(q)).scalar_one() for k, q in queries.items()}
    finally:
        engine.dispose()


def _call(run: HotlineRun, script, record: Path, result: dict) -> threading.Thread:
    from sip.caller import run_call_for_settings

    def main() -> None:
        result["call"] = run_call_for_settings(run.settings, script, record=record, timeout=90)

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    return thread


def _round(run: HotlineRun, kind: str, n: int, work: Path) -> dict[str, object]:
    from asterisk.handle import handle_for
    from sip.script import CallScript
    from tests.ivr.conftest import wait_answered
    from tests.support import silence_after

    if kind == "greeting":
        script = CallScript().wait_for_audio(timeout=20).wait(10)
    else:  # keys 8 then 1 (each after the prompt): leave a complaint; speak after the beep, stay on the line
        script = CallScript()
        for digits in ("8", "1"):
            script.wait_for_audio(timeout=10).wait_for_silence(1.0, timeout=60).dtmf(digits)
        script.wait_for_audio(timeout=10).wait_for_silence(1.0, timeout=60).play(CLIP).wait(10)
    before = _db_counts(run)
    heard = work / f"{kind}-{n}.wav"
    result: dict = {}
    ready_before = run.ready_count()
    thread = _call(run, script, heard, result)
    wait_answered(handle_for(run.settings))
    if kind == "greeting":
        time.sleep(1.0)
    else:
        _wait_recording(run)
        time.sleep(1.5)  # into the caller's message
    os.kill(run.worker_pid(), signal.SIGKILL)
    killed = time.time()
    back = run.wait_ready(ready_before + 1, 180)
    thread.join(120)
    call = result.get("call")
    after = _db_counts(run)
    return {
        "kind": kind,
        "silence_s": silence_after(heard, killed - call.recording_started_at)
        if call and heard.exists()
        else None,
        "worker_back_s": round(back, 1),
        "caller_connected": bool(call and call.connected),
        "ticket_kept": after["tickets"] - before["tickets"] == 1 if kind == "recording" else None,
    }


WRITER = """
import sys
from pathlib import Path
from hotline.settings import load_settings
from console.edit.intents import IntentEditor
settings = load_settings(sys.argv[1])
editor = IntentEditor(settings)
source = editor.find(sys.argv[2])
base = source.draft
extra = (*base.examples, "câu thử ghi tệp khi tiến trình bị dừng đột ngột")
print("ready", flush=True)
i = 0
while True:
    i += 1
    editor.save(sys.argv[2], base.__class__(base.title, base.answer, base.follow_up,
                extra if i % 2 else base.examples, base.keywords), "")
"""


def _intent_write_kills(work: Path, kills: int) -> dict[str, object]:
    """A process saving one intent back and forth through the console's editor, killed at random."""
    import shutil

    from console.edit.intent_yaml import find_intent
    from intents.catalog import load_catalog

    catalog = work / "config" / "intents"
    shutil.copytree(ROOT / "config" / "intents", catalog)
    for name in ("hotline.yaml", "dialect.yaml", "abbreviations.yaml", "prompts.yaml"):
        shutil.copy(ROOT / "config" / name, work / "config" / name)
    config = work / "config" / "hotline.yaml"
    intent_id = "birth_registration"
    source = find_intent(catalog, intent_id)
    assert source is not None
    versions = {len(source.draft.examples), len(source.draft.examples) + 1}
    env = {**os.environ, "HOTLINE_PATHS__DATA_DIR": str(work / "var")}
    rng = random.Random(SEED)
    whole = broken = 0
    for _ in range(kills):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(config), intent_id],
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        proc.stdout.readline()  # "ready": imports done, saving from now on
        time.sleep(rng.uniform(0.0, 0.4))
        proc.kill()
        proc.wait()
        found = find_intent(catalog, intent_id)
        try:
            load_catalog(catalog)
            ok = found is not None and len(found.draft.examples) in versions
        except Exception:
            ok = False
        whole += ok
        broken += not ok
    left = list(catalog.glob(".*.tmp"))
    for path in left:  # as old as a crash long ago: the next save sweeps them
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    finish = subprocess.run(
        [sys.executable, "-c", WRITER.replace("while True:", "for _ in range(1):"), str(config), intent_id],
        cwd=work,
        env=env,
        capture_output=True,
        timeout=120,
    )
    swept = not list(catalog.glob(".*.tmp")) and finish.returncode == 0
    return {
        "kills": kills,
        "whole_file_after_kill": whole,
        "broken": broken,
        "temp_files_left": len(left),
        "temp_files_swept_by_next_save": swept,
    }


def _spread(values: list) -> dict[str, float | None]:
    return {"max": max(values, default=None), "median": float(np.median(values)) if values else None}


def run() -> dict[str, object]:
    rounds: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="hotline-crash-") as tmp:
        work = Path(tmp)
        hotline = HotlineRun(work)
        hotline.start()
        try:
            for n in range(GREETING_ROUNDS + RECORDING_ROUNDS):
                kind = "greeting" if n % 2 == 0 else "recording"
                try:
                    rounds.append(_round(hotline, kind, n, work))
                except Exception as exc:  # a failed round is a finding, not the end of the campaign
                    rounds.append({"kind": kind, "error": f"{type(exc).__name__}: {exc}"})
                print(f"   round {n}: {rounds[-1]}", flush=True)
            from sip.script import CallScript

            result: dict = {}
            greeted = CallScript().wait_for_audio(timeout=20).wait(3)
            _call(hotline, greeted, work / "next.wav", result).join(90)
            next_call = result.get("call")
            next_ok = bool(next_call and next_call.connected and (work / "next.wav").stat().st_size > 8000)
        finally:
            code = hotline.stop()
        counts = _db_counts(hotline)
        spool = list(_spool(hotline).glob("*")) if _spool(hotline).exists() else []
        recordings = hotline.settings.data_dir / hotline.settings.ivr.recordings_dir
        partial = list(recordings.rglob(".*.part"))
        writes = _intent_write_kills(work / "writes", WRITE_KILLS)
    silences = [r["silence_s"] for r in rounds if isinstance(r.get("silence_s"), float)]
    backs = [r["worker_back_s"] for r in rounds if isinstance(r.get("worker_back_s"), float)]
    recording_rounds = [r for r in rounds if r.get("kind") == "recording"]
    ok = (
        len(silences) == len(rounds)
        and max(silences) <= SILENCE_TARGET_S
        and all(r.get("ticket_kept") for r in recording_rounds)
        and next_ok
        and counts["open_calls"] == 0
        and not spool
        and not partial
        and writes["broken"] == 0
        and writes["temp_files_swept_by_next_save"]
        and code == 0
    )
    return {
        "ok": ok,
        "seed": SEED,
        "worker_kills": len(rounds),
        "rounds": rounds,
        "silence_after_kill_s": _spread(silences),
        "worker_back_s": _spread(backs),
        "complaints_kept": sum(bool(r.get("ticket_kept")) for r in recording_rounds),
        "complaints_interrupted": len(recording_rounds),
        "next_call_greeted": next_ok,
        "calls_logged": counts["calls"],
        "calls_left_open": counts["open_calls"],
        "spool_left": len(spool),
        "half_written_recordings": len(partial),
        "hotline_run_exit": code,
        "intent_writes": writes,
    }
