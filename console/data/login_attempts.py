"""Login attempts (table `console_login_attempts`): the login limiter, shared by every web process.

An attempt is written before the slow password check and refused if it goes over the limit, so parallel
wrong passwords are counted before any of them is checked; a successful login clears its name and address.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from console.data.times import utcnow
from console.models import LoginAttempt
from core.db import serialize, transaction

LIMIT = 5  # attempts per (user name, address) within the window; 4x that per address, whatever the names
WINDOW_S = 300.0  # seconds an attempt counts for


@dataclass(frozen=True)
class Reservation:
    """An attempt the limiter let through; it counts as a failure unless `succeeded` clears it."""

    username: str
    ip: str


class LoginLimiter:
    """At most `limit` attempts per (user name, address) and 4x that per address within `window_s`."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        limit: int = LIMIT,
        window_s: float = WINDOW_S,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.factory, self.limit, self.window_s, self.clock = factory, limit, window_s, clock

    def reserve(self, username: str, ip: str) -> Reservation | None:
        """Count an attempt before its password is checked; None when over the limit (nothing written)."""
        name, ip = username.strip().lower()[:64], ip[:64]
        now = self.clock()
        since = now - timedelta(seconds=self.window_s)
        with self.factory() as s:
            # Writing first takes SQLite's write lock for the whole transaction (on PostgreSQL a lock on the
            # address does): reservations from parallel requests and other processes and machines are
            # counted one after another, never from the same snapshot. Both counts are per address.
            serialize(s, f"console.login:{ip}")
            # Expired attempts of every address go too; on PostgreSQL rows another login is removing right
            # now are skipped, not waited for: two logins from different addresses each hold only their
            # own address's lock, and waiting on each other's deletions could deadlock them.
            expired = select(LoginAttempt.id).where(LoginAttempt.at < since).with_for_update(skip_locked=True)
            s.execute(delete(LoginAttempt).where(LoginAttempt.id.in_(expired)))
            s.add(LoginAttempt(at=now, username=name, ip=ip))
            s.flush()
            recent = (
                select(func.count())
                .select_from(LoginAttempt)
                .where(LoginAttempt.ip == ip, LoginAttempt.at >= since)
            )
            per_name = s.scalar(recent.where(LoginAttempt.username == name)) or 0
            per_address = s.scalar(recent) or 0
            if per_name > self.limit or per_address > 4 * self.limit:
                s.rollback()
                return None
            s.commit()
        return Reservation(name, ip)

    def succeeded(self, reservation: Reservation) -> None:
        """The password was right: this name's attempts from this address no longer count."""
        with transaction(self.factory) as s:
            s.execute(
                delete(LoginAttempt).where(
                    LoginAttempt.username == reservation.username, LoginAttempt.ip == reservation.ip
                )
            )
