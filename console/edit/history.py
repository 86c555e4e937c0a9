"""Earlier versions of files edited from the console: listing them, who replaced them, finding one safely.

Each save keeps the file as it was in a history directory (files.keep_history) under
`<prefix><stem>-<UTC time><suffix>`; a restore (path.EditPath.restoring) puts one of them back. Only names of
that exact pattern, directly inside the right history directory, are ever read: a form cannot name any
other file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from console.data import audit
from console.edit.files import STAMP_FORMAT

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

MAX_VERSIONS = 20  # shown on a page, newest first
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
    entries = audit.about_file(factory, actions, file_name, start, end)
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
