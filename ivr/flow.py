"""The call flow as a pure state machine: events in, commands out, time passed in.

Nothing here does I/O or reads the clock. The ARI adapter (`ivr.app`) turns Asterisk, media,
ASR and database happenings into events, feeds them to `CallFlow.handle(event, now_ms)` and
carries out the returned commands. Timeouts are commands too (`SetTimer`), so every path,
including the slow ones, is tested without sleeping.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

# --- events (what happened) -----------------------------------------------------------------------


@dataclass(frozen=True)
class CallStarted:
    caller: str = ""  # caller id as Asterisk gave it (raw; masked before logging)


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
    name: str


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


@dataclass(frozen=True)
class TicketStatusResult:
    number: str
    found: bool
    status: str = ""  # spoken status, e.g. "đang xử lý"
    reply_note: str = ""


@dataclass(frozen=True)
class RadioResult:
    commune: str
    file: str | None  # segment audio to play, None when nothing is published


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
)

# --- commands (what to do) ------------------------------------------------------------------------


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


@dataclass(frozen=True)
class LookupDossier:
    code: str


@dataclass(frozen=True)
class CreateTicket:
    recording: str  # name given in StartRecording
    reason: str = "feedback"  # feedback | message (operator did not answer)


@dataclass(frozen=True)
class LookupTicket:
    number: str


@dataclass(frozen=True)
class PlayRadio:
    commune: str  # commune code keyed or said by the caller


@dataclass(frozen=True)
class SetTimer:
    name: str
    at_ms: int


@dataclass(frozen=True)
class CancelTimer:
    name: str


@dataclass(frozen=True)
class SetSatisfaction:
    score: int  # 1..5


@dataclass(frozen=True)
class Turn:
    """One exchange, as stored in the call log."""

    kind: str  # speech | dtmf | timeout | action | system
    transcript: str = ""
    confidence: float | None = None
    intent: str | None = None
    score: float | None = None
    dtmf: str = ""
    action: str | None = None
    asr_ms: int | None = None  # end of speech -> final transcript
    response_ms: int | None = None  # end of speech (or key) -> answer playback requested


@dataclass(frozen=True)
class LogTurn:
    turn: Turn


@dataclass(frozen=True)
class HangUp:
    outcome: str


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
)

# --- inputs the flow needs: menu items, matcher decisions, texts ----------------------------------

ACTIONS = ("transfer", "record_feedback", "lookup_dossier", "replay", "hangup", "ticket_status", "radio")


@dataclass(frozen=True)
class MenuItem:
    """What the flow needs from one intent of the catalog."""

    id: str
    title: str  # short spoken name, used in keypad menus and clarifying questions
    answer: str = ""
    follow_up: str = ""
    digit: str = ""  # keypad path, e.g. "3" or "2.1" (press 2 then 1); empty: not in the keypad menu
    action: str | None = None


class DecisionLike(Protocol):
    intent: str | None
    score: float
    runner_up: str | None
    clarify: bool


Matcher = Callable[[str], DecisionLike]


def _attr(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def menu_from_catalog(catalog: Any) -> list[MenuItem]:
    """MenuItems from an intents catalog (objects or mappings with id, answer, follow_up, digit, action)."""
    intents = _attr(catalog, "intents", catalog)
    if isinstance(intents, Mapping):
        intents = list(intents.values())
    items = []
    for it in intents or ():
        iid = str(_attr(it, "id", "") or "")
        if not iid:
            continue
        title = _attr(it, "title") or _attr(it, "name") or _attr(it, "label") or iid.replace("_", " ")
        digit = _attr(it, "digit")
        items.append(
            MenuItem(
                id=iid,
                title=str(title),
                answer=str(_attr(it, "answer", "") or ""),
                follow_up=str(_attr(it, "follow_up", "") or ""),
                digit="" if digit is None else str(digit),
                action=_attr(it, "action") or None,
            )
        )
    return items


def keypad_path(digit: str) -> str:
    """'2.1' / '2-1' / '21' -> '21'; keys 0, * and # are reserved and never part of a menu path."""
    return "".join(ch for ch in str(digit) if ch.isdigit())


_DIGIT_WORDS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]
_WORD_DIGITS = {
    "không": "0",
    "khong": "0",
    "linh": "0",
    "lẻ": "0",
    "một": "1",
    "mốt": "1",
    "mot": "1",
    "hai": "2",
    "ba": "3",
    "bốn": "4",
    "tư": "4",
    "bon": "4",
    "năm": "5",
    "lăm": "5",
    "nam": "5",
    "sáu": "6",
    "sau": "6",
    "bảy": "7",
    "bẩy": "7",
    "bay": "7",
    "tám": "8",
    "tam": "8",
    "chín": "9",
    "chin": "9",
}


def spell_digits(code: str) -> str:
    """'1203' -> 'một, hai, không, ba' (read back digit by digit, never as a number)."""
    return ", ".join(_DIGIT_WORDS[int(ch)] if ch.isdigit() else ch for ch in code)


def digits_from_speech(text: str) -> str:
    """Digits in a transcript, from numerals or digit words ('một hai ba 4' -> '1234')."""
    out = []
    for token in re.findall(r"\w+", text.lower()):
        if token.isdigit():
            out.append(token)
        elif token in _WORD_DIGITS:
            out.append(_WORD_DIGITS[token])
    return "".join(out)


@dataclass(frozen=True)
class FlowConfig:
    """Timing and behaviour knobs (from `ivr:` settings)."""

    recording_notice: bool = True
    no_input_ms: int = 7000  # silence after a prompt before it counts as a failed attempt
    max_attempts: int = 2  # failed attempts before the keypad menu; one more -> operator or goodbye
    digit_timeout_ms: int = 4000  # pause after the last key of a code that ends the entry
    menu_digit_timeout_ms: int = 2000  # pause after a submenu key before the submenu is read
    max_code_digits: int = 20
    feedback_max_seconds: int = 120
    feedback_min_ms: int = 800  # shorter recordings count as empty
    operator_endpoint: str = ""  # empty: no operator; callers leave a message instead
    transfer_timeout_s: int = 25
    rating: bool = True  # optional 1-5 satisfaction rating before goodbye
    max_call_ms: int = 30 * 60 * 1000
    barge_in: bool = True


@dataclass(frozen=True)
class Texts:
    """Templates for dynamic sentences (from config/prompts.yaml `templates:`)."""

    clarify: str = "Anh chị muốn hỏi về {a}, hay về {b}? Bấm phím 1 cho {a}, phím 2 cho {b}."
    menu_item: str = "Bấm phím {digit}: {title}."
    menu_more: str = "Bấm phím {digit}: các dịch vụ khác."
    menu_tail: str = "Bấm phím sao để nghe lại, bấm phím không để gặp cán bộ tổng đài."
    ticket_number: str = "Mã số phiếu của anh chị là: {digits}. Xin nhắc lại: {digits}."
    dossier_found: str = "Hồ sơ {title}, mã {digits}: {status}. Cập nhật {updated}."
    dossier_not_found: str = "Không tìm thấy hồ sơ mã {digits}."
    ticket_status: str = "Phiếu số {digits}: {status}."
    ticket_reply: str = "Trả lời của cán bộ: {note}"
    ticket_not_found: str = "Không tìm thấy phiếu số {digits}."

    @classmethod
    def from_mapping(cls, data: Mapping[str, str]) -> Texts:
        known = {k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class State(StrEnum):
    INTRO = "intro"  # recording notice, greeting, "speak or press a key"
    MAIN = "main"  # listening for speech or keys
    MENU = "menu"  # keypad menu (after failed attempts or when speech recognition is down)
    CLARIFY = "clarify"  # "did you mean A or B?"
    COLLECT = "collect"  # keying (or saying) a code: dossier, ticket, commune
    RECORDING = "recording"  # complaint / message being recorded
    WAITING = "waiting"  # lookup, ticket creation or transfer in progress
    BRIDGED = "bridged"  # talking to an operator
    RATING = "rating"  # 1-5 satisfaction
    ENDING = "ending"  # goodbye playing, hang-up follows
    ENDED = "ended"


# Keys of the fixed prompts the flow uses (texts in config/prompts.yaml).
PROMPT_KEYS = (
    "recording_notice",
    "greeting",
    "speak_or_press",
    "not_understood",
    "no_input",
    "keypad_menu_intro",
    "invalid_key",
    "anything_else",
    "transfer",
    "operator_unavailable",
    "feedback_intro",
    "beep",
    "feedback_empty",
    "feedback_saved",
    "feedback_failed",
    "dossier_ask",
    "ticket_ask",
    "radio_ask",
    "radio_unavailable",
    "rating_ask",
    "rating_thanks",
    "goodbye",
    "system_error",
    "call_too_long",
    "please_wait",
)


@dataclass
class _Collect:
    purpose: str  # dossier | ticket | radio
    prompt_key: str
    digits: str = ""
    retries: int = 0


@dataclass
class _Say:
    items: list[Play]
    after: str | None  # continuation run when the last item finished


@dataclass
class CallFlow:
    """One call's state machine. `handle(event, now_ms)` returns the commands to carry out, in order."""

    menu: list[MenuItem]
    match: Matcher
    config: FlowConfig = field(default_factory=FlowConfig)
    texts: Texts = field(default_factory=Texts)
    menu_prompts: Mapping[str, str] = field(default_factory=dict)  # keypad prefix ("" = top) -> spoken menu

    state: State = State.INTRO
    outcome: str = "abandoned"
    satisfaction: int | None = None
    degraded: bool = False  # speech recognition unusable: keypad only
    failures: int = 0
    turns: int = 0  # answered turns (for the rating)
    caller: str = ""

    def __post_init__(self) -> None:
        self._by_id = {m.id: m for m in self.menu}
        self._tree: dict[str, MenuItem] = {}
        for item in self.menu:
            path = keypad_path(item.digit)
            if path and not path.startswith("0") and path not in self._tree:
                self._tree[path] = item
        self._next_id = 0
        self._queue: deque[Play] = deque()  # requested and not finished, in play order
        self._after: str | None = None
        self._last_say: _Say | None = None
        self._listening = False
        self._timers: dict[str, int] = {}
        self._now = 0
        self._speech_end: int | None = None
        self._asr_ms: int | None = None
        self._menu_prefix = ""  # keys pressed so far in a submenu
        self._clarify: tuple[MenuItem, MenuItem] | None = None
        self._collect: _Collect | None = None
        self._recording: str | None = None
        self._record_reason = "feedback"
        self._recordings = 0
        self._escalations = 0  # times the failed-attempt ladder reached its top
        self._out: list[Command] = []

    # --- public ---------------------------------------------------------------------------------

    def handle(self, event: Event, now_ms: int) -> list[Command]:
        """Feed one event; returns the commands it causes (possibly none)."""
        self._now = now_ms
        self._out = []
        if self.state is State.ENDED and not isinstance(event, (TicketCreated,)):
            return []
        method = getattr(self, "_on_" + type(event).__name__, None)
        if method is not None:
            method(event)
        out, self._out = self._out, []
        return out

    @property
    def listening(self) -> bool:
        return self._listening

    def timer_due(self, name: str) -> int | None:
        return self._timers.get(name)

    # --- internals --------------------------------------------------------------------------------

    def _emit(self, *cmds: Command) -> None:
        self._out.extend(cmds)

    def _item(
        self,
        *,
        key: str | None = None,
        text: str | None = None,
        file: str | None = None,
        barge_in: bool = True,
    ) -> Play:
        self._next_id += 1
        return Play(self._next_id, key=key, text=text, file=file, barge_in=barge_in and self.config.barge_in)

    @property
    def _playing(self) -> int | None:
        return self._queue[0].playback_id if self._queue else None

    @property
    def _playing_item(self) -> Play | None:
        return self._queue[0] if self._queue else None

    def _stop_current(self) -> None:
        for item in self._queue:
            self._emit(StopPlayback(item.playback_id))
        self._queue.clear()
        self._after = None

    def _say(
        self, items: Iterable[tuple[str, str] | Play], after: str | None, *, remember: bool = True
    ) -> None:
        """Play items in order (each ('key'|'text'|'file', value) or a Play), then run `after`."""
        plays = []
        for it in items:
            if isinstance(it, Play):
                plays.append(it)
            else:
                kind, value = it
                if value:
                    plays.append(self._item(**{kind: value}))
        self._stop_current()
        self._cancel("no_input")
        if remember:
            self._last_say = _Say(plays, after)
        if not plays:
            self._run_after(after)
            return
        # All items are requested at once (the player queues them and can prepare the next one while
        # the first plays); the continuation runs when the last one has finished.
        self._queue.extend(plays)
        self._after = after
        self._emit(*plays)

    def _repeat(self) -> None:
        if self._last_say is None:
            self._prompt_main()
            return
        fresh = [
            self._item(key=p.key, text=p.text, file=p.file, barge_in=p.barge_in) for p in self._last_say.items
        ]
        self._say(fresh, self._last_say.after)

    def _timer(self, name: str, delay_ms: int) -> None:
        at = self._now + delay_ms
        self._timers[name] = at
        self._emit(SetTimer(name, at))

    def _cancel(self, name: str) -> None:
        if self._timers.pop(name, None) is not None:
            self._emit(CancelTimer(name))

    def _listen(self, on: bool) -> None:
        on = on and not self.degraded
        if on != self._listening:
            self._listening = on
            self._emit(Listen(on))

    def _log(self, turn: Turn) -> None:
        self._emit(LogTurn(turn))

    def _latency(self) -> int | None:
        return None if self._speech_end is None else max(0, self._now - self._speech_end)

    # --- continuations (run when a sequence of prompts finished) --------------------------------

    def _run_after(self, after: str | None) -> None:
        if after is None:
            return
        if after == "listen":
            self._timer("no_input", self.config.no_input_ms)
        elif after == "menu_wait":
            self._timer("no_input", self.config.no_input_ms)
        elif after == "collect_wait":
            self._timer("digit", self.config.no_input_ms)
        elif after == "record":
            self._start_recording()
        elif after == "transfer":
            self.state = State.WAITING
            self._emit(Transfer(self.config.operator_endpoint, self.config.transfer_timeout_s))
            self._timer("transfer", (self.config.transfer_timeout_s + 5) * 1000)
        elif after == "hangup":
            self._end()
        elif after == "rating_wait":
            self._timer("no_input", self.config.no_input_ms)
        elif after == "closing":
            self._closing()

    # --- flow steps -----------------------------------------------------------------------------

    def _on_CallStarted(self, ev: CallStarted) -> None:
        self.caller = ev.caller
        self.state = State.INTRO
        self._timer("max_call", self.config.max_call_ms)
        items: list[tuple[str, str] | Play] = []
        if self.config.recording_notice:
            items.append(self._item(key="recording_notice", barge_in=False))
        items.append(("key", "greeting"))
        if self.degraded:  # no speech recognition for this call: straight to the keypad menu
            self.state = State.MENU
            items += [("key", "keypad_menu_intro"), ("text", self._menu_text(""))]
            self._say(items, "menu_wait")
            return
        items.append(("key", "speak_or_press"))
        self._listen(True)
        self._say(items, "listen")
        self.state = State.MAIN

    def _prompt_main(self, *, first: str | None = None) -> None:
        self.state = State.MAIN
        self._menu_prefix = ""
        self._listen(True)
        if self.degraded:
            self._keypad_menu()
            return
        items = [("key", first)] if first else []
        items.append(("key", "anything_else" if self.turns else "speak_or_press"))
        self._say(items, "listen")

    def _menu_text(self, prefix: str) -> str:
        if prefix in self.menu_prompts:
            return self.menu_prompts[prefix]
        t = self.texts
        seen: dict[str, MenuItem | None] = {}
        for path, item in sorted(self._tree.items()):
            if not path.startswith(prefix) or path == prefix:
                continue
            nxt = path[len(prefix)]
            if len(path) == len(prefix) + 1:
                seen[nxt] = item
            else:
                seen.setdefault(nxt, None)
        parts = []
        for digit, item in sorted(seen.items()):
            if item is not None:
                parts.append(t.menu_item.format(digit=digit, title=item.title))
            else:
                parts.append(t.menu_more.format(digit=digit))
        parts.append(t.menu_tail)
        return " ".join(parts)

    def keypad_menu_texts(self) -> list[str]:
        """Every menu text this flow can say (pre-rendered: a degraded call never waits for TTS)."""
        prefixes = {""} | {p[:i] for p in self._tree for i in range(1, len(p))}
        return [self._menu_text(p) for p in sorted(prefixes)]

    def _keypad_menu(self, prefix: str = "", *, first: str | None = None) -> None:
        self.state = State.MENU
        self._menu_prefix = prefix
        self._listen(False)
        items: list[tuple[str, str]] = []
        if first:
            items.append(("key", first))
        if not prefix:
            items.append(("key", "keypad_menu_intro"))
        items.append(("text", self._menu_text(prefix)))
        self._say(items, "menu_wait")

    def _fail(self, reason: str) -> None:
        """A failed attempt: reprompt, then the keypad menu, then an operator or goodbye."""
        self.failures += 1
        self._log(Turn(kind="timeout" if reason == "no_input" else "system", action=f"fail:{reason}"))
        if self.failures > self.config.max_attempts:
            self.failures = 0
            self._escalations += 1
            # Once to an operator; a caller still stuck after that (say, one who never speaks) is let go.
            if self.config.operator_endpoint and self._escalations == 1:
                self._operator()
            else:
                self.outcome = "no_input" if reason == "no_input" else "not_understood"
                self._goodbye(rate=False)
            return
        first = (
            "no_input"
            if reason == "no_input"
            else ("invalid_key" if reason == "invalid_key" else "not_understood")
        )
        if self.failures >= self.config.max_attempts or self.degraded or self.state is State.MENU:
            self._keypad_menu(first=first)
        else:
            self.state = State.MAIN
            self._listen(True)
            self._say([("key", first), ("key", "speak_or_press")], "listen")

    def _answer(self, item: MenuItem, turn: Turn) -> None:
        """Run an intent: its action if it has one, else speak its answer."""
        self.failures = 0
        self._menu_prefix = ""
        self._clarify = None
        action = item.action if item.action in ACTIONS else None
        self._log(
            Turn(**{**turn.__dict__, "intent": item.id, "action": action, "response_ms": self._latency()})
        )
        self._speech_end = None
        if action is None:
            self.turns += 1
            self.outcome = "answered"
            self.state = State.MAIN
            self._listen(True)
            tail = ("text", item.follow_up) if item.follow_up else ("key", "anything_else")
            self._say([("text", item.answer), tail], "listen")
            return
        self._action(action, item)

    def _action(self, action: str, item: MenuItem | None = None) -> None:
        if action == "transfer":
            self._operator()
        elif action == "record_feedback":
            self._record_reason = "feedback"
            self._begin_recording("feedback_intro")
        elif action == "lookup_dossier":
            self._begin_collect("dossier", "dossier_ask", speech=True)
        elif action == "ticket_status":
            self._begin_collect("ticket", "ticket_ask", speech=False)
        elif action == "radio":
            self._begin_collect("radio", "radio_ask", speech=True)
        elif action == "replay":
            self._repeat()
        elif action == "hangup":
            if self.outcome == "abandoned":
                self.outcome = "goodbye"
            self._goodbye(rate=True)

    def _operator(self) -> None:
        self._listen(False)
        if self.config.operator_endpoint:
            self.state = State.WAITING
            self._say([("key", "transfer")], "transfer", remember=False)
        else:
            self._record_reason = "message"
            self._begin_recording("operator_unavailable")

    def _begin_recording(self, intro_key: str) -> None:
        self.state = State.WAITING
        self._listen(False)
        self._say([("key", intro_key), self._item(key="beep", barge_in=False)], "record", remember=False)

    def _start_recording(self) -> None:
        self._recordings += 1
        self._recording = f"rec{self._recordings}"
        self.state = State.RECORDING
        self._emit(StartRecording(self._recording, self.config.feedback_max_seconds))
        # Guard: if the recorder never reports, do not hold the call forever.
        self._timer("recording", (self.config.feedback_max_seconds + 10) * 1000)

    def _begin_collect(self, purpose: str, prompt_key: str, *, speech: bool) -> None:
        self._collect = _Collect(purpose, prompt_key)
        self.state = State.COLLECT
        self._listen(speech)
        self._say([("key", prompt_key)], "collect_wait")

    def _finish_collect(self) -> None:
        col = self._collect
        assert col is not None
        self._cancel("digit")
        code = col.digits
        if not code:
            col.retries += 1
            if col.retries > 1:
                self._collect = None
                self._fail("no_input")
                return
            self._say([("key", "no_input"), ("key", col.prompt_key)], "collect_wait")
            return
        self._log(Turn(kind="dtmf", dtmf=code if col.purpose != "radio" else code, action=col.purpose))
        self.state = State.WAITING
        self._listen(False)
        if col.purpose == "dossier":
            self._emit(LookupDossier(code))
        elif col.purpose == "ticket":
            self._emit(LookupTicket(code))
        else:
            self._emit(PlayRadio(code))
        # Lookups are local and fast; say "please wait" only if one stalls.
        self._timer("lookup", 1500)

    def _goodbye(self, *, rate: bool) -> None:
        self._listen(False)
        if rate and self.config.rating and self.turns > 0 and self.satisfaction is None:
            self.state = State.RATING
            self._say([("key", "rating_ask")], "rating_wait")
            return
        self.state = State.ENDING
        self._say([self._item(key="goodbye", barge_in=False)], "hangup", remember=False)

    def _closing(self) -> None:
        """After an action's result: offer more help."""
        self._prompt_main()

    def _end(self) -> None:
        for name in list(self._timers):
            self._cancel(name)
        self._listen(False)
        self.state = State.ENDED
        self._emit(HangUp(self.outcome))

    # --- event handlers -------------------------------------------------------------------------

    def _on_PlaybackFinished(self, ev: PlaybackFinished) -> None:
        ids = [p.playback_id for p in self._queue]
        if ev.playback_id not in ids:
            return  # a playback we already stopped
        # Playbacks finish in order: anything queued before this one is over too.
        item = None
        while self._queue:
            item = self._queue.popleft()
            if item.playback_id == ev.playback_id:
                break
        if not ev.ok and item is not None and item.text and not self.degraded:
            # Synthesis failed for a dynamic answer: never leave the caller in silence.
            self._log(Turn(kind="system", action="fail:tts"))
            self.degraded = True
            self._stop_current()
            self._keypad_menu(first="system_error")
            return
        if self._queue:
            return
        after, self._after = self._after, None
        self._run_after(after)

    def _on_SpeechStarted(self, ev: SpeechStarted) -> None:
        if not self._listening:
            return
        self._cancel("no_input")
        self._speech_end = None
        item = self._playing_item
        if item is not None and item.barge_in:
            self._stop_current()
            self._log(Turn(kind="system", action="barge_in"))

    def _on_SpeechEnded(self, ev: SpeechEnded) -> None:
        if self._listening:
            self._speech_end = self._now

    def _on_AsrFinal(self, ev: AsrFinal) -> None:
        if not self._listening:
            return
        if self._speech_end is None:
            self._speech_end = self._now
        asr_ms = None
        text = ev.text.strip()
        turn = Turn(kind="speech", transcript=text, confidence=ev.confidence, asr_ms=asr_ms)
        if self.state is State.COLLECT and self._collect is not None:
            digits = digits_from_speech(text)
            self._log(Turn(**{**turn.__dict__, "dtmf": digits, "action": self._collect.purpose}))
            if digits:
                self._collect.digits = digits[: self.config.max_code_digits]
                self._finish_collect()
            else:
                self._cancel("digit")
                self._collect.retries += 1
                if self._collect.retries > 1:
                    self._collect = None
                    self._fail("not_understood")
                else:
                    self._say([("key", "not_understood"), ("key", self._collect.prompt_key)], "collect_wait")
            return
        if self.state not in (State.MAIN, State.CLARIFY, State.INTRO):
            return
        if not text:
            self._log(turn)
            self._fail("not_understood")
            return
        decision = self.match(text)
        turn = Turn(**{**turn.__dict__, "score": float(decision.score)})
        if self.state is State.CLARIFY and self._clarify is not None:
            a, b = self._clarify
            chosen = self._by_id.get(decision.intent or "")
            if chosen is not None:
                self._answer(chosen, turn)
            else:
                self._log(turn)
                self._clarify = None
                self._fail("not_understood")
            return
        item = self._by_id.get(decision.intent or "")
        if item is None:
            self._log(turn)
            self._fail("not_understood")
            return
        runner = self._by_id.get(decision.runner_up or "")
        if decision.clarify and runner is not None and runner.id != item.id:
            self._log(Turn(**{**turn.__dict__, "intent": item.id, "action": "clarify"}))
            self._clarify = (item, runner)
            self.state = State.CLARIFY
            self._say([("text", self.texts.clarify.format(a=item.title, b=runner.title))], "listen")
            return
        self._answer(item, turn)

    def _on_Dtmf(self, ev: Dtmf) -> None:
        d = ev.digit
        if d not in "0123456789*#" or len(d) != 1:
            return
        st = self.state
        if st is State.RECORDING:
            if d == "#" and self._recording:
                self._emit(StopRecording(self._recording))
            return
        if st is State.RATING:
            if d in "12345":
                self.satisfaction = int(d)
                self._emit(SetSatisfaction(int(d)))
                self._log(Turn(kind="dtmf", dtmf=d, action="rating"))
                self.state = State.ENDING
                self._say(
                    [("key", "rating_thanks"), self._item(key="goodbye", barge_in=False)],
                    "hangup",
                    remember=False,
                )
            elif d == "*":
                self._repeat()
            return
        if st in (State.ENDING, State.WAITING, State.BRIDGED):
            return
        # Any key interrupts the prompt that is playing (keys are the feature-phone way to barge in).
        if self._playing_item is not None and self._playing_item.barge_in:
            self._stop_current()
        elif self._playing_item is not None:
            return  # the recording notice cannot be skipped
        self._speech_end = self._now
        if st is State.COLLECT and self._collect is not None:
            col = self._collect
            if d == "#":
                self._finish_collect()
            elif d == "*":
                col.digits = ""
                self._say([("key", col.prompt_key)], "collect_wait")
            else:
                if len(col.digits) < self.config.max_code_digits:
                    col.digits += d
                self._cancel("no_input")
                self._timer("digit", self.config.digit_timeout_ms)
            return
        if st is State.CLARIFY and self._clarify is not None and d in "12":
            item = self._clarify[0 if d == "1" else 1]
            self._answer(item, Turn(kind="dtmf", dtmf=d))
            return
        if d == "*":
            self._log(Turn(kind="dtmf", dtmf=d, action="replay"))
            self._repeat()
            return
        if d == "0":
            self._log(Turn(kind="dtmf", dtmf=d, action="transfer"))
            self._operator()
            return
        if d == "#":
            return
        path = self._menu_prefix + d
        self._cancel("menu_digit")
        if path in self._tree and not any(p.startswith(path) and p != path for p in self._tree):
            self._answer(self._tree[path], Turn(kind="dtmf", dtmf=path))
            return
        if any(p.startswith(path) for p in self._tree):
            # A submenu: wait briefly for the next key, then read the submenu.
            self._menu_prefix = path
            self.state = State.MENU
            self._listen(False)
            self._timer("menu_digit", self.config.menu_digit_timeout_ms)
            return
        self._menu_prefix = ""
        self._log(Turn(kind="dtmf", dtmf=path, action="invalid"))
        self._fail("invalid_key")

    def _on_TimerFired(self, ev: TimerFired) -> None:
        due = self._timers.get(ev.name)
        if due is None or self._now < due:
            return  # cancelled or re-armed: stale
        del self._timers[ev.name]
        name = ev.name
        if name == "max_call":
            self.outcome = "too_long"
            self._stop_current()
            if self._recording and self.state is State.RECORDING:
                self._emit(StopRecording(self._recording))
            self.state = State.ENDING
            self._listen(False)
            self._say(
                [self._item(key="call_too_long", barge_in=False), self._item(key="goodbye", barge_in=False)],
                "hangup",
                remember=False,
            )
        elif name == "no_input":
            if self.state is State.RATING:
                self.state = State.ENDING
                self._say([self._item(key="goodbye", barge_in=False)], "hangup", remember=False)
            elif self.state in (State.MAIN, State.MENU, State.CLARIFY, State.INTRO):
                if self.state is State.MENU and self._menu_prefix:
                    self._menu_prefix = ""
                self._fail("no_input")
        elif name == "digit":
            if self.state is State.COLLECT and self._collect is not None:
                self._finish_collect()
        elif name == "menu_digit":
            if self.state is State.MENU and self._menu_prefix:
                prefix = self._menu_prefix
                path_item = self._tree.get(prefix)
                if path_item is not None:  # an intent that also has a submenu: pause means "this one"
                    self._answer(path_item, Turn(kind="dtmf", dtmf=prefix))
                else:
                    self._keypad_menu(prefix)
        elif name == "recording":
            if self.state is State.RECORDING and self._recording:
                self._emit(StopRecording(self._recording))
                self._timer("recording_stuck", 5000)
        elif name == "recording_stuck":
            if self.state is State.RECORDING:
                self._recording = None
                self._say([("key", "feedback_failed")], "closing")
        elif name == "lookup":
            if self.state is State.WAITING and self._playing is None:
                self._say([("key", "please_wait")], None, remember=False)
        elif name == "transfer":
            if self.state is State.WAITING:
                self._on_TransferResult(TransferResult(answered=False))

    def _on_RecordingFinished(self, ev: RecordingFinished) -> None:
        if ev.name != self._recording or self.state is not State.RECORDING:
            return
        self._cancel("recording")
        self._cancel("recording_stuck")
        self._recording = None
        if not ev.ok or ev.duration_ms < self.config.feedback_min_ms:
            self._log(Turn(kind="system", action="recording_empty"))
            self._say([("key", "feedback_empty")], "closing")
            return
        self.state = State.WAITING
        self._emit(CreateTicket(ev.name, self._record_reason))
        self._timer("lookup", 1500)

    def _on_TicketCreated(self, ev: TicketCreated) -> None:
        if self.state is State.ENDED:
            return
        if self.state is not State.WAITING:
            return
        self._cancel("lookup")
        if ev.number is None:
            self._log(Turn(kind="action", action="ticket_failed"))
            self._say([("key", "feedback_failed")], "closing")
            return
        self.turns += 1
        self.outcome = "ticket"
        self._log(Turn(kind="action", action="ticket_created", dtmf=ev.number))
        digits = spell_digits(ev.number)
        self._say(
            [("key", "feedback_saved"), ("text", self.texts.ticket_number.format(digits=digits))], "closing"
        )

    def _on_DossierResult(self, ev: DossierResult) -> None:
        if self.state is not State.WAITING or self._collect is None:
            return
        self._cancel("lookup")
        col = self._collect
        digits = spell_digits(ev.code)
        if not ev.found:
            col.retries += 1
            col.digits = ""
            self._log(Turn(kind="action", action="dossier_not_found"))
            if col.retries > 1:
                self._collect = None
                self._say([("text", self.texts.dossier_not_found.format(digits=digits))], "closing")
            else:
                self.state = State.COLLECT
                self._listen(True)
                self._say(
                    [("text", self.texts.dossier_not_found.format(digits=digits)), ("key", col.prompt_key)],
                    "collect_wait",
                )
            return
        self._collect = None
        self.turns += 1
        self.outcome = "dossier"
        self._log(Turn(kind="action", action="dossier_found"))
        text = self.texts.dossier_found.format(
            title=ev.title, digits=digits, status=ev.status, updated=ev.updated
        )
        self._say([("text", text)], "closing")

    def _on_TicketStatusResult(self, ev: TicketStatusResult) -> None:
        if self.state is not State.WAITING or self._collect is None:
            return
        self._cancel("lookup")
        col = self._collect
        digits = spell_digits(ev.number)
        if not ev.found:
            col.retries += 1
            col.digits = ""
            if col.retries > 1:
                self._collect = None
                self._say([("text", self.texts.ticket_not_found.format(digits=digits))], "closing")
            else:
                self.state = State.COLLECT
                self._say(
                    [("text", self.texts.ticket_not_found.format(digits=digits)), ("key", col.prompt_key)],
                    "collect_wait",
                )
            return
        self._collect = None
        self.turns += 1
        self.outcome = "ticket_status"
        items = [("text", self.texts.ticket_status.format(digits=digits, status=ev.status))]
        if ev.reply_note:
            items.append(("text", self.texts.ticket_reply.format(note=ev.reply_note)))
        self._say(items, "closing")

    def _on_RadioResult(self, ev: RadioResult) -> None:
        if self.state is not State.WAITING or self._collect is None:
            return
        self._cancel("lookup")
        self._collect = None
        if ev.file is None:
            self._say([("key", "radio_unavailable")], "closing")
            return
        self.turns += 1
        self.outcome = "radio"
        self._listen(False)
        self._say([self._item(file=ev.file)], "closing")

    def _on_TransferResult(self, ev: TransferResult) -> None:
        if self.state is not State.WAITING:
            return
        self._cancel("transfer")
        if ev.answered:
            self.outcome = "transferred"
            self.state = State.BRIDGED
            self._listen(False)
            self._log(Turn(kind="action", action="transferred"))
            return
        self._log(Turn(kind="action", action="transfer_no_answer"))
        self._record_reason = "message"
        self._begin_recording("operator_unavailable")

    def _on_EngineFailure(self, ev: EngineFailure) -> None:
        if self.degraded:
            return
        self._log(Turn(kind="system", action=f"fail:{ev.stage}"))
        self.degraded = True
        self._listening = False  # the adapter stops recognition itself on failure
        self._emit(Listen(False))
        if self.state in (State.MAIN, State.CLARIFY, State.INTRO):
            self._clarify = None
            self._keypad_menu(first="system_error")
        elif self.state is State.COLLECT and self._collect is not None and not self._collect.digits:
            self._say([("key", "system_error"), ("key", self._collect.prompt_key)], "collect_wait")

    def _on_Hangup(self, ev: Hangup) -> None:
        if self._recording and self.state is State.RECORDING:
            # The caller hung up while leaving a message: keep it (never lose a complaint).
            self._emit(StopRecording(self._recording), CreateTicket(self._recording, self._record_reason))
            self.outcome = "ticket"
            self._recording = None
        self._queue.clear()
        for name in list(self._timers):
            self._cancel(name)
        self._listening = False
        self.state = State.ENDED
