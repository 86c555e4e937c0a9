"""What a test call does and what came of it: the script, the target, the result."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from core.errors import HotlineError

if TYPE_CHECKING:
    from asterisk.handle import AsteriskHandle

CALL_RATE = 8000  # the caller's conference clock and every WAV it plays/records (G.711 rate)


class CallerError(HotlineError):
    """The caller could not place or run a call."""

    code = "caller"


# --- Script ---------------------------------------------------------------------------------------

StepKind = Literal["wait_for_audio", "wait_for_silence", "play", "dtmf", "wait", "hangup", "echo"]


@dataclass(frozen=True)
class Step:
    kind: StepKind
    path: str | None = None  # play: audio file
    digits: str | None = None  # dtmf: keys to press
    seconds: float = 0.0  # wait: duration; wait_for_silence: how long the silence must last
    timeout: float = 15.0  # wait_for_*: give up after this many seconds (the script goes on)
    level_db: float = 0.0  # echo: how far below what the caller hears it is sent back


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

    def echo(self, level_db: float) -> CallScript:
        """From now on, send back what the hotline says `level_db` (< 0) lower, mixed with anything the
        caller speaks: a line or handset that returns the prompt (echo)."""
        if not -60 <= level_db < 0:
            raise CallerError(f"echo level must be between -60 and 0 dB, got {level_db}")
        self.steps.append(Step("echo", level_db=level_db))
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
    codec: Literal["ulaw", "alaw"] = "ulaw"  # the one G.711 law offered, like a phone line
    source: str = ""  # local address to call from; empty: loopback when the target is on loopback
    auth_user: str = ""  # digest user when it is not `user` (a gateway sends its callers' numbers)
    display: str = ""  # display name in From (a gateway may put its caller's number there)
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
