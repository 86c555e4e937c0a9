"""Editing one intent from the console: round-trip YAML edit, whole-catalog check, atomic replace, history.

The edited file keeps everything it had (comments, key order, quoting, the other intents); only the
fields that changed are rewritten. Nothing is written unless the whole resulting catalog passes the checks
of `hotline intents check`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString
from ruamel.yaml.tokens import CommentToken

from console.catalog_view import CatalogState, check_catalog
from console.history import RestoreRefused, restore_version
from console.yaml_write import candidate as _candidate
from console.yaml_write import dump as _dump
from console.yaml_write import keep_history, replace, restore_encoding
from console.yaml_write import load as _load
from console.yaml_write import nfc as _nfc
from console.yaml_write import one_line as _one_line
from console.yaml_write import style as _style
from core.errors import HotlineError

if TYPE_CHECKING:
    from intents.catalog import Catalog
    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)

LINE_WIDTH = 110  # longest line written for a long answer (the files' own style)
FIELDS = ("title", "answer", "follow_up", "examples", "keywords")
HISTORY_DIR = ("console", "intent-history")
DRAFTS_DIR = ("console", "intent-drafts")

_save_lock = threading.Lock()  # one edit at a time in this process: read, check and replace as a unit


class IntentEditError(HotlineError):
    """The edit was refused; `messages` are for the operator (Vietnamese), `problems` the checker's lines."""

    code = "console.intent_edit"

    def __init__(self, messages: list[str], problems: list[str] | None = None, *, code: str = "") -> None:
        self.messages = messages
        self.problems = problems or []
        if code:
            self.code = code
        super().__init__("; ".join(self.problems or messages))


# --- what the form holds ---------------------------------------------------------------------------
def format_weight(weight: float) -> str:
    """0.9 -> "0,9", 1.0 -> "1": how weights are shown in the form (Vietnamese decimal comma)."""
    return f"{weight:.2f}".rstrip("0").rstrip(".").replace(".", ",")


@dataclass(frozen=True)
class IntentDraft:
    """The editable fields of one intent, normalized (NFC, single spaces)."""

    title: str
    answer: str
    follow_up: str
    examples: tuple[str, ...]
    keywords: tuple[tuple[str, float], ...] = ()

    @property
    def examples_text(self) -> str:
        return "\n".join(self.examples)

    def version(self) -> str:
        """A short hash of the values: a save based on an older page is detected and refused."""
        raw = json.dumps([self.title, self.answer, self.follow_up, self.examples, self.keywords])
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]

    def changes(self, old: IntentDraft) -> list[str]:
        """What differs from `old`, for the audit log: "answer", "examples +2 -1", ..."""
        out = []
        for name in FIELDS:
            new_v, old_v = getattr(self, name), getattr(old, name)
            if new_v == old_v:
                continue
            if name in ("examples", "keywords"):
                added = len(set(new_v) - set(old_v))
                removed = len(set(old_v) - set(new_v))
                out.append(f"{name} +{added} -{removed}")
            else:
                out.append(name)
        return out


@dataclass
class FormInput:
    """The raw form fields, kept as typed so a refused edit can be shown again."""

    title: str = ""
    answer: str = ""
    follow_up: str = ""
    examples: str = ""
    kw_words: list[str] = field(default_factory=list)
    kw_weights: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, draft: IntentDraft) -> FormInput:
        return cls(
            draft.title,
            draft.answer,
            draft.follow_up,
            draft.examples_text,
            [k for k, _ in draft.keywords],
            [format_weight(w) for _, w in draft.keywords],
        )

    def keyword_rows(self, blank: int = 3) -> list[tuple[str, str]]:
        rows = list(zip(self.kw_words, self.kw_weights + [""] * len(self.kw_words), strict=False))
        rows = [(w, v) for w, v in rows if w.strip() or v.strip()]
        return rows + [("", "")] * blank

    def draft(self) -> IntentDraft:
        """Normalize what was typed; IntentEditError for what is not even a value (a weight "abc")."""
        examples: list[str] = []
        for line in _nfc(self.examples).splitlines():
            ex = _one_line(line)
            if ex and ex not in examples:  # the same line twice is kept once
                examples.append(ex)
        keywords: dict[str, float] = {}
        errors = []
        for i, word in enumerate(self.kw_words):
            word = _one_line(word)
            raw = (self.kw_weights[i] if i < len(self.kw_weights) else "").strip()
            if not word:
                continue
            if not raw:
                errors.append(f"Chưa nhập trọng số cho từ khóa “{word}” (một số từ 0,1 đến 1).")
                continue
            try:
                weight = float(raw.replace(",", "."))
            except ValueError:
                errors.append(f"Trọng số của từ khóa “{word}” phải là một số, ví dụ 0,5 (đã nhập “{raw}”).")
                continue
            if word in keywords:
                errors.append(f"Từ khóa “{word}” được nhập hai lần; mỗi từ khóa chỉ ghi một lần.")
                continue
            keywords[word] = round(weight, 3)
        if errors:
            raise IntentEditError(errors, code="console.intent_edit.form")
        return IntentDraft(
            title=_one_line(self.title),
            answer=_one_line(self.answer),
            follow_up=_one_line(self.follow_up),
            examples=tuple(examples),
            keywords=tuple(keywords.items()),
        )


# --- finding and rewriting the intent in its file -------------------------------------------------
@dataclass(frozen=True)
class IntentSource:
    """Where an intent is written: its file, its position in the file's `intents:` list, its values."""

    intent_id: str
    path: Path
    index: int
    line: int  # 1-based line of its `id:` key
    draft: IntentDraft
    action: str | None
    digit: str | None


def _value(node: Any) -> str:
    return "" if node is None else str(node)


def _draft_of(item: CommentedMap) -> IntentDraft:
    examples = item.get("examples") or []
    keywords = item.get("keywords") or {}
    return IntentDraft(
        title=_one_line(_value(item.get("title"))),
        answer=_one_line(_value(item.get("answer"))),
        follow_up=_one_line(_value(item.get("follow_up"))),
        examples=tuple(_one_line(_value(e)) for e in examples if isinstance(examples, list)),
        keywords=tuple(
            (_one_line(str(k)), float(v))
            for k, v in (keywords.items() if isinstance(keywords, dict) else ())
            if isinstance(v, (int, float))
        ),
    )


def _intents_of(data: Any) -> list[Any]:
    if isinstance(data, CommentedMap) and isinstance(data.get("intents"), CommentedSeq):
        return data["intents"]
    return []


def find_intent(directory: Path, intent_id: str) -> IntentSource | None:
    """The first catalog file that defines `intent_id` (the one the catalog keeps), read from disk."""
    from intents.catalog import catalog_files

    for path in catalog_files(directory):
        try:
            _text, data = _load(path.read_bytes())
        except (OSError, UnicodeDecodeError, YAMLError):
            continue  # a broken file is reported by the check, not here
        for i, item in enumerate(_intents_of(data)):
            if isinstance(item, CommentedMap) and str(item.get("id")) == intent_id:
                line = item.lc.line + 1 if getattr(item, "lc", None) is not None else 0
                action, digit = item.get("action"), item.get("digit")
                return IntentSource(
                    intent_id,
                    path,
                    i,
                    line,
                    _draft_of(item),
                    str(action) if action is not None else None,
                    str(digit) if digit is not None else None,
                )
    return None


def draft_in(raw: bytes, intent_id: str) -> IntentDraft | None:
    """The fields of `intent_id` in a file's bytes (a kept version), None when it is not there."""
    try:
        _text, data = _load(raw)
    except (UnicodeDecodeError, YAMLError):
        return None
    for item in _intents_of(data):
        if isinstance(item, CommentedMap) and str(item.get("id")) == intent_id:
            return _draft_of(item)
    return None


def _last_slot(node: Any) -> tuple[Any, Any, int] | None:
    """(container, key, comment slot) of the deepest last entry of `node`: where ruamel keeps the
    comments and blank lines that follow a block (for example those before the next intent)."""
    while True:
        if isinstance(node, CommentedMap) and len(node):
            key, pos = list(node.keys())[-1], 2
        elif isinstance(node, CommentedSeq) and len(node):
            key, pos = len(node) - 1, 0
        else:
            return None
        value = node[key]
        if isinstance(value, (CommentedMap, CommentedSeq)) and len(value):
            node = value
            continue
        return node, key, pos


def _entry_slot(container: Any, key: Any) -> tuple[Any, Any, int] | None:
    """The slot holding the lines after entry `key` (inside its value when that is a collection)."""
    value = container[key]
    if isinstance(value, (CommentedMap, CommentedSeq)) and len(value):
        return _last_slot(value)
    return container, key, 2 if isinstance(container, CommentedMap) else 0


def _take_tail(slot: tuple[Any, Any, int] | None) -> str:
    """Remove and return the whole lines after a slot's own end-of-line comment."""
    if slot is None:
        return ""
    container, key, pos = slot
    entry = container.ca.items.get(key)
    token = entry[pos] if entry and len(entry) > pos else None
    if not isinstance(token, CommentToken):
        return ""
    head, _, tail = token.value.partition("\n")
    if not tail:
        return ""
    entry[pos] = CommentToken(head + "\n", CommentMark(token.column)) if head.strip() else None
    return tail


def _put_tail(slot: tuple[Any, Any, int] | None, tail: str) -> None:
    if not tail:
        return
    if slot is None:
        logger.warning("comment lines of an edited intent could not be placed: %r", tail[:80])
        return
    container, key, pos = slot
    entry = container.ca.items.setdefault(key, [None, None, None, None])
    token = entry[pos]
    if isinstance(token, CommentToken):
        value = token.value if token.value.endswith("\n") else token.value + "\n"
        entry[pos] = CommentToken(value + tail, CommentMark(token.column))
    else:
        entry[pos] = CommentToken("\n" + tail, CommentMark(0))


def _remove(container: Any, key: Any) -> None:
    """Delete an entry; the comment lines that followed it stay, after the entry before it."""
    tail = _take_tail(_entry_slot(container, key))
    keys = list(container.keys()) if isinstance(container, CommentedMap) else list(range(len(container)))
    i = keys.index(key)
    del container[key]
    if i > 0:
        _put_tail(_entry_slot(container, keys[i - 1]), tail)
    elif tail:
        logger.warning("comment lines after a removed first entry were dropped: %r", tail[:80])


def _scalar(old: Any, text: str, indent: int) -> Any:
    """A value for `text`: plain when it was plain and fits on the key's line, else folded (">-") and
    wrapped at spaces so that no line passes LINE_WIDTH."""
    block = isinstance(old, (FoldedScalarString, LiteralScalarString))
    if not block and indent + len(text) <= LINE_WIDTH - 12:
        return text
    folded = FoldedScalarString(text)
    width = max(40, LINE_WIDTH - indent - 2)
    positions, start = [], 0
    while len(text) - start > width:
        cut = text.rfind(" ", start + 1, start + width + 1)
        if cut <= start:
            cut = text.find(" ", start + width)
            if cut < 0:
                break
        positions.append(cut)
        start = cut + 1
    folded.fold_pos = positions
    return folded


def _set_text(item: CommentedMap, key: str, text: str, *, after: str, indent: int, optional: bool) -> None:
    old = item.get(key)
    if old is not None and _one_line(_value(old)) == text:
        return  # unchanged: leave the file's own layout alone
    if old is None and not text and optional:
        return
    if not text and optional:
        _remove(item, key)
        return
    value = _scalar(old, text, indent)
    if key in item:
        item[key] = value
    else:
        keys = list(item.keys())
        pos = keys.index(after) + 1 if after in keys else len(keys)
        item.insert(pos, key, value)


def _set_examples(item: CommentedMap, examples: tuple[str, ...]) -> None:
    seq = item.get("examples")
    if not isinstance(seq, CommentedSeq):
        item["examples"] = CommentedSeq(examples)
        return
    old = [_one_line(_value(e)) for e in seq]
    if old == list(examples):
        return
    ops = difflib.SequenceMatcher(a=old, b=list(examples), autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in reversed(ops):  # from the end: earlier indexes stay valid
        if tag == "equal":
            continue
        for i in range(i2 - 1, i1 - 1, -1):
            if len(seq) > 1:
                _remove(seq, i)
            else:
                del seq[i]
        for offset, ex in enumerate(examples[j1:j2]):
            seq.insert(i1 + offset, ex)


def _set_keywords(item: CommentedMap, keywords: tuple[tuple[str, float], ...]) -> None:
    wanted = dict(keywords)
    current = item.get("keywords")
    if not isinstance(current, CommentedMap):
        if wanted:
            item["keywords"] = CommentedMap(wanted)
        elif "keywords" in item:
            _remove(item, "keywords")
        return
    old = {_one_line(str(k)): k for k in current}
    if not wanted:
        _remove(item, "keywords")
        return
    for word, key in old.items():
        if word not in wanted:
            if len(current) > 1:
                _remove(current, key)
            else:
                del current[key]
    for word, weight in wanted.items():
        key = old.get(word, word)
        if key in current and float(current[key]) == weight:
            continue
        current[key] = weight


def render_edit(path: Path, index: int, intent_id: str, draft: IntentDraft) -> tuple[bytes, str]:
    """(old bytes, new text) of `path` with the intent at `index` given `draft`'s values."""
    raw = path.read_bytes()
    text, data = _load(raw)
    style = _style(text, data)
    items = _intents_of(data)
    if index >= len(items) or str(items[index].get("id")) != intent_id:
        raise IntentEditError(
            ["Chủ đề đã được chuyển hoặc xóa khỏi tệp sau khi trang được mở. Hãy mở lại trang."],
            code="console.intent_edit.moved",
        )
    item = items[index]
    indent = style[1] + style[0]  # a key inside a list item of `intents:`
    tail = _take_tail(_last_slot(item))  # put back after the edit, wherever the intent now ends
    answer_after = "menu_label" if "menu_label" in item else "title"
    _set_text(item, "title", draft.title, after="id", indent=indent, optional=False)
    _set_text(item, "answer", draft.answer, after=answer_after, indent=indent, optional=False)
    _set_text(item, "follow_up", draft.follow_up, after="answer", indent=indent, optional=True)
    _set_examples(item, draft.examples)
    _set_keywords(item, draft.keywords)
    _put_tail(_last_slot(item), tail)
    return raw, restore_encoding(raw, _dump(data, style))


# --- checking and saving --------------------------------------------------------------------------
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
    """Edits of intents in the catalog directory of `settings`."""

    def __init__(self, settings: IvrConfig) -> None:
        self.settings = settings
        self.directory = settings.path(settings.intents.catalog_dir)
        self.dialect_path = settings.path(settings.intents.dialect_table)
        self.history_dir = settings.data_dir.joinpath(*HISTORY_DIR)
        self.drafts_dir = settings.data_dir.joinpath(*DRAFTS_DIR)

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
        with _candidate(where, path.name, text) as tmp:
            return check_catalog(self.settings, self.directory, self.dialect_path, {path: tmp})

    def save(self, intent_id: str, draft: IntentDraft, version: str) -> SaveResult:
        """Check the catalog with the edited file, keep the old file in the history, replace atomically.

        Raises IntentEditError (nothing written) when the intent changed since `version` was read or when
        the resulting catalog has problems.
        """
        with _save_lock:
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
            if not changes:
                return SaveResult(source.path, [])
            old, new = render_edit(source.path, source.index, intent_id, draft)
            with _candidate(source.path.parent, source.path.name, new) as tmp:
                state = check_catalog(self.settings, self.directory, self.dialect_path, {source.path: tmp})
                if state.problems:
                    raise IntentEditError([], list(state.problems), code="console.intent_edit.check")
                history = keep_history(self.history_dir, source.path, old)
                replace(tmp, source.path)  # atomic: the hotline never reads half a file
        logger.info("intent %s edited in %s: %s", intent_id, source.path, ", ".join(changes))
        return SaveResult(source.path, changes, history)

    def restore(self, intent_id: str, name: str, current: str) -> RestoreResult:
        """Put the kept version `name` of the intent's file back, checked and kept like an edit.

        Only a history file of that very file can be named. Raises IntentEditError (nothing written) for
        another name, a file changed since `current` (its digest) was read, or a catalog with problems.
        """
        with _save_lock:
            source = self._source(intent_id)

            def check(tmp: Path) -> None:
                state = check_catalog(self.settings, self.directory, self.dialect_path, {source.path: tmp})
                if state.problems:
                    raise IntentEditError([], list(state.problems), code="console.intent_edit.check")

            try:
                kept, history = restore_version(self.history_dir, source.path, name, current, check)
            except RestoreRefused as exc:
                raise IntentEditError([exc.message], code=f"console.intent_edit.{exc.kind}") from None
        if history is None:
            return RestoreResult(source.path, kept)
        logger.info("intent file %s restored from %s", source.path, kept.name)
        return RestoreResult(source.path, kept, history)

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


# --- the checker's lines in the operator's words ----------------------------------------------------
_FIELD_VI = {
    "title": "Tên chủ đề",
    "answer": "Câu trả lời",
    "follow_up": "Câu hỏi tiếp",
    "examples": "Câu mẫu",
    "keywords": "Từ khóa",
}
_PROBLEM = re.compile(r"^(?P<where>.*?):(?P<line>\d+)?:? ?(?P<key>[\w.\[\]]+): (?P<msg>.*)$")


def _ex_number(key: str) -> int | None:
    m = re.search(r"examples\[(\d+)\]", key)
    return int(m.group(1)) + 1 if m else None


def _fold(text: str) -> str:
    """How the checker compares examples (intents.catalog): normalized, tones folded away."""
    from voice.text import fold_tones, normalize_for_matching

    return fold_tones(normalize_for_matching(text))


def _owner(example: str, catalog: Catalog | None, edited: str) -> str | None:
    """The intent other than `edited` that has an example equal to `example` without tones."""
    if catalog is None:
        return None
    key = _fold(example)
    for intent in catalog.intents:
        if intent.id != edited and any(_fold(e) == key for e in intent.examples):
            return intent.id
    return None


def problem_vi(
    problem: str, catalog: Catalog | None = None, edited: str = "", typed: tuple[str, ...] = ()
) -> str:
    """One line of `hotline intents check` in plain Vietnamese (the original stays visible as detail).

    `catalog` (the saved one) names intents; `edited` is the intent being edited and `typed` its examples:
    the checker reports a collision on whichever example comes second in the catalog, the message names
    the operator's own line and the other intent either way.
    """
    m = _PROBLEM.match(problem)
    if not m:
        return f"Danh mục chưa hợp lệ: {problem}"
    key, msg = m.group("key"), m.group("msg")
    field_name = next((f for f in FIELDS if re.search(rf"(^|\.|\]){f}\b", key)), "")
    label = _FIELD_VI.get(field_name, "")
    if mm := re.search(r"about (\d+) s to say at ([\d.]+) syllables/s, limit ([\d.]+) s", msg):
        return (
            f"Câu trả lời quá dài: đọc mất khoảng {mm.group(1)} giây, tối đa {mm.group(3)} giây. "
            "Hãy viết ngắn lại."
        )
    if "longer than 10 s" in msg:
        return "Câu hỏi tiếp quá dài (đọc mất hơn 10 giây). Hãy viết ngắn lại."
    if mm := re.search(r"'(?P<ex>.*)' collides with an example of intent '(?P<other>[\w]+)'", msg):
        ex, other = mm.group("ex"), mm.group("other")
        if other == edited:
            other = _owner(ex, catalog, edited) or ""
            key = _fold(ex)
            ex = next((e for e in typed if _fold(e) == key), ex)
        owner = "khác"
        if other:
            owner = other
            if catalog is not None and other in catalog:
                owner = f"{other} ({catalog.get(other).title})"
        return (
            f"Câu mẫu “{ex}” trùng (không kể dấu thanh) với một câu mẫu của chủ đề {owner}. "
            "Mỗi câu mẫu chỉ được thuộc một chủ đề; hãy bỏ hoặc viết khác câu này."
        )
    if "no words left" in msg:
        n = _ex_number(key)
        return f"Câu mẫu thứ {n} không còn chữ nào sau khi chuẩn hóa (chỉ có dấu câu hoặc từ đệm)."
    if "starts with '#'" in msg:
        return f"{label or 'Nội dung'} có một dòng bắt đầu bằng dấu “#”; hãy bỏ dấu này."
    if mm := re.search(r"should have at least (\d+) (characters|items)", msg):
        need = mm.group(1)
        if field_name == "examples":
            got = re.search(r"not (\d+)", msg)
            have = f" (hiện có {got.group(1)})" if got else ""
            return f"Cần ít nhất {need} câu mẫu{have}, mỗi câu một dòng."
        if field_name in ("title", "answer"):
            return f"{label} không được để trống (ít nhất {need} ký tự)."
    if mm := re.search(r"should have at most (\d+) characters", msg):
        return f"{label or 'Nội dung'} dài quá {mm.group(1)} ký tự."
    if mm := re.search(r"weight of '(?P<w>.*)' must be in \(0, 1\]", msg):
        return f"Trọng số của từ khóa “{mm.group('w')}” phải lớn hơn 0 và không quá 1."
    if "an example is empty" in msg:
        return "Có một câu mẫu trống."
    if "required key is missing" in msg and label:
        return f"Thiếu {label.lower()}."
    where = Path(m.group("where")).name
    return (
        f"Danh mục chưa hợp lệ ở {where}"
        + (f", dòng {m.group('line')}" if m.group("line") else "")
        + (f" ({label.lower()})" if label else "")
        + f": {msg}"
    )
