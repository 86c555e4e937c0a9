"""The audit log (table `audit_log`): who heard which recording, saw which number, answered which ticket,
edited which intent; written by an `Actor`, read by the audit page and the history of edited files."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from console.audit_actions import AnyAuditAction, AuditAction
from console.data.times import utcnow
from console.models import AuditEntry, OperatorInfo
from core.db import affected, transaction

logger = logging.getLogger(__name__)


def record(
    factory: sessionmaker[Session],
    operator: OperatorInfo | None,
    action: AnyAuditAction,
    target: str = "",
    detail: str = "",
    ip: str = "",
    *,
    username: str = "",
) -> None:
    """Write one entry in its own transaction (kept even if what follows fails)."""
    with transaction(factory) as s:
        s.add(
            AuditEntry(
                at=utcnow(),
                operator_id=operator.id if operator else None,
                username=(operator.username if operator else username)[:64],
                action=action,
                target=target[:128],
                detail=detail[:2000],
                ip=ip[:64],
            )
        )
    logger.info("audit: %s %s %s", operator.username if operator else username or "-", action, target)


@dataclass(frozen=True)
class Actor:
    """An operator acting from an address: what every audited action records about who did it."""

    sessions: sessionmaker[Session]
    operator: OperatorInfo
    ip: str

    def record(self, action: AuditAction, target: str = "", detail: str = "") -> None:
        record(self.sessions, self.operator, action, target, detail, self.ip)


@dataclass(frozen=True)
class AuditView:
    at: datetime
    username: str
    action: str
    target: str
    detail: str
    ip: str


def recent(factory: sessionmaker[Session], *, limit: int = 200, action: str = "") -> list[AuditView]:
    with factory() as s:
        q = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
        if action:
            q = q.where(AuditEntry.action == action)
        return [AuditView(e.at, e.username, e.action, e.target, e.detail, e.ip) for e in s.scalars(q)]


def purge(factory: sessionmaker[Session], *, days: int, now: datetime | None = None) -> int:
    """Delete entries older than `days` (privacy.audit_retention_days); returns how many went."""
    cut = (now or utcnow()) - timedelta(days=days)
    with transaction(factory) as s:
        result = s.execute(delete(AuditEntry).where(AuditEntry.at < cut))
        return affected(result)


def about_file(
    factory: sessionmaker[Session],
    actions: tuple[str, ...],
    file_name: str,
    start: datetime,
    end: datetime,
) -> list[AuditEntry]:
    """Entries of `actions` about the edited file `file_name` (their detail starts with "<file_name>:")
    written in [start, end], oldest first."""
    with factory() as s:
        q = (
            select(AuditEntry)
            .where(AuditEntry.action.in_(actions), AuditEntry.at >= start, AuditEntry.at <= end)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        return [e for e in s.scalars(q) if e.detail.startswith(f"{file_name}:")]
