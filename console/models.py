"""Operators' console: accounts, login sessions, login attempts and the audit log (the `console` branch)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base

ROLES = ("admin", "operator", "editor", "commune")
# Hotline staff see calls, tickets, recordings and the catalog; the radio roles see the radio only.
STAFF_ROLES = frozenset({"admin", "operator"})
# Who may write and publish radio bulletins (operators kept the right they had before the radio roles).
RADIO_WRITER_ROLES = frozenset({"admin", "operator", "editor"})
# Who sees the province's airing view (every commune's downloads and confirmations).
PROVINCE_ROLES = frozenset({"admin", "editor"})


class Operator(Base):
    """A person who logs in to the console; the password is kept only as a salted scrypt hash."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)  # stored lower-case
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="operator")  # admin | operator | editor | commune
    commune_code: Mapped[int | None] = mapped_column(Integer, nullable=True)  # role commune: its unit code
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ConsoleSession(Base):
    """A logged-in browser; the cookie carries a random token, only its hash is stored."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the token
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))  # must come back in every POST form
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ip: Mapped[str] = mapped_column(String(64), default="")


class LoginAttempt(Base):
    """A login attempt, written before the password is checked and kept for the limiter's window: every web
    process counts the same attempts, and parallel guesses are counted before any of them is answered."""

    __tablename__ = "console_login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    username: Mapped[str] = mapped_column(String(64))  # as typed, lower-case; may name no account
    ip: Mapped[str] = mapped_column(String(64), index=True)


class AuditEntry(Base):
    """Who looked at or changed personal data: recordings heard, numbers shown, tickets answered."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    operator_id: Mapped[int | None] = mapped_column(
        ForeignKey("operators.id", ondelete="SET NULL"), nullable=True, index=True
    )
    username: Mapped[str] = mapped_column(String(64), default="")  # kept if the account is deleted
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(
        String(128), default=""
    )  # "ticket:123456", "call:42", "prompt:greeting"
    detail: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str] = mapped_column(String(64), default="")


@dataclass(frozen=True)
class OperatorInfo:
    """What pages and the CLI need to know about an account (never the hash)."""

    id: int
    username: str
    role: str
    active: bool
    created_at: datetime
    last_login: datetime | None
    commune_code: int | None = None  # set for a commune radio account only

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_staff(self) -> bool:
        """A hotline operator or administrator: may see call data, tickets and recordings."""
        return self.role in STAFF_ROLES

    @property
    def radio_writer(self) -> bool:
        return self.role in RADIO_WRITER_ROLES

    @property
    def sees_province(self) -> bool:
        return self.role in PROVINCE_ROLES

    @classmethod
    def of(cls, op: Operator) -> OperatorInfo:
        return cls(op.id, op.username, op.role, op.active, op.created_at, op.last_login, op.commune_code)
