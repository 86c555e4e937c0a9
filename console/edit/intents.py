"""Editing one intent from the console: its fields rewritten in place in its file, checked with the whole
catalog, then written through the edit path (history, atomic replace, audit, catalog reload).

Nothing is written unless the whole resulting catalog passes the checks of `hotline intents check`.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from console.audit_actions import AuditAction
from console.data.catalog import CatalogState, check_catalog
from console.edit.files import candidate
from console.edit.intent_form import IntentDraft, IntentEditError
from console.edit.intent_new import NewIntent
from console.edit.intent_yaml import IntentSource, find_intent, render_edit
from console.edit.path import Change, EditPath, RestoreRefused

if TYPE_CHECKING:
    from console.data.audit import Actor
    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)

HISTORY_DIR = ("console", "intent-history")
DRAFTS_DIR = ("console", "intent-drafts")

_save_lock = threading.Lock()  # one edit at a time in this process: read, check and replace as a unit


@dataclass(frozen=True)
class SaveResult:
    path: Path
    changes: list[str]  # empty: nothing differed, nothing written
    history: Path | None = None


@dataclass(frozen=True)
class RestoreResult:
    path: Path
    restored: Path  # the kept version put back
    history: Path | None = None  # where the replaced file was kept; None: it was the same, nothing written


@dataclass(frozen=True)
class TryResult:
    state: CatalogState  # the catalog the sentence was matched against
    draft_used: bool  # True: the unsaved draft's catalog; False: the saved one
    problems: list[str]


class IntentEditor:
    """Edits of intents in the catalog directory of `settings`.

    `on_change` runs after a file was written (the console's catalog view loads it again at once).
    """

    def __init__(self, settings: IvrConfig, *, on_change: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.directory = settings.path(settings.intents.catalog_dir)
        self.dialect_path = settings.path(settings.intents.dialect_table)
        self.history_dir = settings.data_dir.joinpath(*HISTORY_DIR)
        self.drafts_dir = settings.data_dir.joinpath(*DRAFTS_DIR)
        self.edits = EditPath(
            self.history_dir,
            edit_action=AuditAction.EDIT_INTENT,
            restore_action=AuditAction.RESTORE_INTENT,
            lock=_save_lock,
            on_change=on_change,
        )

    def find(self, intent_id: str) -> IntentSource | None:
        return find_intent(self.directory, intent_id)

    def _source(self, intent_id: str) -> IntentSource:
        source = self.find(intent_id)
        if source is None:
            raise IntentEditError(
                ["Chủ đề này không còn trong danh mục (có thể vừa bị xóa hoặc đổi mã)."],
                code="console.intent_edit.missing",
            )
        return source

    def check(self, path: Path, text: str, where: Path) -> CatalogState:
        """The whole catalog with `text` (written to a temporary file in `where`) standing for `path`."""
        with candidate(where, path.name, text) as tmp:
            return check_catalog(self.settings, self.directory, self.dialect_path, {path: tmp})

    def _checker(self, path: Path) -> Callable[[Path], None]:
        """The check of a candidate for `path`: the whole catalog with it in place, no problem allowed."""

        def check(tmp: Path) -> None:
            state = check_catalog(self.settings, self.directory, self.dialect_path, {path: tmp})
            if state.problems:
                raise IntentEditError([], list(state.problems), code="console.intent_edit.check")

        return check

    def save(
        self, intent_id: str, draft: IntentDraft, version: str, actor: Actor | None = None
    ) -> SaveResult:
        """Check the catalog with the edited file, keep the old file in the history, replace atomically.

        Raises IntentEditError (nothing written) when the intent changed since `version` was read or when
        the resulting catalog has problems.
        """

        def propose() -> Change[list[str]]:
            source = self._source(intent_id)
            if version and version != source.draft.version():
                raise IntentEditError(
                    [
                        "Chủ đề này vừa được sửa ở nơi khác (trên trang này hoặc trực tiếp trong tệp) "
                        "sau khi bạn mở trang. Nội dung bạn gõ vẫn còn dưới đây; hãy mở lại trang trong "
                        "thẻ mới để xem bản mới nhất rồi sửa lại."
                    ],
                    code="console.intent_edit.conflict",
                )
            changes = draft.changes(source.draft)
            old, new = b"", None
            if changes:
                old, new = render_edit(source.path, source.index, intent_id, draft)
            check = self._checker(source.path)
            return Change(source.path, old, new, check, f"intent:{intent_id}", ", ".join(changes), changes)

        applied = self.edits.apply(propose, actor)
        change = applied.change
        if applied.written:
            logger.info("intent %s edited in %s: %s", intent_id, change.path, change.note)
        return SaveResult(change.path, change.value, applied.history)

    def restore(self, intent_id: str, name: str, current: str, actor: Actor | None = None) -> RestoreResult:
        """Put the kept version `name` of the intent's file back, checked and kept like an edit.

        Only a history file of that very file can be named. Raises IntentEditError (nothing written) for
        another name, a file changed since `current` (its digest) was read, or a catalog with problems.
        """

        def propose() -> Change[Path]:
            source = self._source(intent_id)
            return self.edits.restoring(
                source.path, name, current, self._checker(source.path), f"intent:{intent_id}"
            )

        try:
            applied = self.edits.apply(propose, actor)
        except RestoreRefused as exc:
            raise IntentEditError([exc.message], code=f"console.intent_edit.{exc.kind}") from None
        change = applied.change
        if applied.written:
            logger.info("intent file %s restored from %s", change.path, change.value.name)
        return RestoreResult(change.path, change.value, applied.history)

    def try_draft(self, intent_id: str, draft: IntentDraft, saved: CatalogState) -> TryResult:
        """The catalog to match a test sentence against: the draft's when it differs and passes the check,
        else the saved one (with the draft's problems)."""
        source = self._source(intent_id)
        if not draft.changes(source.draft):
            return TryResult(saved, False, [])
        _old, new = render_edit(source.path, source.index, intent_id, draft)
        state = self.check(source.path, new, self.drafts_dir)
        if state.problems:
            return TryResult(saved, False, list(state.problems))
        return TryResult(state, True, [])

    def add_example(self, intent_id: str, example: str, actor: Actor | None = None) -> SaveResult:
        """Teach a phrasing (the review queue's one click): the intent's examples plus `example`, saved
        like any edit of the intent (whole-catalog check, history, audit, reload)."""
        source = self._source(intent_id)
        draft = source.draft
        if example in draft.examples:
            return SaveResult(source.path, [])
        new = IntentDraft(
            draft.title, draft.answer, draft.follow_up, (*draft.examples, example), draft.keywords
        )
        return self.save(intent_id, new, draft.version(), actor)

    def create(self, new: NewIntent, actor: Actor | None = None) -> SaveResult:
        """Add an intent as its own file, checked with the whole catalog, kept and audited like an edit.

        Raises IntentEditError (nothing written) when the id exists or the catalog with it has problems.
        """
        path = self.directory / new.file_name

        def propose() -> Change[list[str]]:
            if self.find(new.id) is not None or path.exists():
                raise IntentEditError(
                    [f"Mã chủ đề “{new.id}” đã có trong danh mục; hãy chọn mã khác."],
                    code="console.intent_new.exists",
                )
            return Change(
                path, b"", new.yaml(), self._new_file_checker(path), f"intent:{new.id}", "new intent", ["new"]
            )

        applied = self.edits.apply(propose, actor)
        if applied.written:
            logger.info("intent %s created in %s", new.id, path)
        return SaveResult(path, applied.change.value, applied.history)

    def _new_file_checker(self, path: Path) -> Callable[[Path], None]:
        """The check of a file the catalog does not have yet: the catalog copied with it, then checked."""

        def check(tmp: Path) -> None:
            self.drafts_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=self.drafts_dir) as work:
                copy = Path(work) / "catalog"
                shutil.copytree(self.directory, copy, ignore=shutil.ignore_patterns(".*"))
                shutil.copyfile(tmp, copy / path.name)
                state = check_catalog(self.settings, copy, self.dialect_path)
            if state.problems:
                problems = [p.replace(str(copy), str(self.directory)) for p in state.problems]
                raise IntentEditError([], problems, code="console.intent_edit.check")

        return check
