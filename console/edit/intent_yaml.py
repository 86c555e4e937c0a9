"""An intent inside its catalog file: finding it, reading its fields, rewriting them in place.

The edited file keeps everything it had (comments, blank lines, key order, quoting, the other intents);
only the fields that changed are rewritten, with ruamel's round-trip mode.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString
from ruamel.yaml.tokens import CommentToken

from console.edit.intent_form import IntentDraft, IntentEditError
from console.edit.yamlrt import dump, load, one_line, restore_encoding, style
from intents.catalog import catalog_files

logger = logging.getLogger(__name__)

LINE_WIDTH = 110  # longest line written for a long answer (the files' own style)


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
        title=one_line(_value(item.get("title"))),
        answer=one_line(_value(item.get("answer"))),
        follow_up=one_line(_value(item.get("follow_up"))),
        examples=tuple(one_line(_value(e)) for e in examples if isinstance(examples, list)),
        keywords=tuple(
            (one_line(str(k)), float(v))
            for k, v in (keywords.items() if isinstance(keywords, dict) else ())
            if isinstance(v, (int, float))
        ),
    )


def _intents_of(data: Any) -> list[Any]:
    items = data.get("intents") if isinstance(data, CommentedMap) else None
    return items if isinstance(items, CommentedSeq) else []


def find_intent(directory: Path, intent_id: str) -> IntentSource | None:
    """The first catalog file that defines `intent_id` (the one the catalog keeps), read from disk."""

    for path in catalog_files(directory):
        try:
            _text, data = load(path.read_bytes())
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
        _text, data = load(raw)
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
    if old is not None and one_line(_value(old)) == text:
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
    old = [one_line(_value(e)) for e in seq]
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
    old = {one_line(str(k)): k for k in current}
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
    text, data = load(raw)
    indents = style(text, data)
    items = _intents_of(data)
    if index >= len(items) or str(items[index].get("id")) != intent_id:
        raise IntentEditError(
            ["Chủ đề đã được chuyển hoặc xóa khỏi tệp sau khi trang được mở. Hãy mở lại trang."],
            code="console.intent_edit.moved",
        )
    item = items[index]
    indent = indents[1] + indents[0]  # a key inside a list item of `intents:`
    tail = _take_tail(_last_slot(item))  # put back after the edit, wherever the intent now ends
    answer_after = "menu_label" if "menu_label" in item else "title"
    _set_text(item, "title", draft.title, after="id", indent=indent, optional=False)
    _set_text(item, "answer", draft.answer, after=answer_after, indent=indent, optional=False)
    _set_text(item, "follow_up", draft.follow_up, after="answer", indent=indent, optional=True)
    _set_examples(item, draft.examples)
    _set_keywords(item, draft.keywords)
    _put_tail(_last_slot(item), tail)
    return raw, restore_encoding(raw, dump(data, indents))
