"""Re-recording prompts by phone: the extension only operator seats reach (dialplan `Stasis(app,
prompt-admin)` in the operators' context), and only with the PIN.

A pure state machine on the same kernel as `CallFlow`. The application checks the PIN (so that wrong
PINs are counted across calls and lock the extension out: `ivr.prompt_pin`); then the operator keys a
prompt number (two digits, then #), hears the current prompt, presses 1 to record a new one (# ends),
hears it back, then 1 keeps it (it becomes `audio_assets/prompts/<key>.wav`, the previous recording kept
in the history and the change audited: `ivr.prompt_history`), 2 records again, 3 discards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ivr.enums import AdminState, Continuation, Outcome, PinVerdict, Timer
from ivr.flow.commands import CheckPin, KeepPrompt, SaveDraft, StartRecording, StopRecording
from ivr.flow.config import PROMPT_KEYS
from ivr.flow.events import (
    EVENT_TYPES,
    DraftSaved,
    Dtmf,
    Event,
    EventKey,
    Hangup,
    PinChecked,
    PlaybackFinished,
    PromptKept,
    RecordingFinished,
    TimerFired,
)
from ivr.flow.kernel import FlowKernel, Handler, Item, Table
from voice.text import spell_digits

__all__ = [
    "CheckPin",
    "DraftSaved",
    "KeepPrompt",
    "PinChecked",
    "PromptAdminFlow",
    "PromptKept",
    "SaveDraft",
    "prompt_number",
]

# Spoken to operators, not to citizens: kept here rather than in the citizen prompt file.
PIN_ASK = "Ghi âm lại lời nhắc. Nhập mã PIN, rồi bấm phím thăng."
PIN_WRONG = "Mã PIN không đúng."
PIN_LOCKED = "Chức năng ghi âm lời nhắc đang tạm khóa vì nhập sai mã PIN nhiều lần. Xin thử lại sau."
NOT_ALLOWED = "Máy này không được ghi âm lời nhắc."
UNAVAILABLE = "Chức năng ghi âm lời nhắc chưa được bật."
ASK = "Ghi âm lại lời nhắc. Bấm số thứ tự lời nhắc, gồm hai chữ số, rồi bấm phím thăng."
INVALID = "Số thứ tự không hợp lệ."
CHOICE = "Bấm một để ghi âm lại lời nhắc này, bấm hai để chọn lời nhắc khác."
RECORD = "Sau tiếng bíp, đọc lời nhắc mới, xong thì bấm phím thăng."
REVIEW = "Bấm một để giữ bản ghi này, bấm hai để ghi lại, bấm ba để hủy."
SAVED = "Đã lưu lời nhắc mới."
DISCARDED = "Đã hủy bản ghi."
FAILED = "Không lưu được bản ghi."
BYE = "Kết thúc. Xin chào."
MAX_RECORD_SECONDS = 30
IDLE_MS = 30_000  # no key for this long: hang up
PIN_TRIES = 3  # wrong PINs in one call before it ends (the limits across calls are ivr.attempts')
MAX_PIN_DIGITS = 16


# The events this flow reacts to by state (the prompt queue takes PlaybackFinished, timers are by name).
_OWN_EVENTS = (
    Dtmf,
    PlaybackFinished,
    RecordingFinished,
    DraftSaved,
    PinChecked,
    PromptKept,
    TimerFired,
    Hangup,
)


def prompt_number(key: str) -> str:
    """'01' for the first prompt key, and so on."""
    return f"{PROMPT_KEYS.index(key) + 1:02d}"


@dataclass
class PromptAdminFlow(FlowKernel[AdminState]):
    """PIN, then choose a prompt, record, review, keep."""

    allowed: bool = True  # the call comes from an operator seat (else it is refused at once)
    state: AdminState = AdminState.PIN
    key: str | None = None
    digits: str = ""
    draft: str | None = None
    kept: list[str] = field(default_factory=list)
    degraded: bool = False

    @property
    def outcome(self) -> Outcome:
        """For the call log: a prompt re-recording call, however it went."""
        return Outcome.PROMPT_ADMIN

    def __post_init__(self) -> None:
        super().__post_init__()
        self._takes = 0
        self._pin = ""
        self._pin_misses = 0

    # --- kernel hooks ---------------------------------------------------------------------------

    def _ended(self) -> AdminState:
        return AdminState.ENDED

    def _accepts(self, event: Event) -> bool:
        return True  # this flow never listens: every event counts

    def _handled(self) -> None:
        if self.state != AdminState.ENDED:
            self.set_timer(Timer.IDLE, IDLE_MS)  # any event restarts the idle time

    # --- steps ----------------------------------------------------------------------------------

    def _say_then(self, items: list[Item], state: AdminState) -> None:
        """Say `items` (stopping what plays) and move to `state` at once."""
        self.say(items, None)
        self.state = state

    def _take(self) -> str:
        return f"take{self._takes}"

    def _record(self) -> None:
        self._takes += 1
        self.say([("text", RECORD), ("key", "beep")], Continuation.RECORD)
        self.state = AdminState.PRE_RECORD

    def _start_take(self) -> None:
        """The beep has ended: record from here."""
        self.state = AdminState.RECORDING
        self.emit(StartRecording(self._take(), MAX_RECORD_SECONDS))

    def _bye(self, ev: Any = None) -> None:
        self.say([("text", BYE)], None, remember=False)
        self.end()

    def _say_and_end(self, items: list[Item]) -> None:
        """Say `items` to the end, then hang up (a refusal is heard, not cut off)."""
        self.say(items, Continuation.HANGUP, remember=False)
        self.state = AdminState.ENDING

    # --- handlers -------------------------------------------------------------------------------

    def _restart(self, ev: Event) -> None:
        """The call started (or anything unexpected happened while idle): ask for the PIN, or for a
        prompt number once the PIN was right."""
        if not self.allowed:
            if self.state == AdminState.PIN:
                self._say_and_end([("text", NOT_ALLOWED)])
            return
        if not self.nothing_playing:
            return
        if self.state == AdminState.PIN:
            self._say_then([("text", PIN_ASK)], AdminState.PIN)
        elif self.state == AdminState.CHOOSE and self.key is None:
            self._say_then([("text", ASK)], AdminState.CHOOSE)

    def _on_hangup(self, ev: Hangup) -> None:
        self._gone()

    def _on_pin_key(self, ev: Dtmf) -> None:
        d = ev.digit
        if d == "#" and self._pin:
            pin, self._pin = self._pin, ""
            self.stop_current()
            self.state = AdminState.CHECKING
            self.emit(CheckPin(pin))
        elif d in "#*":
            self._pin = ""
            self._say_then([("text", PIN_ASK)], AdminState.PIN)
        elif d.isdigit() and len(self._pin) < MAX_PIN_DIGITS:
            self._pin += d

    def _on_pin_checked(self, ev: PinChecked) -> None:
        if ev.verdict == PinVerdict.OK:
            self._say_then([("text", ASK)], AdminState.CHOOSE)
        elif ev.verdict == PinVerdict.WRONG:
            self._pin_misses += 1
            if self._pin_misses >= PIN_TRIES:
                self._say_and_end([("text", PIN_WRONG), ("text", BYE)])
            else:
                self._say_then([("text", PIN_WRONG), ("text", PIN_ASK)], AdminState.PIN)
        elif ev.verdict == PinVerdict.LOCKED:
            self._say_and_end([("text", PIN_LOCKED)])
        else:
            self._say_and_end([("text", UNAVAILABLE)])

    def _on_choose_key(self, ev: Dtmf) -> None:
        d = ev.digit
        if d == "#":
            n = int(self.digits) if self.digits.isdigit() else 0
            self.digits = ""
            if 1 <= n <= len(PROMPT_KEYS):
                self.key = PROMPT_KEYS[n - 1]
                said = f"Lời nhắc số {spell_digits(str(n))}."
                self._say_then([("text", said), ("key", self.key), ("text", CHOICE)], AdminState.MENU)
            else:
                self._say_then([("text", INVALID), ("text", ASK)], AdminState.CHOOSE)
        elif d == "*":
            self._bye()
        elif d.isdigit() and len(self.digits) < 3:
            self.digits += d

    def _on_menu_key(self, ev: Dtmf) -> None:
        if ev.digit == "1":
            self._record()
        elif ev.digit == "2":
            self.key = None
            self._say_then([("text", ASK)], AdminState.CHOOSE)

    def _on_recording_key(self, ev: Dtmf) -> None:
        if ev.digit == "#":
            self.emit(StopRecording(self._take()))

    def _on_take(self, ev: RecordingFinished) -> None:
        self.state = AdminState.SAVING
        self.emit(SaveDraft(ev.name if ev.ok else ""))

    def _on_draft(self, ev: DraftSaved) -> None:
        if ev.path is None:
            self._say_then([("text", FAILED), ("text", CHOICE)], AdminState.MENU)
        else:
            self.draft = ev.path
            self._say_then([("file", ev.path), ("text", REVIEW)], AdminState.REVIEW)

    def _on_review_key(self, ev: Dtmf) -> None:
        if ev.digit == "1" and self.key and self.draft:
            self.state = AdminState.KEEPING
            self.emit(KeepPrompt(self.key, self.draft))
        elif ev.digit == "2":
            self._record()
        elif ev.digit == "3":
            self.draft = None
            self._say_then([("text", DISCARDED), ("text", ASK)], AdminState.CHOOSE)

    def _on_kept(self, ev: PromptKept) -> None:
        if ev.ok:
            self.kept.append(ev.key)
        self._say_then([("text", SAVED if ev.ok else FAILED), ("text", ASK)], AdminState.CHOOSE)

    # --- the diagram ----------------------------------------------------------------------------

    GLOBAL: ClassVar[Mapping[EventKey, Handler]] = {
        # Events this flow has no use for (the call starting among them) bring back the question.
        **dict.fromkeys([t for t in EVENT_TYPES if t not in _OWN_EVENTS], _restart),
        Hangup: _on_hangup,
        Timer.IDLE: _bye,
    }

    TABLE: ClassVar[Table] = {
        (AdminState.PIN, Dtmf): _on_pin_key,
        (AdminState.CHECKING, PinChecked): _on_pin_checked,
        (AdminState.CHOOSE, Dtmf): _on_choose_key,
        (AdminState.MENU, Dtmf): _on_menu_key,
        (AdminState.RECORDING, Dtmf): _on_recording_key,
        (AdminState.RECORDING, RecordingFinished): _on_take,
        (AdminState.SAVING, DraftSaved): _on_draft,
        (AdminState.REVIEW, Dtmf): _on_review_key,
        (AdminState.KEEPING, PromptKept): _on_kept,
    }

    AFTER: ClassVar[Mapping[Continuation, Callable[[Any], None]]] = {
        Continuation.RECORD: _start_take,  # after the instructions and the beep
        Continuation.HANGUP: FlowKernel.end,  # after a refusal (PIN locked, not a seat...)
    }
