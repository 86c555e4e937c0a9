"""pjsua2 set-up shared by the test caller and the operator agent: endpoint, account, polling."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from asterisk.handle import AsteriskHandle, ari_ready, handle_for
from asterisk.secrets import AsteriskSecrets
from asterisk.settings import AsteriskConfig
from sip.measure import last_audio_end
from sip.script import CALL_RATE, CallerError, CallTarget
from voice.audio import read_audio, resample, to_mono, write_wav

# pjmedia signal level (0..255, u-law-like scale) of what the far end sends us, above which we hear
# audio. pjsua2 names levels from the conference bridge's side: the call's *tx* level is what we hear.
HEARD_LEVEL = 10


def prepare_audio(path: Path, workdir: Path, index: int) -> tuple[Path, int, float]:
    """8 kHz mono 16-bit WAV copy of `path`; returns (wav, samples, speech end in s)."""

    if not path.is_file():
        raise CallerError(f"{path}: audio file not found")
    chunk = resample(to_mono(read_audio(path)), CALL_RATE)
    out = workdir / f"say{index:02d}.wav"
    write_wav(out, chunk)
    end = last_audio_end(chunk)
    return out, chunk.samples, end if end is not None else chunk.duration_s


def start_endpoint(
    ep: Any, target: CallTarget, log_file: Path, user_agent: str, fixed_jitter_ms: int | None = None
) -> None:
    """Initialise and start a created pjsua2 endpoint: no threads, no VAD, null sound device, one G.711
    law only (target.codec), SIP and media bound to loopback when Asterisk is on loopback."""
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
    if fixed_jitter_ms is not None:
        # A jitter buffer that neither grows nor shrinks: what the caller hears keeps one delay.
        cfg.medConfig.jbInit = cfg.medConfig.jbMinPre = cfg.medConfig.jbMaxPre = fixed_jitter_ms
        cfg.medConfig.jbMax = 4 * fixed_jitter_ms
    ep.libInit(cfg)
    tcfg = pj.TransportConfig()
    tcfg.port = 0
    tcfg.boundAddress = bound_address(target)
    tcfg.publicAddress = tcfg.boundAddress
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
    ep.libStart()
    ep.audDevManager().setNullDev()
    wanted = "PCMA/" if target.codec == "alaw" else "PCMU/"
    for codec in ep.codecEnum2():  # offer one law only, like a G.711 phone line
        ep.codecSetPriority(codec.codecId, 255 if codec.codecId.startswith(wanted) else 0)


def bound_address(target: CallTarget) -> str:
    if target.source:
        return target.source
    return "127.0.0.1" if target.host.startswith("127.") else ""


def account_config(target: CallTarget) -> Any:
    """pjsua2 account for `target.user`: digest credentials, registration if asked, no STUN/ICE."""
    import pjsua2 as pj

    acfg = pj.AccountConfig()
    acfg.idUri = f"sip:{target.user}@{target.host}"
    if target.display:
        acfg.idUri = f'"{target.display}" <{acfg.idUri}>'
    if target.register:
        acfg.regConfig.registrarUri = f"sip:{target.host}:{target.port}"
        acfg.regConfig.registerOnAdd = True
    else:
        acfg.regConfig.registerOnAdd = False
    if target.password:
        user = target.auth_user or target.user
        acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", user, 0, target.password))
    acfg.natConfig.iceEnabled = False
    acfg.natConfig.sipStunUse = pj.PJSUA_STUN_USE_DISABLED
    acfg.natConfig.mediaStunUse = pj.PJSUA_STUN_USE_DISABLED
    acfg.mediaConfig.transportConfig.boundAddress = bound_address(target)
    acfg.mediaConfig.transportConfig.publicAddress = bound_address(target)
    return acfg


def wait_registered(ep: Any, acc: Any, seconds: float) -> None:
    """Poll until the account's REGISTER succeeded; CallerError if it was refused or never answered."""
    pump(ep, lambda: acc.getInfo().regIsActive or acc.getInfo().regStatus >= 300, seconds)
    if not acc.getInfo().regIsActive:
        raise CallerError(f"registration failed: {acc.getInfo().regStatus} {acc.getInfo().regStatusText}")


def pump(ep: Any, done: Any, seconds: float) -> bool:
    """Poll pjsua2 events until `done()` is true or `seconds` pass; returns done()."""
    end = time.monotonic() + max(0.0, seconds)
    while True:
        if done():
            return True
        if time.monotonic() >= end:
            return bool(done())
        ep.libHandleEvents(10)


def local_asterisk(settings: AsteriskConfig, who: str) -> tuple[AsteriskHandle, AsteriskSecrets]:
    """The Asterisk of these settings, running here, and its SIP passwords, for a SIP agent of ours
    (`who`: for the messages).

    Our agents register with passwords from the local instance's secrets: an external Asterisk has none
    for them, and one that is not running cannot answer.
    """
    handle = handle_for(settings)
    if handle.mode == "external" or handle.secrets is None:
        raise CallerError(f"ivr.asterisk.mode is external: {who} needs the SIP password of a local instance")
    if handle.pid is None:
        ok, _ = ari_ready(handle, timeout=1.0)
        if not ok:
            raise CallerError("Asterisk is not running (start it with `hotline asterisk up`)")
    return handle, handle.secrets
