"""Login sessions (table `console_sessions`): the cookie's random token, only its hash stored; CSRF token."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from console.data.times import utcnow
from console.models import ConsoleSession, Operator, OperatorInfo
from core.db import affected, transaction

SESSION_HOURS = 12  # absolute lifetime of a login
IDLE_MINUTES = 120  # a session unused this long ends
TOUCH_SECONDS = 60  # last_seen is written at most this often


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Login:
    """The operator behind a request and the CSRF token their forms must carry."""

    operator: OperatorInfo
    csrf: str


def open_session(factory: sessionmaker[Session], operator: OperatorInfo, ip: str) -> tuple[str, str]:
    """Store a new session; returns (token for the cookie, csrf token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = utcnow()
    with transaction(factory) as s:
        s.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
        s.add(
            ConsoleSession(
                token_hash=_token_hash(token),
                operator_id=operator.id,
                csrf=csrf,
                created_at=now,
                last_seen=now,
                expires_at=now + timedelta(hours=SESSION_HOURS),
                ip=ip[:64],
            )
        )
        op = s.get(Operator, operator.id)
        if op is not None:
            op.last_login = now
    return token, csrf


def resolve_session(factory: sessionmaker[Session], token: str, now: datetime | None = None) -> Login | None:
    """The login for a cookie token, if the session is alive and the account still active."""
    if not token or len(token) > 128:
        return None
    now = now or utcnow()
    key = _token_hash(token)
    with factory() as s:
        row = s.execute(
            select(ConsoleSession, Operator)
            .join(Operator, Operator.id == ConsoleSession.operator_id)
            .where(ConsoleSession.token_hash == key)
        ).first()
        if row is None:
            return None
        sess, op = row
        idle = now - sess.last_seen > timedelta(minutes=IDLE_MINUTES)
        if sess.expires_at <= now or idle or not op.active:
            s.delete(sess)
            s.commit()
            return None
        if (now - sess.last_seen).total_seconds() > TOUCH_SECONDS:
            sess.last_seen = now
            s.commit()

        return Login(OperatorInfo.of(op), sess.csrf)


def close_session(factory: sessionmaker[Session], token: str) -> None:
    with transaction(factory) as s:
        s.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == _token_hash(token)))


def close_all(s: Session, operator_id: int) -> int:
    """End every session of an account inside the caller's transaction; returns how many."""
    result = s.execute(delete(ConsoleSession).where(ConsoleSession.operator_id == operator_id))
    return affected(result)
