"""Entering a code: one sub-dialogue for dossier codes, ticket numbers and commune codes (radio, teams).

The caller keys the code (# or a pause ends it, * starts again) or, where allowed, says it digit by
digit (or, for a commune's team, says its name); the flow looks it up and reads the result. An empty
or unheard entry is asked again once; so is a code that was not found, where the table says so.
`CODES` holds what differs per code: most are looked up by the adapter; a commune's team is found by
the flow itself (configuration) and, once found, rung rather than read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ivr.enums import Continuation, Outcome, State, Timer, TurnKind
from ivr.flow.commands import Command, LookupDossier, LookupTicket, PlayRadio, Turn
from ivr.flow.config import Texts
from ivr.flow.events import AsrFinal, DossierResult, Dtmf, Event, RadioResult, TicketStatusResult
from ivr.flow.kernel import Attempts, Item
from voice.text import digits_from_speech, spell_digits

if TYPE_CHECKING:
    from ivr.flow.call import CallFlow, FailReason

LOOKUP_PATIENCE_MS = 1500  # lookups are local and fast: "please wait" only when one takes longer
CODE_RETRIES = 1  # an empty, unheard or unknown code is asked again this many times


@dataclass(frozen=True)
class Reading:
    """What a lookup result says to the caller."""

    found: bool
    items: list[Item]
    locked: bool = False  # too many wrong codes across calls: said once, never asked again


def _dossier(ev: DossierResult, texts: Texts) -> Reading:
    digits = spell_digits(ev.code)
    if not ev.found:
        return Reading(False, [("text", texts.dossier_not_found.format(digits=digits))])
    text = texts.dossier_found.format(title=ev.title, digits=digits, status=ev.status, updated=ev.updated)
    return Reading(True, [("text", text)])


def _ticket(ev: TicketStatusResult, texts: Texts) -> Reading:
    digits = spell_digits(ev.number)
    if ev.locked:
        return Reading(False, [("text", texts.ticket_locked)], locked=True)
    if not ev.found:
        return Reading(False, [("text", texts.ticket_not_found.format(digits=digits))])
    items: list[Item] = [("text", texts.ticket_status.format(digits=digits, status=ev.status))]
    if ev.reply_note:
        items.append(("text", texts.ticket_reply.format(note=ev.reply_note)))
    elif ev.reply_withheld:
        items.append(("text", texts.ticket_reply_elsewhere))
    return Reading(True, items)


def _radio(ev: RadioResult, texts: Texts) -> Reading:
    if ev.file is None:
        return Reading(False, [("key", "radio_unavailable")])
    return Reading(True, [("file", ev.file)])


@dataclass(frozen=True)
class TeamLookup:
    """The commune a caller meant, found by the flow (`ivr.flow.teams`), and its team's phones."""

    query: str  # what was keyed or said
    commune: str | None  # its code; None: no commune recognized
    name: str = ""  # "Xã Anh Sơn" ("" when only codes are known)
    ring: str = ""  # its team's Dial string; "": no team configured


def _team(ev: TeamLookup, texts: Texts) -> Reading:
    # Found: the team is rung (or its absence said) by `then`, nothing is read here.
    return Reading(ev.commune is not None, [] if ev.commune is not None else [("key", "team_not_found")])


@dataclass(frozen=True)
class CodeSpec:
    """One kind of code: how it is asked for, looked up and read back."""

    purpose: str  # the logged turn's action: dossier | ticket | radio | team
    prompt_key: str  # the question, asked again on a retry
    speech: bool  # the code may be said as well as keyed
    lookup: Callable[[str], Command] | None  # the adapter's look-up (None: `local` answers)
    result: type[Any]  # the event (or local answer) that answers the lookup
    read: Callable[[Any, Texts], Reading]  # (result event, templates) -> what to say
    outcome: Outcome  # of the call, once a result was read
    retry_missing: bool  # a code that was not found is asked again (else: say so, offer more help)
    names: bool = False  # speech without digits is taken as a name (communes)
    local: Callable[[CallFlow, str], Any] | None = None  # the flow answers itself, at once
    then: Callable[[CallFlow, Any], None] | None = None  # a found code goes on here instead of being read


# Keyed by the intent action that starts the entry.
CODES: Mapping[str, CodeSpec] = {
    "lookup_dossier": CodeSpec(
        "dossier", "dossier_ask", True, LookupDossier, DossierResult, _dossier, Outcome.DOSSIER, True
    ),
    "ticket_status": CodeSpec(
        "ticket", "ticket_ask", False, LookupTicket, TicketStatusResult, _ticket, Outcome.TICKET_STATUS, True
    ),
    "radio": CodeSpec("radio", "radio_ask", True, PlayRadio, RadioResult, _radio, Outcome.RADIO, False),
    "commune_team": CodeSpec(
        "team",
        "team_ask",
        True,
        None,
        TeamLookup,
        _team,
        Outcome.TRANSFERRED,
        True,
        names=True,
        local=lambda f, query: f.teams.find(query),
        then=lambda f, found: f.teams.connect(found),
    ),  # fmt: skip
}


class CodeEntry:
    """The code-entry sub-dialogue of a call (states COLLECT, then WAITING for the result)."""

    def __init__(self, flow: CallFlow) -> None:
        self.flow = flow
        self.spec: CodeSpec | None = None  # None: no entry in progress
        self.digits = ""
        self.attempts = Attempts(CODE_RETRIES)

    def begin(self, spec: CodeSpec) -> None:
        f = self.flow
        self.spec, self.digits, self.attempts = spec, "", Attempts(CODE_RETRIES)
        f.state = State.COLLECT
        f.set_listening(spec.speech)
        f.say([("key", spec.prompt_key)], Continuation.COLLECT_WAIT)

    def _ask_again(self, first: str) -> None:
        assert self.spec is not None
        self.flow.say([("key", first), ("key", self.spec.prompt_key)], Continuation.COLLECT_WAIT)

    def _give_up(self, reason: FailReason) -> None:
        """No usable code after the retry: a failed attempt of the call."""
        self.spec = None
        self.flow.fail(reason)

    # --- table entries --------------------------------------------------------------------------

    def on_key(self, ev: Dtmf) -> None:
        """(COLLECT, key) after the flow's key handling: # ends, * starts again, digits add up."""
        assert self.spec is not None
        f = self.flow
        if ev.digit == "#":
            self.finish()
        elif ev.digit == "*":
            self.digits = ""
            f.say([("key", self.spec.prompt_key)], Continuation.COLLECT_WAIT)
        else:
            if len(self.digits) < f.config.max_code_digits:
                self.digits += ev.digit
            f.cancel_timer(Timer.NO_INPUT)
            f.set_timer(Timer.DIGIT, f.config.digit_timeout_ms)

    def on_heard(self, ev: AsrFinal) -> None:
        """(COLLECT, transcript): the digits said, if any."""
        assert self.spec is not None
        f = self.flow
        turn = f.speech_turn(ev)
        digits = digits_from_speech(turn.transcript)
        f.log(replace(turn, dtmf=digits, action=self.spec.purpose))
        if digits:
            self.digits = digits[: f.config.max_code_digits]
            self.finish()
            return
        if self.spec.names and turn.transcript:
            self.finish(said=turn.transcript)
            return
        f.cancel_timer(Timer.DIGIT)
        if self.attempts.miss():
            self._give_up("not_understood")
        else:
            self._ask_again("not_understood")

    def on_pause(self, ev: Event) -> None:
        """(COLLECT, digit timer): a pause ends the entry."""
        self.finish()

    def on_engine_failure(self) -> None:
        """Speech recognition failed mid-entry: keys still work, say so unless digits were keyed."""
        if self.spec is not None and not self.digits:
            self._ask_again("system_error")

    def finish(self, said: str = "") -> None:
        """The entry ended: look the code (or the name `said`) up, or ask again (once) when nothing was
        entered."""
        spec = self.spec
        assert spec is not None
        f = self.flow
        f.cancel_timer(Timer.DIGIT)
        code = self.digits or said
        if not code:
            if self.attempts.miss():
                self._give_up("no_input")
            else:
                self._ask_again("no_input")
            return
        if self.digits:
            f.log(Turn(kind=TurnKind.DTMF, dtmf=code, action=spec.purpose))
        if spec.local is not None:
            self.on_result(spec.local(f, code))
            return
        assert spec.lookup is not None
        f.state = State.WAITING
        f.set_listening(False)
        f.emit(spec.lookup(code))
        f.set_timer(Timer.LOOKUP, LOOKUP_PATIENCE_MS)

    def on_result(self, ev: Event) -> None:
        """(WAITING, lookup result): read it; a code not found may be entered again."""
        spec = self.spec
        if spec is None or not isinstance(ev, spec.result):
            return
        f = self.flow
        f.cancel_timer(Timer.LOOKUP)
        reading = spec.read(ev, f.texts)
        found = "locked" if reading.locked else "found" if reading.found else "not_found"
        f.log(Turn(kind=TurnKind.ACTION, action=f"{spec.purpose}_{found}"))
        if reading.found and spec.then is not None:
            self.spec = None
            spec.then(f, ev)
            return
        if reading.found:
            self.spec = None
            f.turns += 1
            f.serve(spec.outcome, reading.items)
            return
        self.digits = ""
        if spec.retry_missing and not reading.locked and not self.attempts.miss():
            f.state = State.COLLECT
            f.set_listening(spec.speech)
            f.say([*reading.items, ("key", spec.prompt_key)], Continuation.COLLECT_WAIT)
        else:
            self.spec = None
            f.say(reading.items, Continuation.CLOSING)
