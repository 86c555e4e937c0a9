"""A call's outcome, decided in one place: the best service the caller got, else how the call ended.

"The caller hung up" used to overwrite everything, so calls that were served looked abandoned. The
flow now reports what happened (a service started, a service was delivered, the flow let the caller
go) and `OutcomeTracker.outcome` derives the one value stored in `calls.outcome`. Pure: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.enums import Outcome

# Services, most telling first: when a call got several, the first of these it got is its outcome
# (a complaint recorded after an answer matters more to the province than the answer).
SERVICES: tuple[Outcome, ...] = (
    Outcome.TRANSFERRED,
    Outcome.TICKET,
    Outcome.MESSAGE_LEFT,
    Outcome.TRANSFER_MISSED,
    Outcome.DOSSIER,
    Outcome.TICKET_STATUS,
    Outcome.RADIO,
    Outcome.ANSWERED_SPEECH,
    Outcome.ANSWERED_KEYPAD,
)

# Services that count as soon as they start: a caller who listens to the radio for a while and hangs up
# was served.
COUNTED_AT_START = frozenset({Outcome.RADIO})

# How the flow itself let a caller go who got no service.
ENDINGS: tuple[Outcome, ...] = (
    Outcome.NOT_UNDERSTOOD,
    Outcome.NO_INPUT,
    Outcome.GOODBYE,
    Outcome.TOO_LONG,
    Outcome.FAILED,
)


@dataclass
class OutcomeTracker:
    """What happened in one call, as far as its outcome goes."""

    served: Outcome | None = None  # the best service delivered so far
    pending: Outcome | None = None  # a service being said now (the answer is still playing)
    ending: Outcome | None = None  # how the flow ended the call, if it did

    def started(self, service: Outcome) -> None:
        """A service's result started playing; it counts once it has been said to the end."""
        assert service in SERVICES, service
        self.pending = service
        if service in COUNTED_AT_START:
            self.delivered()

    def delivered(self, service: Outcome | None = None) -> Outcome | None:
        """A service was delivered: `service`, or the one that was playing. Returns it (None: nothing)."""
        got = service or self.pending
        self.pending = None
        if got is None:
            return None
        assert got in SERVICES, got
        if self.served is None or SERVICES.index(got) < SERVICES.index(self.served):
            self.served = got
        return got

    def dropped(self) -> None:
        """What was playing was cut (the caller spoke over it, or asked for something else)."""
        self.pending = None

    def ended(self, how: Outcome) -> None:
        """The flow let the caller go (the last reason given wins)."""
        assert how in ENDINGS, how
        self.ending = how

    @property
    def outcome(self) -> Outcome:
        """The call's outcome now (if it ended now, with the caller hanging up unless `ended` was said)."""
        if self.served is not None:
            return self.served
        if self.ending is not None:
            return self.ending
        if self.pending is not None:
            return Outcome.HUNG_UP_DURING_ANSWER
        return Outcome.HUNG_UP_BEFORE_ANSWER
