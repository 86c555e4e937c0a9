"""Commands: what the flow asks the ARI adapter to do, in order."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.enums import Outcome, Timer, TurnKind


@dataclass(frozen=True)
class Play:
    playback_id: int
    key: str | None = None  # fixed prompt key (config/prompts.yaml)
    text: str | None = None  # dynamic text, synthesized
    file: str | None = None  # an audio file (radio segment)
    barge_in: bool = True  # caller speech or keys may interrupt it


@dataclass(frozen=True)
class StopPlayback:
    playback_id: int


@dataclass(frozen=True)
class Listen:
    on: bool  # speech recognition (VAD + ASR) on the caller's audio


@dataclass(frozen=True)
class StartRecording:
    name: str
    max_seconds: int


@dataclass(frozen=True)
class StopRecording:
    name: str


@dataclass(frozen=True)
class Transfer:
    endpoint: str  # Dial syntax: one endpoint, or several joined with & (all ring, the first answer wins)
    timeout_s: int
    duty: bool = False  # the operators on duty: whoever the duty rota names when it rings, else `endpoint`


@dataclass(frozen=True)
class LookupDossier:
    code: str


@dataclass(frozen=True)
class CreateTicket:
    recording: str  # name given in StartRecording; "": a ticket without audio (a call-back)
    reason: str = "feedback"  # feedback | message (nobody answered) | callback (nor was a message left)
    # A recording with less voice than this (ms) is no message: a call-back ticket without audio instead
    # (none for a withheld number). For a message cut short by the caller hanging up at the beep.
    min_ms: int = 0
    commune: str | None = None  # the code of the commune whose digital team did not answer
    topic: str | None = None  # the intent answered last: the ticket's category follows it (ivr.tickets)


@dataclass(frozen=True)
class LookupTicket:
    number: str


@dataclass(frozen=True)
class PlayRadio:
    commune: str  # commune code keyed or said by the caller


@dataclass(frozen=True)
class SetTimer:
    name: Timer
    at_ms: int  # flow time (the `now_ms` handed to `handle`) at which TimerFired(name) is due


@dataclass(frozen=True)
class CancelTimer:
    name: Timer


@dataclass(frozen=True)
class SetSatisfaction:
    score: int  # 1..5


@dataclass(frozen=True)
class Turn:
    """One exchange, as stored in the call log."""

    kind: TurnKind
    transcript: str = ""
    confidence: float | None = None
    intent: str | None = None
    score: float | None = None
    dtmf: str = ""
    action: str | None = None
    asr_ms: int | None = None  # end of speech -> final transcript (the recognizer's latency)
    response_ms: int | None = None  # end of speech (or key) -> answer playback requested


@dataclass(frozen=True)
class LogTurn:
    turn: Turn


@dataclass(frozen=True)
class HangUp:
    outcome: Outcome


@dataclass(frozen=True)
class CheckPin:
    """Prompt re-recording: check the PIN keyed (counted across calls) and answer with PinChecked."""

    pin: str


@dataclass(frozen=True)
class SaveDraft:
    """Prompt re-recording: write the take to a draft file and answer with DraftSaved."""

    recording: str


@dataclass(frozen=True)
class KeepPrompt:
    """Prompt re-recording: install the draft as the human recording of `key` (then PromptKept)."""

    key: str
    path: str


Command = (
    Play
    | StopPlayback
    | Listen
    | StartRecording
    | StopRecording
    | Transfer
    | LookupDossier
    | CreateTicket
    | LookupTicket
    | PlayRadio
    | SetTimer
    | CancelTimer
    | SetSatisfaction
    | LogTurn
    | HangUp
    | CheckPin
    | SaveDraft
    | KeepPrompt
)
