"""Editing one fixed prompt's text from the console: round-trip YAML edit, then the edit path (check,
history, atomic replace, audit).

The prompts file (settings.ivr.prompts_file) keeps its comments, key order, quoting and the other keys;
only the edited value changes. The running hotline notices the new file on the next play of a prompt
(ivr.prompts.Prompts.reload_texts) and renders that key again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import ScalarString

from console.audit_actions import AuditAction
from console.edit.path import Change, EditPath, RestoreRefused
from console.edit.yamlrt import dump, load, one_line, restore_encoding, style
from core.errors import ConfigError, HotlineError
from intents.catalog import speaking_seconds as estimate
from ivr.prompts import TONE_KEYS, load_prompt_texts

if TYPE_CHECKING:
    from console.data.audit import Actor
    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)

MAX_PROMPT_SPEECH_SECONDS = 30.0  # a fixed prompt is short: callers wait for it to end
MAX_PROMPT_CHARS = 1000  # far more than 30 s of speech; the speaking time is the real limit
HISTORY_DIR = ("console", "prompt-history")  # shared with replaced recordings (<key>-<time>.wav)
HISTORY_PREFIX = "text-"  # text-prompts-<time>.yaml: never mistaken for a recording's history

_save_lock = threading.Lock()  # one edit at a time in this process: read, check and replace as a unit


class PromptEditError(HotlineError):
    """The edit was refused; `messages` are for the operator (Vietnamese), `detail` the loader's lines."""

    code = "console.prompt_edit"

    def __init__(self, messages: list[str], detail: str = "", *, code: str = "") -> None:
        self.messages = messages
        self.detail = detail
        if code:
            self.code = code
        super().__init__("; ".join(messages) + (f" ({detail})" if detail else ""))


def text_version(text: str) -> str:
    """A short hash of a prompt's text: a save based on an older page is detected and refused."""
    return hashlib.sha256(one_line(text).encode("utf-8")).hexdigest()[:16]


def speaking_seconds(settings: IvrConfig, text: str) -> float:
    """How long the hotline takes to say `text` (the intent checker's estimate, same speech rate)."""

    return estimate(text, settings.intents.speech_rate)


def editable(key: str) -> bool:

    return key not in TONE_KEYS


def normalize(settings: IvrConfig, key: str, typed: str) -> str:
    """The text to write for what was typed: NFC, one line; PromptEditError lists every problem."""
    if not editable(key):
        raise PromptEditError(
            [f"Lời nhắc “{key}” là tiếng bíp, không sửa bằng chữ được; muốn thay thì tải lên bản ghi."],
            code="console.prompt_edit.tone",
        )
    messages = []
    if any(line.strip().startswith("#") for line in typed.splitlines()):
        messages.append(
            "Có một dòng bắt đầu bằng dấu “#” (trong tệp cấu hình, dấu này mở đầu một ghi chú); "
            "hãy bỏ dấu này."
        )
    text = one_line(typed)
    if not text:
        messages.append("Nội dung lời nhắc không được để trống.")
    elif len(text) > MAX_PROMPT_CHARS:
        messages.append(f"Lời nhắc dài quá {MAX_PROMPT_CHARS} ký tự. Hãy viết ngắn lại.")
    else:
        seconds = speaking_seconds(settings, text)
        if seconds > MAX_PROMPT_SPEECH_SECONDS:
            messages.append(
                f"Lời nhắc quá dài: đọc mất khoảng {seconds:.0f} giây, tối đa "
                f"{MAX_PROMPT_SPEECH_SECONDS:.0f} giây. Hãy viết ngắn lại."
            )
    if messages:
        raise PromptEditError(messages, code="console.prompt_edit.invalid")
    return text


@dataclass(frozen=True)
class PromptSaveResult:
    path: Path
    old_text: str
    new_text: str
    history: Path | None = None  # None: the text was the same, nothing written

    @property
    def changed(self) -> bool:
        return self.history is not None


@dataclass(frozen=True)
class PromptRestoreResult:
    path: Path
    restored: Path  # the kept version put back
    history: Path | None = None  # where the replaced file was kept; None: it was the same, nothing written


class PromptTextEditor:
    """Edits of prompt texts in the prompts file of `settings`."""

    def __init__(self, settings: IvrConfig) -> None:
        self.settings = settings
        self.path = settings.path(settings.ivr.prompts_file)
        self.history_dir = settings.data_dir.joinpath(*HISTORY_DIR)
        # No reload step: the running hotline stats the file before each play (ivr.prompts.Prompts).
        self.edits = EditPath(
            self.history_dir,
            edit_action=AuditAction.EDIT_PROMPT,
            restore_action=AuditAction.RESTORE_PROMPT,
            prefix=HISTORY_PREFIX,
            what="tệp lời nhắc",
            lock=_save_lock,
        )

    def save(self, key: str, typed: str, version: str, actor: Actor | None = None) -> PromptSaveResult:
        """Validate, rewrite `key` in place, check the whole file, keep the old file, replace atomically.

        Raises PromptEditError (nothing written) for a refused text, a page older than the file
        (`version` differs) or a resulting file that does not load.
        """
        text = normalize(self.settings, key, typed)

        def propose() -> Change[str]:
            raw = self.path.read_bytes()
            try:
                source, data = load(raw)
            except (UnicodeDecodeError, YAMLError) as exc:
                raise PromptEditError(
                    [f"Tệp {self.path.name} đang có lỗi nên chưa sửa được; cần sửa tệp trước."],
                    str(exc),
                    code="console.prompt_edit.file",
                ) from None
            prompts = data.get("prompts") if isinstance(data, CommentedMap) else None
            if not isinstance(prompts, CommentedMap) or key not in prompts:
                raise PromptEditError(
                    [f"Lời nhắc “{key}” không còn trong tệp {self.path.name}."],
                    code="console.prompt_edit.missing",
                )
            old = prompts[key]
            current = one_line("" if old is None else str(old))
            if version and version != text_version(current):
                raise PromptEditError(
                    [
                        "Lời nhắc này vừa được sửa ở nơi khác (trên trang này hoặc trực tiếp trong tệp) sau "
                        "khi bạn mở trang. Nội dung bạn gõ vẫn còn dưới đây; hãy tải lại trang để xem bản "
                        "mới nhất rồi sửa lại."
                    ],
                    code="console.prompt_edit.conflict",
                )
            new = None
            if text != current:
                # Same scalar style as before (double-quoted stays double-quoted); plain text is quoted by
                # the dumper when YAML needs it.
                prompts[key] = type(old)(text) if isinstance(old, ScalarString) else text
                new = restore_encoding(raw, dump(data, style(source, data)))
            return Change(
                self.path,
                raw,
                new,
                lambda tmp: self._check(tmp, key, text),
                f"prompt:{key}",
                f"“{current}” → “{text}”",
                current,
            )

        applied = self.edits.apply(propose, actor)
        if applied.written:
            logger.info("prompt %s text edited in %s", key, self.path)
        return PromptSaveResult(self.path, applied.change.value, text, applied.history)

    def restore(self, name: str, current: str, actor: Actor | None = None) -> PromptRestoreResult:
        """Put the kept version `name` of the prompts file back, loaded and kept like an edit.

        Only a `text-<stem>-<time><suffix>` file of the prompt history can be named. Raises PromptEditError
        (nothing written) for another name, a file changed since `current` (its digest) was read, or a
        version that does not load the way the hotline loads it.
        """

        def check(tmp: Path) -> None:
            try:
                load_prompt_texts(tmp)
            except ConfigError as exc:
                raise PromptEditError(
                    ["Bản cũ này không phải một tệp lời nhắc hợp lệ; không có gì thay đổi."],
                    str(exc),
                    code="console.prompt_edit.check",
                ) from None

        try:
            applied = self.edits.apply(
                lambda: self.edits.restoring(self.path, name, current, check, "prompts"), actor
            )
        except RestoreRefused as exc:
            raise PromptEditError([exc.message], code=f"console.prompt_edit.{exc.kind}") from None
        kept = applied.change.value
        if applied.written:
            logger.info("prompts file %s restored from %s", self.path, kept.name)
        return PromptRestoreResult(self.path, kept, applied.history)

    @staticmethod
    def _check(path: Path, key: str, text: str) -> None:
        """The candidate file loads the way the hotline loads it, with `text` for `key`."""

        try:
            loaded = load_prompt_texts(path)
        except ConfigError as exc:
            raise PromptEditError(
                ["Tệp lời nhắc sau khi sửa không hợp lệ; không có gì thay đổi."],
                str(exc),
                code="console.prompt_edit.check",
            ) from None
        if loaded.prompts.get(key) != text:
            raise PromptEditError(
                ["Tệp lời nhắc sau khi sửa không đọc lại đúng nội dung; không có gì thay đổi."],
                repr(loaded.prompts.get(key)),
                code="console.prompt_edit.check",
            )
