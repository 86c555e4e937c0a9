"""Connecting a caller to their commune's community digital technology team (tổ công nghệ số cộng đồng).

The commune comes from what the caller said when asking ("cho tôi gặp tổ công nghệ số xã Anh Sơn"),
else it is asked for like radio's: the same keypad code, or its name said. The directory of teams is
configuration (`FlowConfig.teams`), so the flow answers itself, without a look-up; which commune a
text means is the injected `CommuneFinder`'s business (pure and in memory, like the intent matcher).
A commune with a team is rung the operators' way (a message, else a call-back ticket carrying the
commune, when nobody answers); one without is told so politely and offered the operators.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ivr.enums import Continuation, TurnAction, TurnKind
from ivr.flow.codes import CODES, TeamLookup
from ivr.flow.commands import Turn
from ivr.flow.kernel import Item
from voice.text import spell_digits

if TYPE_CHECKING:
    from ivr.flow.call import CallFlow

# Text (a code keyed or said, or a sentence) -> (commune code, its name) or None: who the caller means.
CommuneFinder = Callable[[str], tuple[str, str] | None]


def configured_codes(teams: Mapping[str, str]) -> CommuneFinder:
    """A finder that knows only the codes of the configured teams, without names (no commune list)."""
    return lambda text: (text.strip(), "") if text.strip() in teams else None


def commune_words(lookup: TeamLookup) -> str:
    """How the commune is said in a sentence: "xã Anh Sơn", or by its code when the name is unknown."""
    if lookup.name:
        return lookup.name[:1].lower() + lookup.name[1:]
    return f"xã, phường mã số {spell_digits(lookup.commune or '')}"


class Teams:
    """The commune-team sub-dialogue of a call."""

    def __init__(self, flow: CallFlow) -> None:
        self.flow = flow

    def begin(self) -> None:
        """The intent: the commune named in the request, else ask for it."""
        f = self.flow
        lookup = self.find(f.heard) if f.heard else None
        if lookup is not None and lookup.commune is not None:
            f.log(Turn(kind=TurnKind.ACTION, action=f"{CODES['commune_team'].purpose}_found"))
            self.connect(lookup)
        else:
            f.codes.begin(CODES["commune_team"])

    def find(self, text: str) -> TeamLookup:
        """The commune `text` means and its team's phones ("" : no team); no commune when none is meant."""
        f = self.flow
        found = f.find_commune(text)
        if found is None:
            return TeamLookup(text, None)
        code, name = found
        return TeamLookup(text, code, name, f.config.teams.get(code, ""))

    def connect(self, lookup: TeamLookup) -> None:
        """Ring the commune's team, or say it has none and offer the operators."""
        f = self.flow
        words = commune_words(lookup)
        if lookup.ring and lookup.commune is not None:
            f.messages.team(lookup.commune, lookup.ring, f.texts.team_connect.format(commune=words))
            return
        f.log(Turn(kind=TurnKind.ACTION, action=TurnAction.TEAM_MISSING))
        f.turns += 1
        f.tracker.delivered(f.answered_outcome())  # an answer, if not the one hoped for: no rating
        items: list[Item] = [("text", f.texts.team_none.format(commune=words))]
        if f.config.has_operators:
            items.append(("key", "team_offer_operator"))
        f.say(items, Continuation.CLOSING)
