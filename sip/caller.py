"""A real SIP caller (pjsua2): dials Asterisk over UDP, speaks WAV files, presses keys, records the answer.

pjsua2 runs without threads of its own (`threadCnt=0`, `mainThreadOnly=True`) and is polled with
`libHandleEvents` by whoever runs the call; one pjsua2 endpoint per process. Code that lives in an
asyncio application calls `call()`/`acall()`, which run the caller in a child process
(`python -m sip.caller`, JSON in and out), so pjsua2 never runs inside the application's event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from core.errors import HotlineError
from sip.measure import answer_latency
from sip.pjsua import (
    HEARD_LEVEL,
    account_config,
    local_asterisk,
    prepare_audio,
    pump,
    start_endpoint,
    wait_registered,
)
from sip.script import CALL_RATE, CallerError, CallResult, CallScript, CallTarget
from voice.audio import read_audio

if TYPE_CHECKING:
    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)
_READY = "ready"  # a ReadyCaller's first stdout line, before its result
ECHO_JITTER_MS = 40  # the fixed jitter buffer of a caller whose line returns what it hears


# --- Running a call (blocking, owns the process's one pjsua2 endpoint) --------------------------------


def run_call(
    target: CallTarget, script: CallScript, record: Path | str | None = None, timeout: float = 120.0
) -> CallResult:
    """Place one call and run the script in this thread; blocking. One at a time per process."""
    # pjlib prints its first lines to stdout before any log setting applies: keep stdout for results.
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        return _run_call(target, script, record, timeout)
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _run_call(
    target: CallTarget, script: CallScript, record: Path | str | None, timeout: float
) -> CallResult:
    import pjsua2 as pj

    result = CallResult()
    deadline = time.monotonic() + timeout
    workdir = Path(tempfile.mkdtemp(prefix="hotline-call-"))
    rec_path = Path(record) if record else workdir / "heard.wav"
    rec_path.parent.mkdir(parents=True, exist_ok=True)
    prepared: dict[int, tuple[Path, int, float]] = {}
    try:
        for i, step in enumerate(script.steps):
            if step.kind == "play":
                prepared[i] = prepare_audio(Path(step.path or ""), workdir, i)
    except HotlineError as exc:  # missing or unreadable audio: nothing was dialled
        result.error = str(exc)
        return result

    state: dict[str, Any] = {"media": None, "disconnected": False, "confirmed": False, "t0": None}

    class _Call(pj.Call):
        def onCallState(self, prm: Any) -> None:  # noqa: N802 - pjsua2 callback name
            info = self.getInfo()
            result.status_code = int(info.lastStatusCode)
            result.reason = str(info.lastReason)
            if info.state == pj.PJSIP_INV_STATE_CONFIRMED and not state["confirmed"]:
                state["confirmed"] = True
                result.connected = True
                result.answered_at = time.time()
            elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                state["disconnected"] = True

        def onCallMediaState(self, prm: Any) -> None:  # noqa: N802
            info = self.getInfo()
            for mi in info.media:
                if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                    if state["media"] is None:
                        aud = self.getAudioMedia(mi.index)
                        state["media"] = aud
                        recorder = pj.AudioMediaRecorder()
                        recorder.createRecorder(str(rec_path))
                        aud.startTransmit(recorder)
                        state["recorder"] = recorder
                        state["t0"] = time.monotonic()
                        result.recording_started_at = time.time()

    ep = pj.Endpoint()
    ep.libCreate()
    players: list[Any] = []
    call = acc = None
    try:
        # A caller that returns what it hears plays a line's echo: one delay, so a fixed jitter buffer (an
        # adaptive one moves and stretches what it plays out, and the echo with it)
        echo = any(step.kind == "echo" for step in script.steps)
        start_endpoint(
            ep,
            target,
            workdir / "pjsua.log",
            "hotline-caller",
            fixed_jitter_ms=ECHO_JITTER_MS if echo else None,
        )
        acc = pj.Account()
        acc.create(account_config(target))
        if target.register:
            wait_registered(ep, acc, min(10.0, deadline - time.monotonic()))

        call = _Call(acc)
        prm = pj.CallOpParam(True)
        prm.opt.audioCount = 1
        prm.opt.videoCount = 0
        result.started_at = time.time()
        call.makeCall(f"sip:{target.extension}@{target.host}:{target.port}", prm)
        result.sip_call_id = call.getInfo().callIdString
        # Any SIP answer (even 100 Trying) must come quickly over loopback; then allow ringing time.
        pump(
            ep, lambda: result.status_code > 0 or state["disconnected"], min(5.0, deadline - time.monotonic())
        )
        if result.status_code == 0 and not state["disconnected"]:
            result.error = f"no SIP response from {target.host}:{target.port} (is Asterisk running?)"
            return result
        pump(
            ep,
            lambda: state["t0"] is not None or state["disconnected"],
            min(30.0, deadline - time.monotonic()),
        )
        if state["t0"] is None:
            result.error = result.error or f"call not answered ({result.status_code} {result.reason})"
            return result
        result.recording = str(rec_path)
        if target.ari_url:
            result.channel_id = _channel_id(target, result.sip_call_id)

        def now() -> float:
            return round(time.monotonic() - state["t0"], 3)

        aud = state["media"]
        for i, step in enumerate(script.steps):
            if state["disconnected"] or time.monotonic() > deadline:
                break
            event: dict[str, Any] = {"step": i, "kind": step.kind, "t": now()}
            if step.kind == "wait_for_audio":
                seen = [0]

                def heard(seen: list[int] = seen) -> bool:
                    level = aud.getTxLevel()
                    seen[0] = max(seen[0], level)
                    return level >= HEARD_LEVEL or state["disconnected"]

                ok = pump(ep, heard, min(step.timeout, deadline - time.monotonic()))
                event["level"] = seen[0]
                event["heard"] = ok and not state["disconnected"]
            elif step.kind == "wait_for_silence":
                quiet_since = [time.monotonic()]

                def quiet_long_enough(
                    quiet_since: list[float] = quiet_since, hold: float = step.seconds
                ) -> bool:
                    if aud.getTxLevel() >= HEARD_LEVEL:
                        quiet_since[0] = time.monotonic()
                    return state["disconnected"] or time.monotonic() - quiet_since[0] >= hold

                event["quiet"] = pump(ep, quiet_long_enough, min(step.timeout, deadline - time.monotonic()))
            elif step.kind == "play":
                wav, samples, speech_end = prepared[i]
                # pjsua2 needs the player alive until it is destroyed below, before libDestroy; only
                # the list holds it (a stray local would outlive the library and abort the process).
                players.append(pj.AudioMediaPlayer())
                players[-1].createPlayer(str(wav), pj.PJMEDIA_FILE_NO_LOOP)
                started = now()
                players[-1].startTransmit(aud)
                length = samples / CALL_RATE
                # The player's position counts samples and jumps back to 0 at the end of the file (even
                # without looping), a little before its last buffered frames are out: wait for both.
                last_pos = [0]

                def played_out(
                    n: int = samples,
                    begun: float = time.monotonic(),
                    dur: float = length,
                    last_pos: list[int] = last_pos,
                ) -> bool:
                    pos = players[-1].getPos()
                    ended = pos >= n or pos < last_pos[0]
                    last_pos[0] = max(last_pos[0], pos)
                    return state["disconnected"] or (ended and time.monotonic() - begun >= dur - 0.02)

                pump(ep, played_out, min(length + 2.0, deadline - time.monotonic()))
                finished = now()
                if not state["disconnected"]:
                    players[-1].stopTransmit(aud)
                result.played.append(
                    {
                        "file": step.path,
                        "started_s": started,
                        "finished_s": finished,
                        "speech_end_s": round(started + speech_end, 3),
                        "latency_s": None,
                    }
                )
                event["finished"] = finished
            elif step.kind == "echo":
                # The conference bridge sends the call's incoming audio back into it, attenuated.
                loop = pj.AudioMediaTransmitParam()
                loop.level = 10 ** (step.level_db / 20)
                aud.startTransmit2(aud, loop)
                event["level_db"] = step.level_db
            elif step.kind == "dtmf":
                call.dialDtmf(step.digits or "")
                # each digit takes ~100 ms of events plus a gap; let them go out before the next step
                pump(ep, lambda: state["disconnected"], 0.2 * len(step.digits or ""))
            elif step.kind == "wait":
                pump(ep, lambda: state["disconnected"], min(step.seconds, deadline - time.monotonic()))
            elif step.kind == "hangup":
                break
            result.events.append(event)

        if not state["disconnected"]:
            result.hangup_by = "caller"
            call.hangup(pj.CallOpParam(True))
            pump(ep, lambda: state["disconnected"], 5.0)
        else:
            result.hangup_by = "remote"
        result.duration_s = round(time.time() - (result.answered_at or result.started_at), 3)
    except CallerError as exc:
        result.error = str(exc)
    except Exception as exc:  # pjsua2 raises its own Error type; report it, never a traceback
        result.error = f"{type(exc).__name__}: {getattr(exc, 'reason', '') or exc}"
        logger.exception("call failed")
    finally:
        # Destroy every pjsua2 media object before libDestroy: recorder (writes the WAV header), players.
        aud = None
        players.clear()
        state.clear()
        try:
            ep.hangupAllCalls()
            pump(ep, lambda: False, 0.2)
        except Exception:  # endpoint may be half-initialised
            pass
        call = None
        if acc is not None:
            try:
                acc.shutdown()
            except Exception:
                pass
        acc = None
        ep.libDestroy()
        del ep
    if result.recording and Path(result.recording).exists():
        _measure(result)
    return result


def _channel_id(target: CallTarget, sip_call_id: str) -> str:
    """The Asterisk channel carrying this SIP call, found through ARI (the dialplan exports SIP_CALL_ID)."""
    import httpx

    try:
        resp = httpx.get(
            target.ari_url.rstrip("/") + "/ari/channels",
            auth=(target.ari_user, target.ari_password),
            timeout=1.0,
        )
        for ch in resp.json():
            if (ch.get("channelvars") or {}).get("SIP_CALL_ID") == sip_call_id:
                return str(ch.get("id", ""))
    except (httpx.HTTPError, ValueError):
        pass
    return ""


def _measure(result: CallResult) -> None:

    try:
        heard = read_audio(result.recording)
    except HotlineError as exc:
        result.error = result.error or f"recording unreadable: {exc}"
        return
    for p in result.played:
        p["latency_s"] = answer_latency(heard, p["speech_end_s"])


# --- Entry points for other processes ------------------------------------------------------------------


def call(
    target: CallTarget, script: CallScript, record: Path | str | None = None, timeout: float = 120.0
) -> CallResult:
    """Run the call in a child process (blocking); safe to use from anywhere, several at once."""
    return ReadyCaller().call(target, script, record, timeout)


async def acall(
    target: CallTarget,
    script: CallScript,
    record: Path | str | None = None,
    timeout: float = 120.0,  # noqa: ASYNC109 - bounds the child process, as in call()
) -> CallResult:
    """Async `call()`: the caller runs in a child process; the event loop is never blocked."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sip.caller",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(
            proc.communicate(_job(target, script, record, timeout).encode()), timeout + 30
        )
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return CallResult(error=f"caller process did not finish within {timeout + 30:.0f} s")
    return _parse(proc.returncode or 0, out.decode(), err.decode())


class ReadyCaller:
    """A caller process started ahead of its call: Python, numpy and pjsua2 are loaded before it dials.

    Starting a caller costs ~0.45 s of CPU (the interpreter and its imports), which a real phone never costs
    the hotline's machine. A benchmark that places many calls at once starts them this way first, so the
    round measures the calls (SIP, RTP, the callers' media) and not the test callers' start-up.
    """

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "sip.caller", "--ready"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._ready = False

    @property
    def pid(self) -> int:
        return self._proc.pid

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Block until the process has loaded everything (it says so on stdout); CallerError if it died."""
        stdout = self._proc.stdout
        assert stdout is not None
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or line[0].strip() != _READY:
            err = self.close()
            raise CallerError(f"caller process did not start: {err.strip()[-300:] or 'no answer'}")
        self._ready = True

    def call(
        self, target: CallTarget, script: CallScript, record: Path | str | None = None, timeout: float = 120.0
    ) -> CallResult:
        """Place the call now (blocking), as `call()` does; the process ends with it."""
        if not self._ready:
            try:
                self.wait_ready()
            except CallerError as exc:
                return CallResult(error=str(exc))
        try:
            out, err = self._proc.communicate(_job(target, script, record, timeout), timeout=timeout + 30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.communicate()
            return CallResult(error=f"caller process did not finish within {timeout + 30:.0f} s")
        return _parse(self._proc.returncode, out, err)

    def close(self) -> str:
        """Stop a process that was never given its call; returns what it wrote on stderr."""
        if self._proc.poll() is not None:
            return ""
        self._proc.kill()
        _out, err = self._proc.communicate()
        return err or ""


def _job(target: CallTarget, script: CallScript, record: Path | str | None, timeout: float) -> str:
    return json.dumps(
        {
            "target": asdict(target),
            "script": script.to_list(),
            "record": str(record) if record else None,
            "timeout": timeout,
        }
    )


def _parse(code: int, out: str, err: str) -> CallResult:
    try:
        return CallResult.from_dict(json.loads(out))
    except ValueError:
        tail = "\n".join((err or out).strip().splitlines()[-5:])
        return CallResult(error=f"caller process failed (exit {code}): {tail}")


def run_call_for_settings(
    settings: IvrConfig,
    script: CallScript,
    *,
    to: str | None = None,
    record: Path | str | None = None,
    timeout: float = 120.0,
    codec: Literal["ulaw", "alaw"] = "ulaw",
) -> CallResult:
    """`hotline call`: call the configured Asterisk as the `caller` endpoint, in this process."""

    handle, _secrets = local_asterisk(settings, "the caller")
    target = replace(CallTarget.from_handle(handle, to=to), codec=codec)
    return run_call(target, script, record=record, timeout=timeout)


def _main() -> None:
    """Child-process entry: a JSON job on stdin, the JSON result on stdout."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if "--ready" in sys.argv[1:]:  # a ReadyCaller: load pjsua2 now, say so, then wait for the job
        import pjsua2  # noqa: F401

        sys.stdout.write(_READY + "\n")
        sys.stdout.flush()
    job = json.loads(sys.stdin.read())
    result = run_call(
        CallTarget(**job["target"]),
        CallScript.from_list(job["script"]),
        record=job.get("record"),
        timeout=float(job.get("timeout", 120.0)),
    )
    sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False))
    sys.stdout.flush()


if __name__ == "__main__":
    _main()
