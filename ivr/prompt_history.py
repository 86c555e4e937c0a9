"""Prompt recordings replaced by phone: the previous file kept, every change audited, any kept one restorable.

A recording made on extension 1089 replaces what every caller hears. So before it is renamed over
`<prompts_dir>/<key>.wav` the recording in place is copied into the prompt history (the directory the
console keeps replaced uploads in, with the same `<key>-<UTC time>.wav` names), and the change is
written to the audit log; when the entry cannot be written, the previous recording is put back: no
change by phone goes unaudited. `hotline prompts history|restore` lists and puts back kept versions of any
recordable piece (fixed prompts, the catalog's sentences, template fragments, word bank units). A studio
take's note (`ivr.take_notes`) is kept and restored with its recording, so a restored topic answer is
played again (while the text it was read from is in force).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import HotlineError
from core.tempname import temp_beside
from ivr.audit import RECORD_PROMPT_BY_PHONE, RESTORE_PROMPT_RECORDING, CallAuditAction
from ivr.take_notes import keep_note, note_path, restore_note
from voice.audio import AudioChunk, write_wav

if TYPE_CHECKING:
    from ivr.audit import AuditSink
    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)

HISTORY_DIR = ("console", "prompt-history")  # under paths.data_dir; shared with the console's uploads
STAMP_FORMAT = "%Y%m%dT%H%M%S%f"  # UTC; the console reads the same names (console.edit.history)


class PromptHistoryError(HotlineError):
    code = "ivr.prompt_history"


@dataclass(frozen=True)
class Version:
    """A kept recording: what `key` sounded like until it was replaced at `kept_at` (naive UTC)."""

    name: str
    path: Path
    kept_at: dt.datetime


@dataclass(frozen=True)
class Change:
    path: Path  # <prompts_dir>/<key>.wav (absent after going back to the synthesized voice)
    previous: Path | None  # where the replaced recording was kept; None: there was none
    note: bool = False  # a restore brought back the studio's note of the take (the text it was read from)


class PromptHistory:
    """Replacing and restoring human prompt recordings, with history and audit."""

    def __init__(self, recordings_dir: Path, history_dir: Path, audit: AuditSink | None) -> None:
        self.recordings_dir = recordings_dir
        self.history_dir = history_dir
        self.audit = audit

    @classmethod
    def from_settings(cls, settings: IvrConfig, audit: AuditSink | None) -> PromptHistory:
        return cls(settings.path(settings.ivr.prompts_dir), settings.data_dir.joinpath(*HISTORY_DIR), audit)

    # --- reading --------------------------------------------------------------------------------

    def _pattern(self, key: str) -> re.Pattern[str]:
        return re.compile(rf"{re.escape(key)}-(?P<stamp>\d{{8}}T\d{{12}})\.wav")

    def versions(self, key: str) -> list[Version]:
        """The kept recordings of `key`, newest first (only names of the exact pattern, plain files)."""
        _check_key(key)
        pattern, found = self._pattern(key), []
        try:
            entries = list(self.history_dir.iterdir())
        except OSError:
            return []
        for p in entries:
            m = pattern.fullmatch(p.name)
            if m is None or p.is_symlink() or not p.is_file():
                continue
            try:
                found.append(Version(p.name, p, dt.datetime.strptime(m.group("stamp"), STAMP_FORMAT)))
            except ValueError:
                continue
        return sorted(found, key=lambda v: v.kept_at, reverse=True)

    # --- changing -------------------------------------------------------------------------------

    def install(self, key: str, chunk: AudioChunk, *, by: str) -> Change:
        """Make `chunk` the recording of `key` (recorded by phone on seat `by`)."""
        detail = f"{chunk.duration_s:.1f} s recorded by phone on {by}"
        return self._change(key, by, RECORD_PROMPT_BY_PHONE, detail, lambda target: write_wav(target, chunk))

    def restore(self, key: str, name: str | None = None, *, by: str) -> Change:
        """Put the kept recording `name` of `key` back (None: the newest); the one replaced is kept too."""
        versions = self.versions(key)
        chosen = next((v for v in versions if name in (None, v.name)), None)
        if chosen is None:
            what = f"no kept recording {name!r}" if name else "no kept recording"
            raise PromptHistoryError(f"prompt {key}: {what} in {self.history_dir}")
        return self._change(
            key,
            by,
            RESTORE_PROMPT_RECORDING,
            f"restored {chosen.name}",
            lambda t: _copy_into(chosen.path, t),
            chosen.path,
        )

    def remove(self, key: str, *, by: str) -> Change:
        """Go back to the synthesized voice for `key`; the recording is kept in the history."""
        _check_key(key)
        if not (self.recordings_dir / f"{key}.wav").is_file():
            raise PromptHistoryError(f"prompt {key} has no recording: it is synthesized already")
        return self._change(key, by, RESTORE_PROMPT_RECORDING, "back to the synthesized voice", _unlink)

    def _change(
        self,
        key: str,
        by: str,
        action: CallAuditAction,
        detail: str,
        write: Callable[[Path], object],
        restoring: Path | None = None,
    ) -> Change:
        """Replace the recording of `key`; `restoring`: the kept version it comes from (its note too)."""
        _check_key(key)
        if self.audit is None:
            raise PromptHistoryError("no audit log: prompt recordings are not changed without one")
        target = self.recordings_dir / f"{key}.wav"
        note = note_path(self.recordings_dir, key)
        old_note = note.read_bytes() if note.is_file() else None
        previous = self._keep(key, target)
        kept_note = keep_note(self.recordings_dir, key, previous) if previous is not None else None
        write(target)
        # The note in place describes the replaced audio: it leaves with it; a restore brings its own back.
        came_back = restore_note(self.recordings_dir, key, restoring) if restoring else False
        if restoring is None:
            note.unlink(missing_ok=True)
        kept = f"; previous kept as {previous.name}" if previous else ""
        try:
            self.audit.record(by, action, f"prompt:{key}", f"{detail}{kept}")
        except Exception:
            logger.error("prompt %s: the change could not be audited: the previous recording is back", key)
            _undo(previous, target)
            if kept_note is not None:
                kept_note.unlink(missing_ok=True)
            if old_note is not None:
                note.write_bytes(old_note)
            else:
                note.unlink(missing_ok=True)
            raise
        logger.info("prompt %s: %s by %s%s", key, detail, by, kept)
        return Change(target, previous, came_back)

    def _keep(self, key: str, target: Path) -> Path | None:
        """Copy the recording in place (if any) into the history under a name no other version has."""
        if not target.is_file():
            return None
        self.history_dir.mkdir(parents=True, exist_ok=True)
        at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        for _ in range(1000):  # two changes within the same microsecond: the next free one
            kept = self.history_dir / f"{key}-{at.strftime(STAMP_FORMAT)}.wav"
            try:
                with open(target, "rb") as src, open(kept, "xb") as dst:
                    shutil.copyfileobj(src, dst)
                    dst.flush()
                    os.fsync(dst.fileno())
                return kept
            except FileExistsError:
                at += dt.timedelta(microseconds=1)
        raise PromptHistoryError(f"prompt {key}: no free name in {self.history_dir}")


_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")  # every recordable's key (prompts, catalog, templates, bank)


def _check_key(key: str) -> None:
    if not _KEY.fullmatch(key):
        raise PromptHistoryError(f"not a recording's key: {key!r} (e.g. greeting, tl_cccd)")


def _copy_into(source: Path, target: Path) -> None:
    """Copy `source` over `target` atomically, with a fresh modification time (the hotline re-renders)."""
    tmp = temp_beside(target)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _unlink(target: Path) -> None:
    target.unlink(missing_ok=True)


def _undo(previous: Path | None, target: Path) -> None:
    """The change is not kept: what was in place comes back (and leaves the history it never left)."""
    if previous is None:
        target.unlink(missing_ok=True)
    else:
        os.replace(previous, target)
