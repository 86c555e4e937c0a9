"""Events: what happened on a call, as the ARI adapter reports it to the flow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from ivr.enums import PinVerdict, Timer


@dataclass(frozen=True)
class CallStarted:
    caller: str = ""  # national form (core.callerid), "" when withheld; masked before logging
    emergency: str | None = None  # audio file of a current province-wide emergency notice, said first


@dataclass(frozen=True)
class Dtmf:
    digit: str  # one of 0-9 * # (A-D ignored)


@dataclass(frozen=True)
class SpeechStarted:
    """Voice activity detected on the caller's audio."""


@dataclass(frozen=True)
class SpeechEnded:
    """The end-pointer decided the caller stopped speaking."""


@dataclass(frozen=True)
class AsrPartial:
    text: str


@dataclass(frozen=True)
class AsrFinal:
    text: str
    confidence: float | None = None
    asr_ms: int | None = None  # recognizer latency: end of speech -> this final transcript (ms)


@dataclass(frozen=True)
class PlaybackFinished:
    playback_id: int
    ok: bool = True  # False: the file or synthesis failed (Asterisk reports failed playbacks as finished too)


@dataclass(frozen=True)
class RecordingFinished:
    name: str
    duration_ms: int
    ok: bool = True


@dataclass(frozen=True)
class TimerFired:
    name: str  # as given in SetTimer (a `Timer` value); unknown or stale names are ignored


@dataclass(frozen=True)
class Hangup:
    """The caller hung up (or the channel went away)."""


@dataclass(frozen=True)
class EngineFailure:
    stage: str  # "asr", "tts", "pool" (worker pool saturated), "media"
    detail: str = ""


@dataclass(frozen=True)
class TransferResult:
    answered: bool


@dataclass(frozen=True)
class DossierResult:
    code: str
    found: bool
    title: str = ""
    status: str = ""
    updated: str = ""  # already spoken form, e.g. "ngày 3 tháng 11 năm 2026"


@dataclass(frozen=True)
class TicketCreated:
    number: str | None  # None: storing failed
    kept: bool = False  # storing failed for now, but the ticket is kept and stored later (no number yet)


@dataclass(frozen=True)
class TicketStatusResult:
    number: str
    found: bool
    status: str = ""  # spoken status, e.g. "đang xử lý"
    reply_note: str = ""  # only for the number that opened the ticket (ivr.ticket_status)
    reply_withheld: bool = False  # there is a reply, but this caller is not the ticket's own number
    locked: bool = False  # too many wrong numbers from this caller: nothing was looked up


@dataclass(frozen=True)
class RadioResult:
    commune: str
    file: str | None  # segment audio to play, None when nothing is published


@dataclass(frozen=True)
class DraftSaved:
    """Prompt re-recording: the take was written as a draft (answer to SaveDraft)."""

    recording: str
    path: str | None  # None: nothing usable was recorded


@dataclass(frozen=True)
class PinChecked:
    """Prompt re-recording: what the PIN check found (answer to CheckPin)."""

    verdict: PinVerdict


@dataclass(frozen=True)
class PromptKept:
    """Prompt re-recording: the draft was installed, or not (answer to KeepPrompt)."""

    key: str
    ok: bool


Event = (
    CallStarted
    | Dtmf
    | SpeechStarted
    | SpeechEnded
    | AsrPartial
    | AsrFinal
    | PlaybackFinished
    | RecordingFinished
    | TimerFired
    | Hangup
    | EngineFailure
    | TransferResult
    | DossierResult
    | TicketCreated
    | TicketStatusResult
    | RadioResult
    | DraftSaved
    | PinChecked
    | PromptKept
)
EVENT_TYPES: tuple[type[Event], ...] = get_args(Event)

# What a flow's transition table is keyed by, with the state: the event's class, or for a timer that
# fired, which timer it was.
EventKey = type[Event] | Timer
