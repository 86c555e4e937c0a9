"""Earlier versions of files edited from the console: listing them, who replaced them, finding one safely.

Each save keeps the file as it was in a history directory (yaml_write.keep_history) under
`<prefix><stem>-<UTC time><suffix>`; a restore puts one of them back. Only names of that exact pattern,
directly inside the right history directory, are ever read: a form cannot name any other file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from console.models import AuditEntry

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

MAX_VERSIONS = 20  # shown on a page, newest first
STAMP_FORMAT = "%Y%m%dT%H%M%S%f"  # yaml_write.keep_history
AUDIT_WINDOW = dt.timedelta(seconds=120)  # an edit's audit entry is written just after its history file


def digest(raw: bytes) -> str:
    """A short hash of a file's bytes: a restore based on an older page is detected and refused."""
    return hashlib.sha256(raw).hexdigest()[:16]


def name_pattern(path: Path, prefix: str = "") -> re.Pattern[str]:
    """History names of `path`: `<prefix><stem>-<20 digit UTC time><suffix>`, nothing else."""
    return re.compile(rf"{re.escape(prefix + path.stem)}-(?P<stamp>\d{{8}}T\d{{12}}){re.escape(path.suffix)}")


@dataclass(frozen=True)
class Version:
    """One kept file: the content `path` had until someone replaced it at `kept_at`."""

    name: str
    path: Path
    kept_at: dt.datetime  # naive UTC, like the database's times
    by: str = ""  # who saved the change that replaced it ("" when the audit log does not say)
    action: str = ""  # that audit entry's action ("edit_intent", "restore_intent", ...)


def _stamp(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, STAMP_FORMAT)


def find_version(history_dir: Path, path: Path, name: str, prefix: str = "") -> Path | None:
    """The history file `name` of `path`, or None when the name is not one (no other file is reachable)."""
    m = name_pattern(path, prefix).fullmatch(name)
    if m is None:
        return None
    try:
        _stamp(m.group("stamp"))
    except ValueError:
        return None
    candidate = history_dir / name
    try:
        if candidate.is_symlink() or not candidate.is_file():
            return None
        if candidate.resolve().parent != history_dir.resolve():
            return None
    except OSError:
        return None
    return candidate


class RestoreRefused(Exception):
    """A kept version cannot be put back (nothing written); `kind`: no_version, conflict or check."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(message)


def restore_version(
    history_dir: Path,
    path: Path,
    name: str,
    current: str,
    check: Callable[[Path], None],
    *,
    prefix: str = "",
    what: str = "tệp",
) -> tuple[Path, Path | None]:
    """Put the kept version `name` of `path` back: (the version, where the replaced file was kept).

    The steps every restore shares: only a history name of `path` (find_version), refused when the file
    changed since `current` (its digest) was read, nothing done when the version equals the file (None
    for the history), the version written as it is (BOM, line ends) to a candidate that `check` must
    accept (it raises to refuse), the current file kept in history (so the restore can be undone), then
    an atomic replace. Refusals are RestoreRefused (`what` names the file in the message); whatever
    `check` raises passes through. The caller holds its save lock.
    """
    from console.yaml_write import candidate, keep_history, replace

    kept = find_version(history_dir, path, name, prefix)
    if kept is None:
        raise RestoreRefused("no_version", f"Không có bản cũ này của {what} (có thể đã bị xóa).")
    raw = path.read_bytes()
    if current and current != digest(raw):
        raise RestoreRefused(
            "conflict",
            f"Tệp {path.name} vừa được sửa ở nơi khác sau khi bạn mở trang. Hãy tải lại "
            "trang để xem bản mới nhất và lịch sử, rồi chọn lại bản muốn khôi phục.",
        )
    old = kept.read_bytes()
    if old == raw:
        return kept, None
    try:
        text = old.decode("utf-8")  # written as it is: BOM and line ends included
    except UnicodeDecodeError:
        raise RestoreRefused(
            "check", "Bản cũ này không đọc được (không phải chữ UTF-8); không có gì thay đổi."
        ) from None
    with candidate(path.parent, path.name, text) as tmp:
        check(tmp)
        history = keep_history(history_dir, path, raw, prefix)
        replace(tmp, path)  # atomic: the hotline never reads half a file
    return kept, history


def list_versions(
    history_dir: Path, path: Path, prefix: str = "", limit: int = MAX_VERSIONS
) -> list[Version]:
    """The kept versions of `path`, newest first."""
    pattern = name_pattern(path, prefix)
    found = []
    try:
        entries = list(history_dir.iterdir())
    except OSError:
        return []
    for p in entries:
        m = pattern.fullmatch(p.name)
        if m is None or p.is_symlink() or not p.is_file():
            continue
        try:
            found.append(Version(p.name, p, _stamp(m.group("stamp"))))
        except ValueError:
            continue
    found.sort(key=lambda v: v.kept_at, reverse=True)
    return found[:limit]


def with_authors(
    factory: sessionmaker[Session], versions: list[Version], file_name: str, actions: tuple[str, ...]
) -> list[Version]:
    """`versions` with who replaced each one: the first audit entry of `actions` about `file_name`
    (its detail starts with "<file_name>:") written within two minutes after the version was kept."""
    if not versions:
        return versions
    start = min(v.kept_at for v in versions) - dt.timedelta(seconds=2)
    end = max(v.kept_at for v in versions) + AUDIT_WINDOW
    with factory() as s:
        q = (
            select(AuditEntry)
            .where(AuditEntry.action.in_(actions), AuditEntry.at >= start, AuditEntry.at <= end)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        entries = [e for e in s.scalars(q) if e.detail.startswith(f"{file_name}:")]
    used: set[int] = set()
    out = []
    for v in sorted(versions, key=lambda v: v.kept_at):
        match = next(
            (
                e
                for e in entries
                if e.id not in used
                and v.kept_at - dt.timedelta(seconds=2) <= e.at <= v.kept_at + AUDIT_WINDOW
            ),
            None,
        )
        if match is not None:
            used.add(match.id)
            v = Version(v.name, v.path, v.kept_at, match.username, match.action)
        out.append(v)
    out.sort(key=lambda v: v.kept_at, reverse=True)
    return out
