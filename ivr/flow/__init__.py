"""The call flow as a pure state machine: events in, commands out, time passed in.

Nothing here does I/O or reads the clock. The ARI adapter (`ivr.app`) turns Asterisk, media,
ASR and database happenings into events, feeds them to `CallFlow.handle(event, now_ms)` and
carries out the returned commands. Timeouts are commands too (`SetTimer`), so every path,
including the slow ones, is tested without sleeping.

- `events`, `commands`: the typed, frozen events and commands (`Event`, `Command`);
- `kernel`: what every flow shares (transition-table dispatch, prompt queue, timers, the end);
- `call`: `CallFlow`, the call's `(state, event) -> handler` table, its global handlers and frame
  (greeting, failed attempts, answers, rating, goodbye);
- `asking`: the main question (speech through the matcher, clarifying, the keypad menu);
- `codes`: entering a code (dossier, ticket, commune), one sub-dialogue driven by a table;
- `messages`: transfer to operators (or a commune's team), recorded complaints and messages;
- `teams`: a commune's community digital technology team (the commune said or keyed);
- `menu`, `config`: menu items and the keypad tree from the intent catalog; knobs and templates.

States, outcomes, turn kinds, timers and continuations are the StrEnums of `ivr.enums`.
"""

from __future__ import annotations

from intents.models import ACTIONS
from ivr.enums import AdminState, Continuation, Outcome, PinVerdict, State, Timer, TurnKind
from ivr.flow.call import CallFlow
from ivr.flow.codes import CODES, CodeSpec, TeamLookup
from ivr.flow.commands import (
    CancelTimer,
    CheckPin,
    Command,
    CreateTicket,
    HangUp,
    KeepPrompt,
    Listen,
    LogTurn,
    LookupDossier,
    LookupTicket,
    Play,
    PlayRadio,
    SaveDraft,
    SetSatisfaction,
    SetTimer,
    StartRecording,
    StopPlayback,
    StopRecording,
    Transfer,
    Turn,
)
from ivr.flow.config import PROMPT_KEYS, FlowConfig, Texts
from ivr.flow.events import (
    EVENT_TYPES,
    AsrFinal,
    AsrPartial,
    CallStarted,
    DossierResult,
    DraftSaved,
    Dtmf,
    EngineFailure,
    Event,
    Hangup,
    PinChecked,
    PlaybackFinished,
    PromptKept,
    RadioResult,
    RecordingFinished,
    SpeechEnded,
    SpeechStarted,
    TicketCreated,
    TicketStatusResult,
    TimerFired,
    TransferResult,
)
from ivr.flow.menu import DecisionLike, Keypad, Matcher, MenuItem, keypad_path, menu_from_catalog
from ivr.flow.teams import CommuneFinder, commune_words, configured_codes
from voice.text import digits_from_speech, spell_digits

__all__ = [
    "ACTIONS",
    "CODES",
    "EVENT_TYPES",
    "PROMPT_KEYS",
    "AdminState",
    "AsrFinal",
    "AsrPartial",
    "CallFlow",
    "CallStarted",
    "CancelTimer",
    "CheckPin",
    "CodeSpec",
    "Command",
    "CommuneFinder",
    "Continuation",
    "CreateTicket",
    "DecisionLike",
    "DossierResult",
    "DraftSaved",
    "Dtmf",
    "EngineFailure",
    "Event",
    "FlowConfig",
    "HangUp",
    "Hangup",
    "KeepPrompt",
    "Keypad",
    "Listen",
    "LogTurn",
    "LookupDossier",
    "LookupTicket",
    "Matcher",
    "MenuItem",
    "Outcome",
    "PinChecked",
    "PinVerdict",
    "Play",
    "PlayRadio",
    "PlaybackFinished",
    "PromptKept",
    "RadioResult",
    "RecordingFinished",
    "SaveDraft",
    "SetSatisfaction",
    "SetTimer",
    "SpeechEnded",
    "SpeechStarted",
    "StartRecording",
    "State",
    "StopPlayback",
    "StopRecording",
    "Texts",
    "TeamLookup",
    "TicketCreated",
    "TicketStatusResult",
    "Timer",
    "TimerFired",
    "Transfer",
    "TransferResult",
    "Turn",
    "TurnKind",
    "commune_words",
    "configured_codes",
    "digits_from_speech",
    "keypad_path",
    "menu_from_catalog",
    "spell_digits",
]
