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
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from core.errors import HotlineError

if TYPE_CHECKING:
    from asterisk import AsteriskHandle
    from ivr.settings import IvrConfig
    from voice.audio import AudioChunk

logger = logging.getLogger(__name__)

CALL_RATE = 8000  # the caller's conference clock and every WAV it plays/records (G.711 rate)
# pjmedia signal level (0..255, u-law-like scale) of what the far end sends us, above which we hear
# audio. pjsua2 names levels from the conference bridge's side: the call's *tx* level is what we hear.
HEARD_LEVEL = 10


class CallerError(HotlineError):
    """The caller could not place or run a call."""

    code = "caller"


# --- Script ---------------------------------------------------------------------------------------

StepKind = Literal["wait_for_audio", "wait_for_silence", "play", "dtmf", "wait", "hangup"]


@dataclass(frozen=True)
class Step:
    kind: StepKind
    path: str | None = None  # play: audio file
    digits: str | None = None  # dtmf: keys to press
    seconds: float = 0.0  # wait: duration; wait_for_silence: how long the silence must last
    timeout: float = 15.0  # wait_for_*: give up after this many seconds (the script goes on)


@dataclass
class CallScript:
    """What the caller does, step by step; each step is bounded in time."""

    steps: list[Step] = field(default_factory=list)

    def wait_for_audio(self, timeout: float = 15.0) -> CallScript:
        """Wait until the hotline starts talking."""
        self.steps.append(Step("wait_for_audio", timeout=timeout))
        return self

    def wait_for_silence(self, seconds: float = 0.8, timeout: float = 60.0) -> CallScript:
        """Wait until the hotline has been quiet for `seconds` (it finished a prompt)."""
        self.steps.append(Step("wait_for_silence", seconds=seconds, timeout=timeout))
        return self

    def play(self, path: Path | str) -> CallScript:
        """Speak an audio file (any format voice.audio reads; converted to 8 kHz mono first)."""
        self.steps.append(Step("play", path=str(path)))
        return self

    def dtmf(self, digits: str) -> CallScript:
        """Press keys (RFC 4733 telephone events)."""
        if not digits or any(c not in "0123456789*#ABCD" for c in digits):
            raise CallerError(f"invalid DTMF digits: {digits!r}")
        self.steps.append(Step("dtmf", digits=digits))
        return self

    def wait(self, seconds: float) -> CallScript:
        self.steps.append(Step("wait", seconds=seconds))
        return self

    def hangup(self) -> CallScript:
        self.steps.append(Step("hangup"))
        return self

    @classmethod
    def simple(
        cls, audio: list[Path] | None = None, dtmf: list[str] | None = None, wait: float = 5.0
    ) -> CallScript:
        """The `hotline call` script: for each file, let the hotline finish talking, then speak; then keys."""
        script = cls()
        for path in audio or []:
            script.wait_for_audio(timeout=10.0).wait_for_silence(1.0, timeout=60.0).play(path)
        for digits in dtmf or []:
            script.wait_for_audio(timeout=5.0).wait_for_silence(1.0, timeout=60.0).dtmf(digits)
        script.wait(wait).hangup()
        return script

    def to_list(self) -> list[dict]:
        return [asdict(s) for s in self.steps]

    @classmethod
    def from_list(cls, items: list[dict]) -> CallScript:
        return cls([Step(**item) for item in items])


# --- Target and result --------------------------------------------------------------------------


@dataclass(frozen=True)
class CallTarget:
    """Where to call and as whom; ARI credentials (optional) let the caller report the channel id."""

    host: str
    port: int
    extension: str
    user: str = "caller"
    password: str = ""
    register: bool = False
    ari_url: str = ""  # base URL without /ari
    ari_user: str = ""
    ari_password: str = ""

    @classmethod
    def from_handle(cls, handle: AsteriskHandle, to: str | None = None, register: bool = False) -> CallTarget:
        return cls(
            host=handle.sip_host,
            port=handle.sip_port,
            extension=to or handle.extension,
            password=handle.secrets.caller_password if handle.secrets else "",
            register=register,
            ari_url=handle.ari_url,
            ari_user=handle.ari_user,
            ari_password=handle.ari_password,
        )


@dataclass
class CallResult:
    connected: bool = False
    sip_call_id: str = ""
    channel_id: str = ""  # the Asterisk channel id (= ARI channel id) when ARI could tell
    status_code: int = 0  # last SIP status seen (200, 404, 486, ...)
    reason: str = ""
    hangup_by: str = ""  # caller | remote
    started_at: float = 0.0  # unix time the INVITE was sent
    answered_at: float = 0.0  # unix time of 200 OK
    recording_started_at: float = 0.0  # unix time of the recording's first sample
    recording: str = ""
    duration_s: float = 0.0
    played: list[dict] = field(default_factory=list)  # file, started_s, finished_s, speech_end_s, latency_s
    events: list[dict] = field(default_factory=list)  # step log, times in seconds on the recording
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallResult:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @property
    def latencies(self) -> list[float]:
        return [p["latency_s"] for p in self.played if p.get("latency_s") is not None]

    def summary(self) -> str:
        if not self.connected:
            return f"call failed: {self.status_code} {self.reason} {self.error}".strip()
        lines = [
            f"call {self.sip_call_id} (channel {self.channel_id or '?'}) {self.duration_s:.1f} s, "
            f"hung up by {self.hangup_by or '?'}",
            f"recording: {self.recording}",
        ]
        for p in self.played:
            lat = f"{p['latency_s'] * 1000:.0f} ms" if p.get("latency_s") is not None else "no answer heard"
            lines.append(
                f"  spoke {Path(p['file']).name} until {p['speech_end_s']:.2f} s; answer after {lat}"
            )
        return "\n".join(lines)


# --- Latency from a recording -----------------------------------------------------------------------


def _frame_dbfs(samples: np.ndarray, rate: int, window_ms: int) -> np.ndarray:
    n = max(1, rate * window_ms // 1000)
    frames = len(samples) // n
    if frames == 0:
        return np.zeros(0)
    x = samples[: frames * n].astype(np.float64).reshape(frames, n) / 32768.0
    rms = np.sqrt(np.mean(x * x, axis=1))
    return 20.0 * np.log10(np.maximum(rms, 1e-9))


def _as_chunk(recording: Path | str | AudioChunk) -> AudioChunk:
    from voice.audio import AudioChunk, read_audio, to_mono

    chunk = recording if isinstance(recording, AudioChunk) else read_audio(recording)
    return to_mono(chunk)


def first_audio_after(
    recording: Path | str | AudioChunk,
    after_s: float = 0.0,
    *,
    threshold_dbfs: float = -40.0,
    window_ms: int = 10,
    min_active_ms: int = 50,
) -> float | None:
    """Time (s) of the first sound in the recording at or after `after_s`: `min_active_ms` above threshold."""
    chunk = _as_chunk(recording)
    db = _frame_dbfs(chunk.array(), chunk.rate, window_ms)
    need = max(1, min_active_ms // window_ms)
    start = max(0, int(after_s * 1000) // window_ms)
    run = 0
    for i in range(start, len(db)):
        run = run + 1 if db[i] > threshold_dbfs else 0
        if run >= need:
            return (i - need + 1) * window_ms / 1000.0
    return None


def last_audio_end(
    recording: Path | str | AudioChunk, *, threshold_dbfs: float = -40.0, window_ms: int = 10
) -> float | None:
    """Time (s) where the last sound of a recording ends (trailing silence ignored)."""
    chunk = _as_chunk(recording)
    db = _frame_dbfs(chunk.array(), chunk.rate, window_ms)
    loud = np.nonzero(db > threshold_dbfs)[0]
    return None if len(loud) == 0 else (int(loud[-1]) + 1) * window_ms / 1000.0


def answer_latency(recording: Path | str | AudioChunk, speech_end_s: float, **kwargs: Any) -> float | None:
    """Seconds from the end of the caller's speech to the first answer audio in the caller's recording."""
    first = first_audio_after(recording, speech_end_s, **kwargs)
    return None if first is None else round(first - speech_end_s, 3)


def audible_seconds(recording: Path | str | AudioChunk, *, threshold_dbfs: float = -40.0) -> float:
    """How many seconds of the recording carry sound (10 ms windows above the threshold)."""
    chunk = _as_chunk(recording)
    return float(np.sum(_frame_dbfs(chunk.array(), chunk.rate, 10) > threshold_dbfs)) * 0.01


# --- Running a call (blocking, owns the process's one pjsua2 endpoint) --------------------------------


def _prepare_audio(path: Path, workdir: Path, index: int) -> tuple[Path, int, float]:
    """8 kHz mono 16-bit WAV copy of `path`; returns (wav, samples, speech end in s)."""
    from voice.audio import read_audio, resample, to_mono, write_wav

    if not path.is_file():
        raise CallerError(f"{path}: audio file not found")
    chunk = resample(to_mono(read_audio(path)), CALL_RATE)
    out = workdir / f"say{index:02d}.wav"
    write_wav(out, chunk)
    end = last_audio_end(chunk)
    return out, chunk.samples, end if end is not None else chunk.duration_s


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
                prepared[i] = _prepare_audio(Path(step.path or ""), workdir, i)
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
        start_endpoint(ep, target, workdir / "pjsua.log", "hotline-caller")
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
        _pump(
            ep, lambda: result.status_code > 0 or state["disconnected"], min(5.0, deadline - time.monotonic())
        )
        if result.status_code == 0 and not state["disconnected"]:
            result.error = f"no SIP response from {target.host}:{target.port} (is Asterisk running?)"
            return result
        _pump(
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

                ok = _pump(ep, heard, min(step.timeout, deadline - time.monotonic()))
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

                event["quiet"] = _pump(ep, quiet_long_enough, min(step.timeout, deadline - time.monotonic()))
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

                _pump(ep, played_out, min(length + 2.0, deadline - time.monotonic()))
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
            elif step.kind == "dtmf":
                call.dialDtmf(step.digits or "")
                # each digit takes ~100 ms of events plus a gap; let them go out before the next step
                _pump(ep, lambda: state["disconnected"], 0.2 * len(step.digits or ""))
            elif step.kind == "wait":
                _pump(ep, lambda: state["disconnected"], min(step.seconds, deadline - time.monotonic()))
            elif step.kind == "hangup":
                break
            result.events.append(event)

        if not state["disconnected"]:
            result.hangup_by = "caller"
            call.hangup(pj.CallOpParam(True))
            _pump(ep, lambda: state["disconnected"], 5.0)
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
            _pump(ep, lambda: False, 0.2)
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


def start_endpoint(ep: Any, target: CallTarget, log_file: Path, user_agent: str) -> None:
    """Initialise and start a created pjsua2 endpoint: no threads, no VAD, null sound device, PCMU only,
    SIP and media bound to loopback when Asterisk is on loopback."""
    import pjsua2 as pj

    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.uaConfig.maxCalls = 2
    cfg.uaConfig.userAgent = user_agent
    cfg.uaConfig.stunServer = pj.StringVector()
    cfg.logConfig.level = 3
    cfg.logConfig.consoleLevel = 0  # stdout stays clean for --json
    cfg.logConfig.filename = str(log_file)
    cfg.medConfig.noVad = True
    cfg.medConfig.clockRate = CALL_RATE
    cfg.medConfig.sndClockRate = CALL_RATE
    cfg.medConfig.channelCount = 1
    cfg.medConfig.ecTailLen = 0
    ep.libInit(cfg)
    tcfg = pj.TransportConfig()
    tcfg.port = 0
    tcfg.boundAddress = _bound_address(target)
    tcfg.publicAddress = tcfg.boundAddress
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
    ep.libStart()
    ep.audDevManager().setNullDev()
    for codec in ep.codecEnum2():  # offer PCMU only, like a G.711 phone line
        ep.codecSetPriority(codec.codecId, 255 if codec.codecId.startswith("PCMU/") else 0)


def _bound_address(target: CallTarget) -> str:
    return "127.0.0.1" if target.host.startswith("127.") else ""


def account_config(target: CallTarget) -> Any:
    """pjsua2 account for `target.user`: digest credentials, registration if asked, no STUN/ICE."""
    import pjsua2 as pj

    acfg = pj.AccountConfig()
    acfg.idUri = f"sip:{target.user}@{target.host}"
    if target.register:
        acfg.regConfig.registrarUri = f"sip:{target.host}:{target.port}"
        acfg.regConfig.registerOnAdd = True
    else:
        acfg.regConfig.registerOnAdd = False
    if target.password:
        acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", target.user, 0, target.password))
    acfg.natConfig.iceEnabled = False
    acfg.natConfig.sipStunUse = pj.PJSUA_STUN_USE_DISABLED
    acfg.natConfig.mediaStunUse = pj.PJSUA_STUN_USE_DISABLED
    acfg.mediaConfig.transportConfig.boundAddress = _bound_address(target)
    acfg.mediaConfig.transportConfig.publicAddress = _bound_address(target)
    return acfg


def wait_registered(ep: Any, acc: Any, seconds: float) -> None:
    """Poll until the account's REGISTER succeeded; CallerError if it was refused or never answered."""
    _pump(ep, lambda: acc.getInfo().regIsActive or acc.getInfo().regStatus >= 300, seconds)
    if not acc.getInfo().regIsActive:
        raise CallerError(f"registration failed: {acc.getInfo().regStatus} {acc.getInfo().regStatusText}")


def _pump(ep: Any, done: Any, seconds: float) -> bool:
    """Poll pjsua2 events until `done()` is true or `seconds` pass; returns done()."""
    end = time.monotonic() + max(0.0, seconds)
    while True:
        if done():
            return True
        if time.monotonic() >= end:
            return bool(done())
        ep.libHandleEvents(10)


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
    from voice.audio import read_audio

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
    job = _job(target, script, record, timeout)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "sip.caller"],
            input=job,
            capture_output=True,
            text=True,
            timeout=timeout + 30,
        )
    except subprocess.TimeoutExpired:
        return CallResult(error=f"caller process did not finish within {timeout + 30:.0f} s")
    return _parse(proc.returncode, proc.stdout, proc.stderr)


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
) -> CallResult:
    """`hotline call`: call the configured Asterisk as the `caller` endpoint, in this process."""
    from asterisk import handle_for

    handle = handle_for(settings)
    if handle.mode == "external":
        raise CallerError(
            "ivr.asterisk.mode is external: the caller needs the SIP password of a local instance"
        )
    if handle.pid is None:
        from asterisk import ari_ready

        ok, _ = ari_ready(handle, timeout=1.0)
        if not ok:
            raise CallerError("Asterisk is not running (start it with `hotline asterisk up`)")
    return run_call(CallTarget.from_handle(handle, to=to), script, record=record, timeout=timeout)


def call_log_report(settings: IvrConfig, sip_call_id: str, timeout: float = 10.0) -> tuple[dict | None, str]:
    """What the hotline recognized and decided for this SIP call, from the call log: (report, why none).

    The application stores each call with the SIP Call-ID of the caller's leg, so the caller finds its
    call without asking Asterisk; we wait (bounded) until the application has closed the call.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from core.db import engine_for, session_factory
    from ivr.store import wait_call_report

    if not sip_call_id:
        return None, "no SIP Call-ID (the call was not placed)"
    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return None, "no call log yet (the hotline application has never run with these settings)"
    engine = engine_for(settings)
    try:
        report = wait_call_report(session_factory(engine), sip_call_id, timeout=timeout)
    except SQLAlchemyError as exc:
        return None, f"call log unreadable: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    finally:
        engine.dispose()
    if report is None:
        return None, "the call is not in the call log (it did not reach the hotline application)"
    if report["ended_at"] is None:
        return report, f"the application had not closed the call after {timeout:.0f} s"
    return report, ""


def describe_report(report: dict) -> str:
    """A few human-readable lines: the outcome and each turn (transcripts are stored masked)."""
    degraded = " (keypad only)" if report["degraded"] else ""
    lines = [f"hotline: call {report['id']} outcome {report['outcome']}{degraded}"]
    for t in report["turns"]:
        heard = f'"{t["transcript"]}"' if t["transcript"] else (f"keys {t['dtmf']}" if t["dtmf"] else "")
        score = f" {t['score']:.2f}" if t["score"] is not None else ""
        latency = f", answered after {t['response_ms']} ms" if t["response_ms"] is not None else ""
        intent = f"intent {t['intent']}{score}" if t["intent"] else ""
        decided = " ".join(x for x in (intent, t["action"] or "") if x)
        lines.append(f"  {t['seq']}. {t['kind']} {heard} -> {decided or '-'}{latency}".rstrip())
    return "\n".join(lines)


def _main() -> None:
    """Child-process entry: a JSON job on stdin, the JSON result on stdout."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
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
