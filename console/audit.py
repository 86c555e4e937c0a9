"""The audit log: who heard which recording, saw which number, answered which ticket, edited which intent."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session, sessionmaker

from console.accounts import OperatorInfo, utcnow
from console.models import AuditEntry
from core.db import transaction

logger = logging.getLogger(__name__)

# Action -> Vietnamese label for the audit page.
ACTIONS_VI = {
    "login": "Đăng nhập",
    "login_failed": "Đăng nhập sai",
    "logout": "Đăng xuất",
    "listen_recording": "Nghe ghi âm",
    "download_recording": "Tải ghi âm",
    "show_number": "Xem số điện thoại",
    "reply_ticket": "Trả lời phiếu",
    "upload_prompt": "Thay lời nhắc",
    "edit_prompt": "Sửa lời nhắc",
    "edit_intent": "Sửa chủ đề",
    "restore_intent": "Khôi phục bản cũ (chủ đề)",
    "restore_prompt": "Khôi phục bản cũ (lời nhắc)",
    "add_operator": "Thêm tài khoản",
    "reset_password": "Đặt lại mật khẩu",
    "disable_operator": "Khóa tài khoản",
    "enable_operator": "Mở khóa tài khoản",
}


def record(
    factory: sessionmaker[Session],
    operator: OperatorInfo | None,
    action: str,
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
        return (result.rowcount or 0) if isinstance(result, CursorResult) else 0
