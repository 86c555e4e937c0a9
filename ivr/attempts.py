"""Guesses by phone counted in the database, so that a limit holds across calls (and restarts).

A caller may hang up after each wrong ticket number or PIN and call again: a count kept per call would
start from zero every time. Each attempt is a row of `phone_attempts`; it is reserved (counted as failed)
before the secret is compared and marked good only when it succeeded, so parallel calls cannot all slip
in under the limit. Rows older than the window are deleted as new attempts come: nothing outlives it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db import serialize, transaction
from ivr.models import PhoneAttempt
from ivr.store import hash_caller, utcnow


class AttemptKind(StrEnum):
    """What was guessed (`phone_attempts.kind`): stored, never rename a value."""

    TICKET = "ticket"  # a ticket number keyed to hear its status
    PROMPT_PIN = "prompt_pin"  # the PIN of the prompt re-recording extension


@dataclass(frozen=True)
class Limit:
    """At most `per_source` failures from one source, and `total` from all sources, within `window`."""

    kind: AttemptKind
    per_source: int
    window: timedelta
    total: int | None = None  # None: no limit across sources


class AttemptLog:
    """Reserve an attempt before checking a guess; `succeeded` clears it from the failures."""

    def __init__(self, factory: sessionmaker[Session], clock: Callable[[], datetime] = utcnow) -> None:
        self.factory = factory
        self.clock = clock

    def begin(self, limit: Limit, source: str) -> int | None:
        """The id of a new attempt from `source` (a caller number, a seat; "" when withheld, all withheld
        callers then share one count), or None when the limit is reached: do not check the guess."""
        now = self.clock()
        since = now - limit.window
        who = hash_caller(source)
        with transaction(self.factory) as s:
            # The delete comes first: it takes SQLite's write lock (on PostgreSQL the lock on the kind
            # does), so the count below and the insert are one step that concurrent calls, in this
            # process or on other machines, take one after the other.
            serialize(s, f"ivr.attempts:{limit.kind}")
            s.execute(delete(PhoneAttempt).where(PhoneAttempt.kind == limit.kind, PhoneAttempt.at < since))
            failed = select(func.count()).where(
                PhoneAttempt.kind == limit.kind, PhoneAttempt.at >= since, PhoneAttempt.ok.is_(False)
            )
            if (s.scalar(failed.where(PhoneAttempt.who == who)) or 0) >= limit.per_source:
                return None
            if limit.total is not None and (s.scalar(failed) or 0) >= limit.total:
                return None
            row = PhoneAttempt(kind=limit.kind, who=who, at=now, ok=False)
            s.add(row)
            s.flush()
            return row.id

    def succeeded(self, attempt: int) -> None:
        with transaction(self.factory) as s:
            s.execute(update(PhoneAttempt).where(PhoneAttempt.id == attempt).values(ok=True))

    def failures(self, limit: Limit, source: str | None = None) -> int:
        """Failures within the window, from `source` or (None) from everyone."""
        since = self.clock() - limit.window
        q = select(func.count()).where(
            PhoneAttempt.kind == limit.kind, PhoneAttempt.at >= since, PhoneAttempt.ok.is_(False)
        )
        if source is not None:
            q = q.where(PhoneAttempt.who == hash_caller(source))
        with self.factory() as s:
            return s.scalar(q) or 0
