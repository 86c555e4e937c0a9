"""Readiness checks any process of ours can run: the database answers, the data disk has room."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

GIB = 1024**3


@dataclass(frozen=True)
class Check:
    """One readiness check's verdict; `message` is Vietnamese, for the person reading `/readyz`."""

    ok: bool
    message: str

    def to_json(self) -> dict[str, object]:
        return {"ok": self.ok, "message": self.message}


def database_check(engine: Engine) -> Check:
    """A bounded query on a table every migrated database has (blocking: run it in a thread)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT version_num FROM alembic_version LIMIT 1")).first()
    except Exception:
        return Check(False, "Không truy cập được cơ sở dữ liệu (chưa tạo, bị khóa hoặc hỏng)")
    return Check(True, "Cơ sở dữ liệu hoạt động bình thường")


def _gib(n: float) -> str:
    return f"{n / GIB:.1f}".replace(".", ",") + " GB"  # Vietnamese decimal comma


def disk_check(path: Path, min_free_mb: int) -> Check:
    """Free space on the disk holding `path` (recordings, the database, its journal) against a minimum."""
    try:
        free = shutil.disk_usage(path).free
    except OSError:
        return Check(False, "Không đọc được dung lượng ổ đĩa dữ liệu")
    need = min_free_mb * 1024 * 1024
    if free < need:
        return Check(False, f"Ổ đĩa dữ liệu chỉ còn trống {_gib(free)} (cần tối thiểu {_gib(need)})")
    return Check(True, f"Ổ đĩa dữ liệu còn trống {_gib(free)}")
