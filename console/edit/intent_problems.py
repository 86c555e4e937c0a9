"""The lines of `hotline intents check` in the operator's words (Vietnamese), for a refused intent edit."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from console.edit.intent_form import FIELDS
from voice.text import fold_tones, normalize_for_matching

if TYPE_CHECKING:
    from intents.catalog import Catalog

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
    if mm := re.search(r"key '(?P<k>[^']+)' already used by intent '(?P<other>\w+)'", msg):
        other = mm.group("other")
        if catalog is not None and other in catalog:
            other = catalog.get(other).title
        return f"Phím {mm.group('k')} đã dùng cho chủ đề “{other}”; hãy chọn phím khác hoặc để trống."
    if mm := re.search(r"key '(?P<k>[^']+)' is reserved", msg):
        return (
            f"Phím {mm.group('k')} dành sẵn cho việc khác trong mọi menu (gặp cán bộ, nghe lại...); "
            "hãy chọn phím khác."
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
