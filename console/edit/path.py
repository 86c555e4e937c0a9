"""The one path every operator edit of a file takes: validate -> write atomically -> keep history -> audit
-> reload.

An editor (intents, prompt texts) knows its file's format: under the edit lock it reads the file, refuses
what is not acceptable and describes the new file as a `Change` (the whole text, how to check it, what the
audit log says). `EditPath.apply` does the rest the same way for every editor: the text goes to a
temporary candidate next to the file, the editor's check must accept it, the file as it was is kept in
the history directory, the candidate replaces the file atomically; then the editor's views reload and the
operator's action is audited. Putting a kept version back is a Change too (`EditPath.restoring`, whose
value is the kept version).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from console.audit_actions import AuditAction
from console.edit.files import candidate, keep_history, replace
from console.edit.history import Version, digest, find_version, list_versions, with_authors

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from console.data.audit import Actor

T = TypeVar("T")


class RestoreRefused(Exception):
    """A kept version cannot be put back (nothing written); `kind`: no_version, conflict or check."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Change(Generic[T]):
    """What an editor asks to write, described from the file as it was read under the edit lock."""

    path: Path  # the edited file
    old: bytes  # its bytes as read: what the history keeps when the change is written
    text: str | None  # the whole new file, as written; None: it would be the same, nothing is written
    check: Callable[[Path], None]  # accepts the candidate file (a temporary copy) or raises to refuse it
    target: str  # the audit entry's target: "intent:cccd", "prompt:greeting", "prompts"
    note: str  # the audit entry's detail after "<file name>: "
    value: T  # what the editor reports back to its caller (the fields changed, the texts...)
    restore: bool = False  # a kept version put back (`restoring`): audited as a restore


@dataclass(frozen=True)
class Applied(Generic[T]):
    """A change after `EditPath.apply`."""

    change: Change[T]
    history: Path | None  # where the replaced file was kept; None: nothing was written

    @property
    def written(self) -> bool:
        return self.history is not None


class EditPath:
    """Edits of one kind of operator-edited file, all taking the same steps (see the module docstring).

    `edit_action` and `restore_action` are the audit actions written for an edit and a restore; the
    history listing (`versions`) reads them back to say who replaced each kept version.
    """

    def __init__(
        self,
        history_dir: Path,
        *,
        edit_action: AuditAction,
        restore_action: AuditAction,
        prefix: str = "",
        what: str = "tệp",
        lock: threading.Lock | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.history_dir = history_dir
        self.edit_action = edit_action
        self.restore_action = restore_action
        self.prefix = prefix  # before a kept version's name, e.g. "text-" (see history.name_pattern)
        self.what = what  # the file as operators call it, in refusals ("tệp lời nhắc")
        self.lock = lock or threading.Lock()  # read, check and replace as a unit
        self.on_change = on_change  # after a write: views that must load the file again

    @property
    def actions(self) -> tuple[str, str]:
        """The audit actions that mark a kept version's replacement."""
        return (self.edit_action, self.restore_action)

    def apply(self, propose: Callable[[], Change[T]], actor: Actor | None = None) -> Applied[T]:
        """Build the change with `propose` under the lock and write it; then reload and audit.

        Whatever `propose` or the change's check raise passes through, with nothing written. Without an
        `actor` (a command line, a test) nothing is audited.
        """
        with self.lock:
            change = propose()
            history = None if change.text is None else self._write(change, change.text)
        if history is not None:
            if self.on_change is not None:
                self.on_change()
            if actor is not None:
                action = self.restore_action if change.restore else self.edit_action
                actor.record(action, change.target, self._detail(change, history))
        return Applied(change, history)

    def _write(self, change: Change[T], text: str) -> Path:
        with candidate(change.path.parent, change.path.name, text) as tmp:
            change.check(tmp)
            history = keep_history(self.history_dir, change.path, change.old, self.prefix)
            replace(tmp, change.path)  # atomic: the hotline never reads half a file
        return history

    @staticmethod
    def _detail(change: Change[T], history: Path) -> str:
        """The audit detail, starting with "<file name>:" (how history.with_authors finds an edit's entry)."""
        if change.restore:
            return f"{change.path.name}: {change.note} (replaced file kept as {history.name})"
        return f"{change.path.name}: {change.note}"

    def restoring(
        self, path: Path, name: str, current: str, check: Callable[[Path], None], target: str
    ) -> Change[Path]:
        """The change putting the kept version `name` of `path` back; call it inside `apply`'s `propose`.

        Only a history name of `path` is accepted (history.find_version); refused when the file changed
        since `current` (its digest) was read; nothing to write when the version equals the file; the
        version is written as it is (BOM, line ends) and must pass `check` like an edit.
        """
        kept = find_version(self.history_dir, path, name, self.prefix)
        if kept is None:
            raise RestoreRefused("no_version", f"Không có bản cũ này của {self.what} (có thể đã bị xóa).")
        raw = path.read_bytes()
        if current and current != digest(raw):
            raise RestoreRefused(
                "conflict",
                f"Tệp {path.name} vừa được sửa ở nơi khác sau khi bạn mở trang. Hãy tải lại "
                "trang để xem bản mới nhất và lịch sử, rồi chọn lại bản muốn khôi phục.",
            )
        old = kept.read_bytes()
        text: str | None = None
        if old != raw:
            try:
                text = old.decode("utf-8")
            except UnicodeDecodeError:
                raise RestoreRefused(
                    "check", "Bản cũ này không đọc được (không phải chữ UTF-8); không có gì thay đổi."
                ) from None
        return Change(path, raw, text, check, target, kept.name, kept, restore=True)

    def versions(self, sessions: sessionmaker[Session], path: Path) -> list[Version]:
        """The kept versions of `path`, newest first, with who replaced each one."""
        versions = list_versions(self.history_dir, path, self.prefix)
        return with_authors(sessions, versions, path.name, self.actions)
