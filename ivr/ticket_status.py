"""A ticket's status by phone: the operators' reply is read only to the number that opened the ticket.

Ticket numbers are six random digits read out once; anyone who keys a valid one would otherwise hear
what an officer wrote back to somebody else. So the reply (the newest in the ticket's history) goes
only to the caller whose number opened the ticket; any other number, or a withheld one, hears the
status and is told where the reply can be heard (from the number that sent it, or from an officer: key
0). Nothing new for a caller to note down, which suits the people who call this line; a second secret
would also serve other phones, but it is one more number to lose. Spoofing a caller id needs the ticket
number as well, and guesses are limited per caller number across calls (`ivr.attempts`): a number not
found, or found but not the caller's, is a failure; withheld callers share one count.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from ivr.attempts import AttemptKind, AttemptLog, Limit
from ivr.flow import TicketStatusResult
from ivr.store import STATUS_SPOKEN

if TYPE_CHECKING:
    from ivr.settings import AttemptSettings
    from ivr.store import CallStore


def ticket_limit(settings: AttemptSettings) -> Limit:
    return Limit(AttemptKind.TICKET, settings.ticket_failures, timedelta(minutes=settings.window_minutes))


class TicketStatusByPhone:
    """Looks a keyed ticket number up for one caller (blocking: calls run it in a thread)."""

    def __init__(self, store: CallStore, attempts: AttemptLog, limit: Limit) -> None:
        self.store = store
        self.attempts = attempts
        self.limit = limit

    def lookup(self, number: str, caller: str) -> TicketStatusResult:
        """What `caller` (national form, "" when withheld) may hear about ticket `number`."""
        attempt = self.attempts.begin(self.limit, caller)
        if attempt is None:
            return TicketStatusResult(number, False, locked=True)
        ticket = self.store.ticket(number)
        if ticket is None:
            return TicketStatusResult(number, False)
        status = STATUS_SPOKEN.get(ticket.status, ticket.status)
        if not caller or ticket.caller != caller:
            return TicketStatusResult(number, True, status, reply_withheld=bool(ticket.latest_reply))
        self.attempts.succeeded(attempt)
        return TicketStatusResult(number, True, status, ticket.latest_reply)
