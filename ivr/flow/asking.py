"""The main question: what the caller wants, said (through the matcher) or keyed (through the menu).

States INTRO and MAIN (speech or keys), CLARIFY ("did you mean A or B?": 1, 2 or say it) and MENU
(the keypad menu, with submenus read after a short pause). A choice ends in `CallFlow.answer`; what
was not understood is a failed attempt (`CallFlow.fail`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ivr.enums import Continuation, State, Timer, TurnAction, TurnKind
from ivr.flow.commands import Turn
from ivr.flow.events import AsrFinal, Dtmf, Event
from ivr.flow.kernel import Item
from ivr.flow.menu import DecisionLike, MenuItem

if TYPE_CHECKING:
    from ivr.flow.call import CallFlow


class Asking:
    """The main-question sub-dialogue of a call: understanding, clarifying, the keypad menu."""

    def __init__(self, flow: CallFlow) -> None:
        self.flow = flow
        self.by_id = {m.id: m for m in flow.menu}
        self.prefix = ""  # keys pressed so far in a submenu
        self.clarify: tuple[MenuItem, MenuItem] | None = None  # the two intents of the open question

    def reset(self) -> None:
        """A choice was made (or the question left): no submenu, no open question."""
        self.prefix = ""
        self.clarify = None

    def keypad_menu(self, prefix: str = "", *, first: str | None = None) -> None:
        """Read the keypad menu at `prefix` ("" = top), after the prompt `first` if any."""
        f = self.flow
        f.state = State.MENU
        self.prefix = prefix
        f.set_listening(False)
        items: list[Item] = [("key", first)]
        if not prefix:
            items.append(("key", "keypad_menu_intro"))
        items.append(("text", f.keypad.menu_text(prefix, f.texts)))
        f.say(items, Continuation.MENU_WAIT)

    # --- speech ---------------------------------------------------------------------------------

    def _understood(self, ev: AsrFinal) -> tuple[Turn, DecisionLike] | None:
        """The matcher's decision on a transcript; None (a failed attempt) when nothing was heard."""
        f = self.flow
        turn = f.speech_turn(ev)
        if not turn.transcript:
            f.log(turn)
            f.fail("not_understood")
            return None
        decision = f.match(turn.transcript)
        return replace(turn, score=float(decision.score)), decision

    def on_heard(self, ev: AsrFinal) -> None:
        """(INTRO/MAIN, transcript): answer the intent, or ask which of two close ones was meant."""
        understood = self._understood(ev)
        if understood is None:
            return
        f = self.flow
        turn, decision = understood
        item = self.by_id.get(decision.intent or "")
        if item is None:
            f.log(turn)
            f.fail("not_understood")
            return
        runner = self.by_id.get(decision.runner_up or "")
        if decision.clarify and runner is not None and runner.id != item.id:
            f.log(replace(turn, intent=item.id, action=TurnAction.CLARIFY))
            self.clarify = (item, runner)
            f.state = State.CLARIFY
            f.say([("text", f.texts.clarify.format(a=item.title, b=runner.title))], Continuation.LISTEN)
            return
        f.answer(item, turn)

    def on_clarify_heard(self, ev: AsrFinal) -> None:
        """(CLARIFY, transcript): whatever intent it names (not only the two asked about)."""
        if self.clarify is None:  # the question was left (e.g. replayed): like the main question
            self.on_heard(ev)
            return
        understood = self._understood(ev)
        if understood is None:
            return
        f = self.flow
        turn, decision = understood
        chosen = self.by_id.get(decision.intent or "")
        if chosen is not None:
            f.answer(chosen, turn)
        else:
            f.log(turn)
            self.clarify = None
            f.fail("not_understood")

    # --- keys (after `CallFlow.caller_key`) -----------------------------------------------------

    def on_clarify_key(self, ev: Dtmf) -> None:
        """(CLARIFY, key): 1 or 2 picks one of the two; other keys work as in the menu."""
        if self.clarify is not None and ev.digit in "12":
            self.flow.answer(
                self.clarify[0 if ev.digit == "1" else 1], Turn(kind=TurnKind.DTMF, dtmf=ev.digit)
            )
        else:
            self.on_menu_key(ev)

    def on_menu_key(self, ev: Dtmf) -> None:
        """(INTRO/MAIN/MENU, key): * replays, 0 reaches an operator, digits walk the keypad tree."""
        f, d = self.flow, ev.digit
        if d == "*":
            f.log(Turn(kind=TurnKind.DTMF, dtmf=d, action=TurnAction.REPLAY))
            f.replay()
            return
        if d == "0":
            f.log(Turn(kind=TurnKind.DTMF, dtmf=d, action=TurnAction.TRANSFER))
            f.messages.operator()
            return
        if d == "#":
            return
        path = self.prefix + d
        f.cancel_timer(Timer.MENU_DIGIT)
        item, more = f.keypad.get(path), f.keypad.extends(path)
        if item is not None and not more:
            f.answer(item, Turn(kind=TurnKind.DTMF, dtmf=path))
        elif more:
            # A submenu: wait briefly for the next key, then read the submenu. Logged, so that the call's
            # timeline shows the key pressed at every level.
            f.log(Turn(kind=TurnKind.DTMF, dtmf=path, action=TurnAction.SUBMENU))
            self.prefix = path
            f.state = State.MENU
            f.set_listening(False)
            f.set_timer(Timer.MENU_DIGIT, f.config.menu_digit_timeout_ms)
        else:
            self.prefix = ""
            f.log(Turn(kind=TurnKind.DTMF, dtmf=path, action=TurnAction.INVALID))
            f.fail("invalid_key")

    # --- timers ---------------------------------------------------------------------------------

    def on_menu_pause(self, ev: Event) -> None:
        """(MENU, menu-digit timer): read the submenu keyed so far."""
        prefix = self.prefix
        if not prefix:
            return
        item = self.flow.keypad.get(prefix)
        if item is not None:  # an intent that also has a submenu: a pause means "this one"
            self.flow.answer(item, Turn(kind=TurnKind.DTMF, dtmf=prefix))
        else:
            self.keypad_menu(prefix)

    def on_silence(self, ev: Event) -> None:
        """(INTRO/MAIN/CLARIFY, no-input timer): a failed attempt."""
        self.flow.fail("no_input")

    def on_menu_silence(self, ev: Event) -> None:
        """(MENU, no-input timer): a failed attempt; the submenu keyed so far is dropped."""
        self.prefix = ""
        self.flow.fail("no_input")
