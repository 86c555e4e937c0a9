"""Reaching a person: transfer to the operators (or a commune's digital technology team), or a recorded
complaint or message that becomes a ticket.

States WAITING (transfer ringing, ticket being stored) and RECORDING. A transfer nobody answers turns
into a recorded message; a caller who hangs up while recording keeps the message (a complaint is
never lost). A caller who wanted a person and leaves no message (an empty recording, or hanging up
while the message is offered) still leaves a call-back ticket with the number, unless the number is
withheld: nobody could call it back, so that is only logged; so does a caller who hangs up while the
phones still ring. A commune team's message or call-back carries the commune, so that it reaches that
team. Every ticket carries the topic answered last, which chooses its category.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ivr.enums import Continuation, Outcome, State, Timer, TurnAction, TurnKind
from ivr.flow.commands import CreateTicket, StartRecording, StopRecording, Transfer, Turn
from ivr.flow.events import Dtmf, Event, RecordingFinished, TicketCreated, TransferResult
from ivr.flow.kernel import Item
from voice.text import spell_digits

if TYPE_CHECKING:
    from ivr.flow.call import CallFlow

# A complaint; a message left when nobody answered; no message either: call the number back.
Reason = Literal["feedback", "message", "callback"]
OUTCOMES: dict[Reason, Outcome] = {
    "feedback": Outcome.TICKET,
    "message": Outcome.MESSAGE_LEFT,
    "callback": Outcome.TRANSFER_MISSED,
}
RECORDER_GRACE_MS = 10_000  # past the maximum length: the recorder should have reported by then
RECORDER_STOP_MS = 5000  # after asking the recorder to stop: it should have reported by then
TICKET_PATIENCE_MS = 1500  # storing a ticket is fast: "please wait" only when it takes longer
TRANSFER_GRACE_S = 5  # past the ringing time: the transfer should have answered or failed by then


class Messages:
    """The operator and message-recording sub-dialogue of a call."""

    def __init__(self, flow: CallFlow) -> None:
        self.flow = flow
        self.recording: str | None = None  # name of the recording in progress
        self.reason: Reason = "feedback"
        self.count = 0  # recordings made in this call (names them)
        self.offered = False  # a message is being offered to a caller who wanted a person (before the beep)
        self.team_call: tuple[str, str] | None = None  # (commune code, Dial string) of the team being called
        self.ringing = False  # the phones ring (a transfer is out, not yet answered or given up)

    @property
    def commune(self) -> str | None:
        """The commune a message or call-back is for: the team's that was called, if any."""
        return self.team_call[0] if self.team_call and self.reason != "feedback" else None

    def operator(self) -> None:
        """Ring the operators, or take a message when there are none."""
        f = self.flow
        self.team_call = None
        f.set_listening(False)
        if f.config.has_operators:
            f.state = State.WAITING
            f.say([("key", "transfer")], Continuation.TRANSFER, remember=False)
        else:
            self.begin("operator_unavailable", "message")

    def team(self, commune: str, ring: str, intro: str) -> None:
        """Ring a commune's digital technology team after saying `intro`; the operators' way otherwise."""
        f = self.flow
        self.team_call = (commune, ring)
        f.state = State.WAITING
        f.set_listening(False)
        f.say([("text", intro)], Continuation.TRANSFER, remember=False)

    def begin(self, intro_key: str, reason: Reason) -> None:
        """Say the introduction and the beep; recording starts when the beep ended."""
        f = self.flow
        self.reason = reason
        self.offered = reason == "message"
        f.state = State.WAITING
        f.set_listening(False)
        beep = f.play_item(key="beep", barge_in=False)
        f.say([("key", intro_key), beep], Continuation.RECORD, remember=False)

    # --- continuations --------------------------------------------------------------------------

    def ring(self) -> None:
        """Continuation TRANSFER: "please hold" was said."""
        f = self.flow
        f.state = State.WAITING
        if self.team_call is not None:
            f.emit(Transfer(self.team_call[1], f.config.transfer_timeout_s))
        else:
            f.emit(Transfer(f.config.operator_endpoint, f.config.transfer_timeout_s, duty=True))
        self.ringing = True
        f.set_timer(Timer.TRANSFER, (f.config.transfer_timeout_s + TRANSFER_GRACE_S) * 1000)

    def start(self) -> None:
        """Continuation RECORD: the beep ended."""
        f = self.flow
        self.offered = False
        self.count += 1
        self.recording = f"rec{self.count}"
        f.state = State.RECORDING
        f.emit(StartRecording(self.recording, f.config.feedback_max_seconds))
        # Guard: if the recorder never reports, do not hold the call forever.
        f.set_timer(Timer.RECORDING, f.config.feedback_max_seconds * 1000 + RECORDER_GRACE_MS)

    # --- table entries --------------------------------------------------------------------------

    def on_transfer(self, ev: TransferResult) -> None:
        """(WAITING, transfer result): bridged with an operator, or a message."""
        f = self.flow
        f.cancel_timer(Timer.TRANSFER)
        self.ringing = False
        if ev.answered:
            f.tracker.delivered(Outcome.TRANSFERRED)
            f.state = State.BRIDGED
            f.set_listening(False)
            f.log(Turn(kind=TurnKind.ACTION, action=TurnAction.TRANSFERRED))
            return
        f.log(Turn(kind=TurnKind.ACTION, action=TurnAction.TRANSFER_NO_ANSWER))
        self.begin("team_unavailable" if self.team_call else "operator_unavailable", "message")

    def on_transfer_timeout(self, ev: Event) -> None:
        """(WAITING, transfer timer): the transfer never reported; as if nobody answered."""
        self.on_transfer(TransferResult(answered=False))

    def on_key(self, ev: Dtmf) -> None:
        """(RECORDING, key): # ends the recording."""
        if ev.digit == "#" and self.recording:
            self.flow.emit(StopRecording(self.recording))

    def on_recorder_late(self, ev: Event) -> None:
        """(RECORDING, recording timer): stop it; give the recorder a moment to report."""
        if self.recording:
            self.flow.emit(StopRecording(self.recording))
            self.flow.set_timer(Timer.RECORDING_STUCK, RECORDER_STOP_MS)

    def on_recorder_stuck(self, ev: Event) -> None:
        """(RECORDING, stuck timer): the recorder never reported."""
        self.recording = None
        self.flow.say([("key", "feedback_failed")], Continuation.CLOSING)

    def on_finished(self, ev: RecordingFinished) -> None:
        """(RECORDING, recording finished): store it as a ticket unless it is empty."""
        if ev.name != self.recording:
            return
        f = self.flow
        f.cancel_timer(Timer.RECORDING)
        f.cancel_timer(Timer.RECORDING_STUCK)
        self.recording = None
        if not ev.ok or ev.duration_ms < f.config.feedback_min_ms:
            f.log(Turn(kind=TurnKind.SYSTEM, action=TurnAction.RECORDING_EMPTY))
            if self.reason == "message":
                self.callback()
                return
            f.say([("key", "feedback_empty")], Continuation.CLOSING)
            return
        f.state = State.WAITING
        f.emit(CreateTicket(ev.name, self.reason, commune=self.commune, topic=f.topic))
        f.set_timer(Timer.LOOKUP, TICKET_PATIENCE_MS)

    def on_ticket(self, ev: TicketCreated) -> None:
        """(WAITING, ticket stored): read its number back digit by digit."""
        f = self.flow
        f.cancel_timer(Timer.LOOKUP)
        if ev.number is None:
            f.log(Turn(kind=TurnKind.ACTION, action=TurnAction.TICKET_FAILED))
            # Kept for later (a locked database, a full disk): the caller need not call again.
            f.say([("key", "feedback_kept" if ev.kept else "feedback_failed")], Continuation.CLOSING)
            return
        f.turns += 1
        callback = self.reason == "callback"
        service = OUTCOMES[self.reason]
        f.tracker.delivered(service)  # the ticket exists, whether or not its number is heard
        f.log(Turn(kind=TurnKind.ACTION, action=TurnAction.TICKET_CREATED, dtmf=ev.number))
        number = f.texts.ticket_number.format(digits=spell_digits(ev.number))
        items: list[Item] = [("key", "callback_saved" if callback else "feedback_saved"), ("text", number)]
        if service is Outcome.TICKET:
            f.serve(service, items)  # a complaint recorded: a service, rated
        else:
            f.say(items, Continuation.CLOSING)  # the person wanted was not reached: not rated

    def callback(self, *, gone: bool = False) -> None:
        """Nobody answered and no message was left: a ticket with the number, so that staff call back.

        `gone`: the caller hung up (nothing more is said). A withheld number cannot be called back: no
        ticket, only the turn in the call log.
        """
        f = self.flow
        self.offered = False
        if not f.caller:
            f.tracker.delivered(Outcome.TRANSFER_MISSED)
            f.log(Turn(kind=TurnKind.SYSTEM, action=TurnAction.CALLBACK_WITHHELD))
            if not gone:
                f.say([("key", "feedback_empty"), ("key", "callback_withheld")], Continuation.CLOSING)
            return
        self.reason = "callback"
        f.emit(CreateTicket("", "callback", commune=self.commune, topic=f.topic))
        if gone:
            f.tracker.delivered(Outcome.TRANSFER_MISSED)
            return
        f.state = State.WAITING
        f.set_timer(Timer.LOOKUP, TICKET_PATIENCE_MS)

    # --- the call ends --------------------------------------------------------------------------

    def keep(self) -> None:
        """The call ends (hang-up, call limit): keep what was said as a ticket; one who hung up while the
        phones rang, or on the offer to leave a message, still wanted a person: a call-back."""
        f = self.flow
        if self.recording and f.state is State.RECORDING:
            # A message cut at the beep holds nothing: the runner makes it a call-back instead.
            min_ms = f.config.feedback_min_ms if self.reason == "message" else 0
            ticket = CreateTicket(
                self.recording, self.reason, min_ms=min_ms, commune=self.commune, topic=f.topic
            )
            f.emit(StopRecording(self.recording), ticket)
            f.tracker.delivered(OUTCOMES[self.reason])
            self.recording = None
        elif self.offered or self.ringing:
            self.ringing = False
            self.callback(gone=True)
