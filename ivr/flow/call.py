"""One call as a transition table: `(state, event) -> handler`, a few global handlers, continuations.

Read `CallFlow.GLOBAL`, `CallFlow.TABLE` and `CallFlow.AFTER` at the end of the class for the whole
diagram. The call's frame is here (greeting, failed attempts, answers, rating, goodbye, hang-up,
engine failure, call limit); its sub-dialogues are `ivr.flow.asking` (the main question: speech,
clarifying, keypad menu), `ivr.flow.codes` (entering a code), `ivr.flow.messages` (operators and
recorded messages) and `ivr.flow.teams` (a commune's digital technology team).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal

from ivr.enums import Continuation, Failure, Outcome, State, Timer, TurnAction, TurnKind, failed
from ivr.flow.asking import Asking
from ivr.flow.codes import CODES, CodeEntry, CodeSpec
from ivr.flow.commands import Listen, Play, SetSatisfaction, Turn
from ivr.flow.config import FlowConfig, Texts
from ivr.flow.events import (
    AsrFinal,
    CallStarted,
    DossierResult,
    Dtmf,
    EngineFailure,
    Event,
    EventKey,
    Hangup,
    RadioResult,
    RecordingFinished,
    SpeechEnded,
    SpeechStarted,
    TicketCreated,
    TicketStatusResult,
    TransferResult,
)
from ivr.flow.kernel import Attempts, FlowKernel, Handler, Item, Table
from ivr.flow.menu import Keypad, Matcher, MenuItem
from ivr.flow.messages import Messages
from ivr.flow.outcome import OutcomeTracker
from ivr.flow.teams import CommuneFinder, Teams, configured_codes
from voice.text import digits_from_speech

FailReason = Literal["no_input", "not_understood", "invalid_key"]  # also the key of the prompt said
KEYS = "0123456789*#"  # A-D and anything longer than one key are ignored
SKIP_EMERGENCY = "#"  # skips the emergency notice said after the greeting (its intro says so)
HEARING = (State.INTRO, State.MAIN, State.CLARIFY, State.COLLECT)  # states that wait for a transcript
THINKING_PATIENCE_MS = 2000  # end of speech -> "please wait" when no transcript came (usually < 1 s)
THINKING_REPEAT_MS = 3000  # ... and again while it is still late: never more than ~2 s of dead air
SPEECH_ANSWERS = (AsrFinal, SpeechStarted, Dtmf, EngineFailure, Hangup)  # end the wait for a transcript


def _asking(method: Callable[[Asking, Any], None]) -> Handler:
    """A table entry handled by the main-question sub-dialogue."""
    return lambda flow, ev: method(flow.asking, ev)


def _codes(method: Callable[[CodeEntry, Any], None]) -> Handler:
    """A table entry handled by the code-entry sub-dialogue."""
    return lambda flow, ev: method(flow.codes, ev)


def _messages(method: Callable[[Messages, Any], None]) -> Handler:
    """A table entry handled by the operator and message sub-dialogue."""
    return lambda flow, ev: method(flow.messages, ev)


def _key(handler: Handler) -> Handler:
    """A key in a dialogue state: it first interrupts the prompt, if that may be (`caller_key`)."""

    def entry(flow: CallFlow, ev: Dtmf) -> None:
        if flow.caller_key():
            handler(flow, ev)

    return entry


def _ignore(flow: Any, ev: Any) -> None:
    """A table entry for an event a state deliberately does nothing with."""


def _begin_code(spec: CodeSpec) -> Callable[[CallFlow], None]:
    """An intent action that asks for a code."""
    return lambda flow: flow.codes.begin(spec)


@dataclass
class CallFlow(FlowKernel[State]):
    """One call's state machine. `handle(event, now_ms)` returns the commands to carry out, in order."""

    menu: list[MenuItem]
    match: Matcher
    config: FlowConfig = field(default_factory=FlowConfig)
    texts: Texts = field(default_factory=Texts)
    menu_prompts: Mapping[str, str] = field(default_factory=dict)  # keypad prefix ("" = top) -> spoken menu
    communes: CommuneFinder | None = None  # which commune a text means; None: the configured codes only

    state: State = State.INTRO
    satisfaction: int | None = None
    degraded: bool = False  # speech recognition unusable: keypad only
    turns: int = 0  # answered turns ("anything else?" rather than "speak or press" after one)
    caller: str = ""
    heard: str = ""  # what the caller said to choose the intent being run ("" when keyed)
    topic: str | None = None  # the last topic answered: a complaint that follows is filed under it

    def __post_init__(self) -> None:
        super().__post_init__()
        self.keypad = Keypad(self.menu, self.menu_prompts)
        self.asking = Asking(self)
        self.codes = CodeEntry(self)
        self.messages = Messages(self)
        self.teams: Teams = Teams(self)
        self.find_commune: CommuneFinder = self.communes or configured_codes(self.config.teams)
        self._attempts = Attempts(self.config.max_attempts)  # failed attempts since the last success
        self._escalations = 0  # times the failed-attempt ladder reached its top
        self._speech_end: int | None = None  # flow time the caller stopped speaking (or keyed)
        self.tracker = OutcomeTracker()  # what the call got: its outcome is derived there, once
        self._serving: Outcome | None = None  # the service whose result is being said (`serve`)
        self._then: list[Item] | None = None  # what follows that result (None: the main question)
        self.rating_asked = False  # the rating question is asked once a call at most

    @property
    def outcome(self) -> Outcome:
        """The call's outcome as things stand (`ivr.flow.outcome`)."""
        return self.tracker.outcome

    @property
    def failures(self) -> int:
        return self._attempts.count

    def keypad_menu_texts(self) -> list[str]:
        """Every menu text this flow can say (pre-rendered: a degraded call never waits for TTS)."""
        return [self.keypad.menu_text(p, self.texts) for p in self.keypad.prefixes()]

    # --- kernel hooks ---------------------------------------------------------------------------

    def _ended(self) -> State:
        return State.ENDED

    @property
    def _barge_in(self) -> bool:
        return self.config.barge_in

    def _accepts(self, event: Event) -> bool:
        if isinstance(event, Dtmf) and (len(event.digit) != 1 or event.digit not in KEYS):
            return False
        return super()._accepts(event)

    def stop_current(self) -> None:
        if self.tracker.pending is not None and not self.nothing_playing:
            self.tracker.dropped()  # the caller cut the answer short (a key, speech, a new prompt)
        super().stop_current()

    def _playback_failed(self, item: Play) -> bool:
        if not item.text or self.degraded:
            return False
        # Synthesis failed for a dynamic answer: never leave the caller in silence.
        self.log(Turn(kind=TurnKind.SYSTEM, action=failed(Failure.TTS)))
        self.degraded = True
        self.stop_current()
        self.asking.keypad_menu(first="system_error")
        return True

    # --- steps the sub-dialogues share ----------------------------------------------------------

    def speech_turn(self, ev: AsrFinal) -> Turn:
        """The turn of a final transcript (the end of speech is now if the end-pointer did not say)."""
        if self._speech_end is None:
            self._speech_end = self._now
        text = ev.text.strip()
        return Turn(kind=TurnKind.SPEECH, transcript=text, confidence=ev.confidence, asr_ms=ev.asr_ms)

    def caller_key(self) -> bool:
        """Any key interrupts the prompt that is playing (the feature-phone way to barge in), except a
        prompt that may not be skipped (the recording notice): then the key is ignored (False)."""
        item = self.playing_item
        if item is not None and item.barge_in:
            self.stop_current()
        elif item is not None:
            return False
        self._speech_end = self._now
        return True

    def prompt_main(self, before: str | None = None) -> None:
        """Back to the main question (or the keypad menu once speech recognition is down), after the
        prompt `before` if any."""
        self.state = State.MAIN
        self.asking.prefix = ""
        self.set_listening(True)
        if self.degraded:
            self.asking.keypad_menu(first=before)
            return
        question = "anything_else" if self.turns else "speak_or_press"
        self.say([("key", before), ("key", question)], Continuation.LISTEN)

    def answered_outcome(self) -> Outcome:
        """Answered by speech or by keypad: how the intent being run was chosen."""
        return Outcome.ANSWERED_SPEECH if self.heard else Outcome.ANSWERED_KEYPAD

    def serve(self, service: Outcome, items: list[Item], then: list[Item] | None = None) -> None:
        """Say a service's result; once said to the end it counts for the outcome, the rating is asked
        (once a call), then `then` (default: the main question)."""
        self.stop_current()  # what played before is over: not the service cut short
        self._serving, self._then = service, then
        self.tracker.started(service)
        self.say(items, Continuation.SERVED)

    def replay(self) -> None:
        """Say the last thing again (the main question when nothing was said yet)."""
        if not self.repeat():
            self.prompt_main()

    def fail(self, reason: FailReason) -> None:
        """A failed attempt: reprompt, then the keypad menu, then an operator or goodbye."""
        over = self._attempts.miss()
        kind = TurnKind.TIMEOUT if reason == "no_input" else TurnKind.SYSTEM
        self.log(Turn(kind=kind, action=failed(reason)))
        if over:
            self._attempts.reset()
            self._escalations += 1
            # Once to an operator; a caller still stuck after that (say, one who never speaks) is let go.
            if self.config.has_operators and self._escalations == 1:
                self.messages.operator()
            else:
                self.tracker.ended(Outcome.NO_INPUT if reason == "no_input" else Outcome.NOT_UNDERSTOOD)
                self._say_goodbye()
            return
        if self._attempts.count >= self.config.max_attempts or self.degraded or self.state is State.MENU:
            self.asking.keypad_menu(first=reason)
        else:
            self.state = State.MAIN
            self.set_listening(True)
            self.say([("key", reason), ("key", "speak_or_press")], Continuation.LISTEN)

    def answer(self, item: MenuItem, turn: Turn) -> None:
        """Run an intent: its action if it has one, else speak its answer."""
        self._attempts.reset()
        self.asking.reset()
        action = item.action if item.action in self.INTENT_ACTIONS else None
        latency = None if self._speech_end is None else max(0, self._now - self._speech_end)
        self.log(replace(turn, intent=item.id, action=action, response_ms=latency))
        self._speech_end = None
        self.heard = turn.transcript if turn.kind is TurnKind.SPEECH else ""
        if action is None:
            self.topic = item.id
            self.turns += 1
            self.state = State.MAIN
            self.set_listening(True)
            tail: Item = ("text", item.follow_up) if item.follow_up else ("key", "anything_else")
            self.serve(self.answered_outcome(), [("text", item.answer)], then=[tail])
            return
        self.INTENT_ACTIONS[action](self)

    # --- a service said, the rating, goodbye -----------------------------------------------------

    def _on_served(self) -> None:
        """Continuation SERVED: the result was said to the end."""
        self.tracker.delivered(self._serving)
        then, self._then = self._then, None
        if self.config.rating and not self.rating_asked:
            self._ask_rating(then)
        else:
            self._go_on(then)

    def _go_on(self, then: list[Item] | None, before: str | None = None) -> None:
        """After a service (and its rating): `then`, else the main question."""
        if then is None:
            self.prompt_main(before)
            return
        self.state = State.MAIN
        self.set_listening(True)
        # Not remembered: `*` says the answer again, not only its follow-up.
        self.say([("key", before), *then], Continuation.LISTEN, remember=False)

    def _ask_rating(self, then: list[Item] | None) -> None:
        """The 1-5 question, once a call, right after the first service delivered (callers hang up
        once served: asked only at goodbye, it was almost never heard); `then` follows, rated or not."""
        self.rating_asked = True
        self._then = then
        self.state = State.RATING
        self.set_listening(True)  # a caller may say the score, or go on with another question
        self.log(Turn(kind=TurnKind.SYSTEM, action=TurnAction.RATING_ASKED))
        self.say([("key", "rating_ask")], Continuation.RATING_WAIT, remember=False)

    def _after_rating(self, before: str | None = None) -> None:
        then, self._then = self._then, None
        self._go_on(then, before)

    def _say_goodbye(self, *before: Item) -> None:
        """The one goodbye: what `before` says, the goodbye nobody can skip, then hang-up."""
        self.set_listening(False)
        self.state = State.ENDING
        goodbye = self.play_item(key="goodbye", barge_in=False)
        self.say([*before, goodbye], Continuation.HANGUP, remember=False)

    def _goodbye_intent(self) -> None:
        self.tracker.ended(Outcome.GOODBYE)  # the outcome only when nothing was delivered
        self._say_goodbye()

    def _rated(self, score: int, turn: Turn) -> None:
        self.satisfaction = score
        self.emit(SetSatisfaction(score))
        self.log(replace(turn, action=TurnAction.RATING))
        self._after_rating("rating_thanks")

    def _on_rating_key(self, ev: Dtmf) -> None:
        """(RATING, key): 1-5 rates, * asks again, # skips, any other key skips and counts as the menu's."""
        if ev.digit in "12345":
            self._rated(int(ev.digit), Turn(kind=TurnKind.DTMF, dtmf=ev.digit))
        elif ev.digit == "*":
            self.log(Turn(kind=TurnKind.DTMF, dtmf=ev.digit, action=TurnAction.REPLAY))
            self.say([("key", "rating_ask")], Continuation.RATING_WAIT, remember=False)
        elif ev.digit == "#":
            self._after_rating()
        else:
            self._then = None
            self.state = State.MAIN
            self.asking.on_menu_key(ev)

    def _on_rating_heard(self, ev: AsrFinal) -> None:
        """(RATING, transcript): a score said ("năm"), else the caller went on to another question."""
        digits = digits_from_speech(ev.text)
        if len(digits) == 1 and digits in "12345":
            turn = self.speech_turn(ev)
            self._speech_end = None
            self._rated(int(digits), replace(turn, dtmf=digits))
            return
        self._then = None
        self.state = State.MAIN
        self.asking.on_heard(ev)

    def _on_rating_silence(self, ev: Event) -> None:
        self._after_rating()

    # --- global handlers ------------------------------------------------------------------------

    def _on_call_started(self, ev: CallStarted) -> None:
        self.caller = ev.caller
        self.state = State.INTRO
        self.set_timer(Timer.MAX_CALL, self.config.max_call_ms)
        items: list[Item] = []
        if self.config.recording_notice:
            items.append(self.play_item(key="recording_notice", barge_in=False))
        items.append(("key", "greeting"))
        if ev.emergency:
            self._emergency(items, ev.emergency)
            return
        if self.degraded:  # no speech recognition for this call: straight to the keypad menu
            self.state = State.MENU
            items += [("key", "keypad_menu_intro"), ("text", self.keypad.menu_text("", self.texts))]
            self.say(items, Continuation.MENU_WAIT)
            return
        items.append(("key", "speak_or_press"))
        self.set_listening(True)
        self.say(items, Continuation.LISTEN)
        self.state = State.MAIN

    def _emergency(self, items: list[Item], path: str) -> None:
        """A current emergency notice right after the greeting (Circular 39/2020: emergencies first),
        not listening (a noisy line must not cut it); # skips it; then the main question as usual."""
        self.state = State.EMERGENCY
        self.log(Turn(kind=TurnKind.SYSTEM, action=TurnAction.EMERGENCY_PLAYED))
        notice = self.play_item(file=path, barge_in=False)
        # Not remembered: `*` later repeats the main question, not the notice.
        self.say([*items, ("key", "emergency_intro"), notice], Continuation.EMERGENCY_DONE, remember=False)

    def _on_emergency_key(self, ev: Dtmf) -> None:
        """(EMERGENCY, key): # skips the notice (not the recording notice before it); others are ignored."""
        item = self.playing_item
        if ev.digit != SKIP_EMERGENCY or (item is not None and item.key == "recording_notice"):
            return
        self.log(Turn(kind=TurnKind.DTMF, dtmf=ev.digit, action=TurnAction.EMERGENCY_SKIPPED))
        self.stop_current()
        self.prompt_main()

    def _on_hangup(self, ev: Hangup) -> None:
        self.messages.keep()
        self._gone()

    def _on_engine_failure(self, ev: EngineFailure) -> None:
        if self.degraded:
            return
        self.log(Turn(kind=TurnKind.SYSTEM, action=failed(ev.stage)))
        self.degraded = True
        self._listening = False  # the adapter stops recognition itself on failure
        self.emit(Listen(False))
        if self.state in (State.MAIN, State.CLARIFY, State.INTRO):
            self.asking.clarify = None
            self.asking.keypad_menu(first="system_error")
        elif self.state is State.COLLECT:
            self.codes.on_engine_failure()

    def _on_call_limit(self, ev: Event) -> None:
        if self.state is State.BRIDGED:
            return  # the caller talks to a person now: only they end the call
        transfer_due = self.timer_due(Timer.TRANSFER)
        if transfer_due is not None:
            # Operators are ringing: decide once the transfer did (answered: the limit no longer applies).
            self.set_timer(Timer.MAX_CALL, max(0, transfer_due - self._now) + 1000)
            return
        self.tracker.ended(Outcome.TOO_LONG)
        self.stop_current()
        self.messages.keep()  # what the caller was recording is stored as a ticket, not dropped
        self._say_goodbye(self.play_item(key="call_too_long", barge_in=False))

    def _on_speech_started(self, ev: SpeechStarted) -> None:
        self.cancel_timer(Timer.NO_INPUT)
        self._speech_end = None
        item = self.playing_item
        if item is not None and item.barge_in:
            self.stop_current()
            self.log(Turn(kind=TurnKind.SYSTEM, action=TurnAction.BARGE_IN))

    def _on_speech_ended(self, ev: SpeechEnded) -> None:
        self._speech_end = self._now
        if self.state in HEARING:
            self.set_timer(Timer.THINKING, THINKING_PATIENCE_MS)

    def _on_thinking(self, ev: Event) -> None:
        """The transcript is late (a busy or hung recognizer): "please wait" rather than dead air, again
        every few seconds until the transcript or the recognizer's failure (its timeout) comes."""
        if not self._listening or self.state not in HEARING:
            return
        if self.nothing_playing:
            self.say([("key", "please_wait")], None, remember=False)
        self.set_timer(Timer.THINKING, THINKING_REPEAT_MS)

    def _dispatch(self, event: Event) -> None:
        if isinstance(event, SPEECH_ANSWERS):
            self.cancel_timer(Timer.THINKING)  # the caller is answered, or goes on
        super()._dispatch(event)

    # --- waits ----------------------------------------------------------------------------------

    def _wait_for_input(self) -> None:
        self.set_timer(Timer.NO_INPUT, self.config.no_input_ms)

    def _wait_for_code(self) -> None:
        self.set_timer(Timer.DIGIT, self.config.no_input_ms)

    def _on_slow_lookup(self, ev: Event) -> None:
        if self.nothing_playing:
            self.say([("key", "please_wait")], None, remember=False)

    # --- the diagram ----------------------------------------------------------------------------

    # What each action of an intent does (`intents.models.ACTIONS`; other values are ignored).
    INTENT_ACTIONS: ClassVar[Mapping[str, Callable[[CallFlow], None]]] = {
        **{action: _begin_code(spec) for action, spec in CODES.items()},
        "commune_team": lambda f: f.teams.begin(),  # the commune may be in the request itself
        "transfer": lambda f: f.messages.operator(),
        "record_feedback": lambda f: f.messages.begin("feedback_intro", "feedback"),
        "replay": replay,
        "hangup": _goodbye_intent,
    }

    GLOBAL: ClassVar[Mapping[EventKey, Handler]] = {
        CallStarted: _on_call_started,
        Hangup: _on_hangup,
        EngineFailure: _on_engine_failure,
        Timer.MAX_CALL: _on_call_limit,
        SpeechStarted: _on_speech_started,  # speech events arrive only while listening
        SpeechEnded: _on_speech_ended,
        Timer.THINKING: _on_thinking,
    }

    TABLE: ClassVar[Table] = {
        # greeting and the main question: speech or keys
        (State.INTRO, AsrFinal): _asking(Asking.on_heard),
        (State.INTRO, Dtmf): _key(_asking(Asking.on_menu_key)),
        (State.INTRO, Timer.NO_INPUT): _asking(Asking.on_silence),
        (State.MAIN, AsrFinal): _asking(Asking.on_heard),
        (State.MAIN, Dtmf): _key(_asking(Asking.on_menu_key)),
        (State.MAIN, Timer.NO_INPUT): _asking(Asking.on_silence),
        # "did you mean A or B?": 1 or 2, or say it
        (State.CLARIFY, AsrFinal): _asking(Asking.on_clarify_heard),
        (State.CLARIFY, Dtmf): _key(_asking(Asking.on_clarify_key)),
        (State.CLARIFY, Timer.NO_INPUT): _asking(Asking.on_silence),
        # keypad menu (speech recognition off)
        (State.MENU, Dtmf): _key(_asking(Asking.on_menu_key)),
        (State.MENU, Timer.MENU_DIGIT): _asking(Asking.on_menu_pause),
        (State.MENU, Timer.NO_INPUT): _asking(Asking.on_menu_silence),
        # entering a code
        (State.COLLECT, AsrFinal): _codes(CodeEntry.on_heard),
        (State.COLLECT, Dtmf): _key(_codes(CodeEntry.on_key)),
        (State.COLLECT, Timer.DIGIT): _codes(CodeEntry.on_pause),
        # recording a complaint or message (# ends it)
        (State.RECORDING, Dtmf): _messages(Messages.on_key),
        (State.RECORDING, RecordingFinished): _messages(Messages.on_finished),
        (State.RECORDING, Timer.RECORDING): _messages(Messages.on_recorder_late),
        (State.RECORDING, Timer.RECORDING_STUCK): _messages(Messages.on_recorder_stuck),
        # waiting for a lookup, a ticket or a transfer (keys are ignored)
        (State.WAITING, DossierResult): _codes(CodeEntry.on_result),
        (State.WAITING, TicketStatusResult): _codes(CodeEntry.on_result),
        (State.WAITING, RadioResult): _codes(CodeEntry.on_result),
        (State.WAITING, TicketCreated): _messages(Messages.on_ticket),
        (State.WAITING, TransferResult): _messages(Messages.on_transfer),
        (State.WAITING, Timer.TRANSFER): _messages(Messages.on_transfer_timeout),
        (State.WAITING, Timer.LOOKUP): _on_slow_lookup,
        (State.WAITING, Dtmf): _ignore,
        # talking to an operator: the call is theirs until someone hangs up
        (State.BRIDGED, Dtmf): _ignore,
        # 1-5 satisfaction (* repeats the question), then goodbye
        (State.RATING, Dtmf): _key(_on_rating_key),
        (State.RATING, AsrFinal): _on_rating_heard,
        (State.RATING, Timer.NO_INPUT): _on_rating_silence,
        # goodbye playing: nothing stops it
        (State.ENDING, Dtmf): _ignore,
        # an emergency notice after the greeting: # skips it
        (State.EMERGENCY, Dtmf): _on_emergency_key,
    }

    AFTER: ClassVar[Mapping[Continuation, Callable[[Any], None]]] = {
        Continuation.LISTEN: _wait_for_input,
        Continuation.MENU_WAIT: _wait_for_input,
        Continuation.RATING_WAIT: _wait_for_input,
        Continuation.COLLECT_WAIT: _wait_for_code,
        Continuation.RECORD: lambda f: f.messages.start(),
        Continuation.TRANSFER: lambda f: f.messages.ring(),
        Continuation.HANGUP: FlowKernel.end,
        Continuation.CLOSING: prompt_main,
        Continuation.SERVED: _on_served,
        Continuation.EMERGENCY_DONE: prompt_main,
    }
