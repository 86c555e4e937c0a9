"""An answering SIP user agent for an operator seat: registers as `operator` (seat N: `operatorN`), answers.

It stands in for a human operator's softphone (demo, `hotline operator-agent`) and for the operators
in the end-to-end tests: the hotline transfers a caller to `PJSIP/operator` (or rings several seats
at once, `PJSIP/operator&PJSIP/operator2`), this agent answers,
optionally speaks a WAV file and records what it hears. Like the caller, pjsua2 runs without threads
of its own and is polled here; run it in its own process, never inside an asyncio application.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from asterisk.secrets import operator_user
from core.errors import HotlineError
from sip.measure import audible_seconds
from sip.pjsua import (
    account_config,
    local_asterisk,
    prepare_audio,
    pump,
    start_endpoint,
    wait_registered,
)
from sip.script import CallerError, CallTarget

if TYPE_CHECKING:
    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)


@dataclass
class AgentOptions:
    play: str | None = None  # audio file spoken once after answering (any format voice.audio reads)
    record: str | None = None  # WAV of what the operator hears; call n > 1 adds "-n" to the name
    calls: int = 1  # stop after this many answered calls; 0: until stopped
    timeout: float = 0.0  # stop after this many seconds; 0: no limit
    ring_s: float = 0.3  # ring this long before answering, like a person picking up
    play_delay_s: float = 1.0  # pause between answering and speaking, like a person saying hello
    hangup_after_s: float = 0.0  # the operator hangs up this long after answering; 0: the caller does


@dataclass
class AgentCall:
    """One answered call, as the operator experienced it."""

    remote: str = ""  # the caller id Asterisk presented
    sip_call_id: str = ""
    answered_at: float = 0.0  # unix time of the answer (200 OK confirmed)
    ended_at: float = 0.0
    duration_s: float = 0.0
    hangup_by: str = ""  # operator | remote
    recording: str = ""
    recording_started_at: float = 0.0  # unix time of the recording's first sample
    heard_s: float = 0.0  # seconds of audible audio in the recording
    played: str = ""
    played_at_s: float | None = None  # when the played file started, in seconds of the recording
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def agent_target(settings: IvrConfig, seat: int = 1) -> CallTarget:
    """Registration target for operator seat `seat` of our Asterisk (password from its secrets)."""

    seats = settings.ivr.asterisk.operator_seats
    if not 1 <= seat <= seats:
        raise CallerError(
            f"there is no operator seat {seat}: ivr.asterisk.operator_seats is {seats} "
            f"(seats 1..{seats}: {', '.join(operator_user(n) for n in range(1, seats + 1))})"
        )
    handle, secrets = local_asterisk(settings, "the operator agent")
    return CallTarget(
        host=handle.sip_host,
        port=handle.sip_port,
        extension="",
        user=operator_user(seat),
        password=secrets.seat_password(seat),
        register=True,
    )


@contextlib.contextmanager
def result_stream() -> Iterator[TextIO]:
    """The real stdout for results while fd 1 goes to stderr (pjlib prints there before any log setting)."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    out = os.fdopen(os.dup(saved), "w", buffering=1, encoding="utf-8")
    try:
        yield out
    finally:
        out.close()
        os.dup2(saved, 1)
        os.close(saved)


def _recording_path(base: Path, n: int) -> Path:
    return base if n == 1 else base.with_name(f"{base.stem}-{n}{base.suffix or '.wav'}")


def run_agent(
    target: CallTarget,
    options: AgentOptions,
    emit: Callable[[dict[str, Any]], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> list[AgentCall]:
    """Register, answer calls until `options.calls` were answered (or stop/timeout), unregister; blocking.

    `emit` receives events as they happen: registered, answered, call (the AgentCall), stopped.
    """
    import pjsua2 as pj

    def tell(event: dict[str, Any]) -> None:
        if emit is not None:
            emit(event)

    deadline = time.monotonic() + options.timeout if options.timeout > 0 else float("inf")
    stop_requested = [False]

    def stopping() -> bool:
        return stop_requested[0] or (stop is not None and stop()) or time.monotonic() > deadline

    workdir = Path(tempfile.mkdtemp(prefix="hotline-operator-"))
    play_wav: Path | None = None
    if options.play:
        play_wav, _, _ = prepare_audio(Path(options.play), workdir, 0)  # CallerError if missing
    record_base = Path(options.record) if options.record else workdir / "heard.wav"
    record_base.parent.mkdir(parents=True, exist_ok=True)

    # Ctrl+C / SIGTERM end the agent cleanly (unregister, close the recording) instead of aborting.
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop_requested.__setitem__(0, True))

    incoming: list[Any] = []  # calls offered while idle, answered by the loop below
    live: dict[str, Any] = {"call": None, "media": None, "recorder": None, "player": None}
    flags: dict[str, Any] = {"confirmed": False, "disconnected": False, "t0": None}
    results: list[AgentCall] = []

    class _Call(pj.Call):
        def onCallState(self, prm: Any) -> None:  # noqa: N802 - pjsua2 callback name
            info = self.getInfo()
            if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
                flags["confirmed"] = True
            elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                flags["disconnected"] = True

        def onCallMediaState(self, prm: Any) -> None:  # noqa: N802
            info = self.getInfo()  # keep it: its media list lives inside this object
            for mi in info.media:
                if (
                    mi.type == pj.PJMEDIA_TYPE_AUDIO
                    and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE
                    and live["media"] is None
                ):
                    aud = self.getAudioMedia(mi.index)
                    live["media"] = aud
                    recorder = pj.AudioMediaRecorder()
                    recorder.createRecorder(str(live["recording"]))
                    aud.startTransmit(recorder)
                    live["recorder"] = recorder
                    flags["t0"] = time.monotonic()
                    flags["t0_unix"] = time.time()

    unregistered = [False]

    class _Account(pj.Account):
        def onRegState(self, prm: Any) -> None:  # noqa: N802
            if prm.expiration == 0:  # the registrar answered our un-REGISTER (or the registration failed)
                unregistered[0] = True

        def onIncomingCall(self, prm: Any) -> None:  # noqa: N802
            call = _Call(self, prm.callId)
            if live["call"] is not None or incoming:
                busy = pj.CallOpParam()
                busy.statusCode = pj.PJSIP_SC_BUSY_HERE
                call.hangup(busy)
                return
            incoming.append(call)

    ep = pj.Endpoint()
    ep.libCreate()
    acc: Any = None
    try:
        start_endpoint(ep, target, workdir / "pjsua.log", "hotline-operator")
        acc = _Account()
        acc.create(account_config(target))
        wait_registered(ep, acc, 10.0)
        tell({"event": "registered", "uri": f"sip:{target.user}@{target.host}:{target.port}"})
        while not stopping() and (options.calls <= 0 or len(results) < options.calls):
            if not pump(ep, lambda: bool(incoming) or stopping(), 0.5):
                continue
            if not incoming:
                break
            call = incoming.pop(0)
            n = len(results) + 1
            live.update(call=call, media=None, recorder=None, player=None)
            live["recording"] = _recording_path(record_base, n)
            flags.update(confirmed=False, disconnected=False, t0=None)
            results.append(_answer(pj, ep, call, live, flags, options, play_wav, stopping, tell))
            # pjsua2 objects of this call go before the next one (and before libDestroy): the recorder
            # writes its WAV header when destroyed.
            live.update(call=None, media=None, recorder=None, player=None)
            call = None
            # The conference bridge removes ports asynchronously: the recorder's file is complete (WAV
            # header written) only after a few more ticks.
            pump(ep, lambda: False, 0.3)
            result = results[-1]
            if result.recording and Path(result.recording).is_file():
                try:
                    result.heard_s = round(audible_seconds(result.recording), 2)
                except HotlineError as exc:
                    result.error = result.error or f"recording unreadable: {exc}"
            tell({"event": "call", **result.to_dict()})
    finally:
        for call in incoming:  # offered while stopping: refuse
            with contextlib.suppress(Exception):
                busy = pj.CallOpParam()
                busy.statusCode = pj.PJSIP_SC_TEMPORARILY_UNAVAILABLE
                call.hangup(busy)
        incoming.clear()
        live.clear()
        try:
            ep.hangupAllCalls()
            pump(ep, lambda: False, 0.2)
        except Exception:
            pass
        if acc is not None:
            # Unregister, so that transfers stop ringing a seat nobody sits at.
            with contextlib.suppress(Exception):
                if acc.getInfo().regIsActive:
                    unregistered[0] = False
                    acc.setRegistration(False)
                    pump(ep, lambda: unregistered[0], 3.0)
            with contextlib.suppress(Exception):
                acc.shutdown()
        acc = None
        ep.libDestroy()
        del ep
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    tell({"event": "stopped", "calls": len(results)})
    return results


def _answer(
    pj: Any,
    ep: Any,
    call: Any,
    live: dict[str, Any],
    flags: dict[str, Any],
    options: AgentOptions,
    play_wav: Path | None,
    stopping: Callable[[], bool],
    tell: Callable[[dict[str, Any]], None],
) -> AgentCall:
    info = call.getInfo()
    result = AgentCall(remote=str(info.remoteUri), sip_call_id=str(info.callIdString))
    try:
        ringing = pj.CallOpParam()
        ringing.statusCode = pj.PJSIP_SC_RINGING
        call.answer(ringing)
        pump(ep, lambda: flags["disconnected"] or stopping(), options.ring_s)
        if flags["disconnected"]:
            result.error = "the caller gave up before the answer"
            return result
        ok = pj.CallOpParam()
        ok.statusCode = pj.PJSIP_SC_OK
        call.answer(ok)
        pump(ep, lambda: flags["disconnected"] or (flags["confirmed"] and flags["t0"] is not None), 5.0)
        if flags["t0"] is None:
            result.error = "no audio after answering"
            return result
        result.answered_at = time.time()
        result.recording = str(live["recording"])
        result.recording_started_at = flags["t0_unix"]
        tell({"event": "answered", "remote": result.remote, "sip_call_id": result.sip_call_id})
        if play_wav is not None:
            pump(ep, lambda: flags["disconnected"] or stopping(), options.play_delay_s)
            if not flags["disconnected"]:
                player = pj.AudioMediaPlayer()
                player.createPlayer(str(play_wav), pj.PJMEDIA_FILE_NO_LOOP)
                live["player"] = player  # alive until the call is over (then destroyed before libDestroy)
                result.played_at_s = round(time.monotonic() - flags["t0"], 3)
                result.played = str(options.play)
                player.startTransmit(live["media"])
        talk = options.hangup_after_s if options.hangup_after_s > 0 else float("inf")
        pump(ep, lambda: flags["disconnected"] or stopping(), talk - (time.time() - result.answered_at))
        if flags["disconnected"]:
            result.hangup_by = "remote"
        else:
            result.hangup_by = "operator"
            call.hangup(pj.CallOpParam(True))
            pump(ep, lambda: flags["disconnected"], 5.0)
    except Exception as exc:  # pjsua2 raises its own Error type; report it, never a traceback
        result.error = f"{type(exc).__name__}: {getattr(exc, 'reason', '') or exc}"
        logger.exception("operator call failed")
    finally:
        if result.answered_at:
            result.ended_at = time.time()
            result.duration_s = round(result.ended_at - result.answered_at, 3)
    return result


def describe(event: dict[str, Any]) -> str:
    """One human-readable line per agent event."""
    kind = event.get("event")
    if kind == "registered":
        return f"operator agent registered as {event['uri']}; waiting for calls (Ctrl+C to stop)"
    if kind == "answered":
        return f"answered a call from {event['remote']}"
    if kind == "call":
        if event.get("error"):
            return f"call from {event['remote']} failed: {event['error']}"
        return (
            f"call from {event['remote']} ended after {event['duration_s']:.1f} s (hung up by "
            f"{event['hangup_by']}); heard {event['heard_s']:.1f} s of audio, recording {event['recording']}"
        )
    if kind == "stopped":
        return f"operator agent stopped after {event['calls']} call(s)"
    return json.dumps(event, ensure_ascii=False)


def _main() -> None:
    """Child-process entry for an agent registered anywhere (e.g. a mobile on a carrier): a JSON job
    {"target": CallTarget fields, "options": AgentOptions fields} on stdin, JSON events on stdout."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    job = json.loads(sys.stdin.read())
    with result_stream() as out:

        def emit(event: dict[str, Any]) -> None:
            out.write(json.dumps(event, ensure_ascii=False) + "\n")

        run_agent(CallTarget(**job["target"]), AgentOptions(**job.get("options", {})), emit)


if __name__ == "__main__":
    _main()
