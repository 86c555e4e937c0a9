"""The fixed words of sentences filled at call time (config/prompts.yaml `templates:`) as recordable units.

A template such as "Anh chị muốn hỏi về {a}, hay về {b}? Bấm phím một cho {a}, phím hai cho {b}." is cut at
its blanks; every piece with words in it is a unit `mau_<template>_<n>` (n counts the pieces with words,
from 1), so the talent records each fixed fragment once and the composer joins them with what fills the
blanks (topic titles, digits, statuses, commune names: other units). The key follows the template and the
position, never the words: an edited template keeps its keys and the recordings whose fragment changed
become stale (the take's note holds the digest of the words read).

A fragment with the same words as a fixed prompt or a word bank phrase is not listed: that recording
already covers it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from ivr.flow.config import Texts
from voice.compose import match_key

PREFIX = "mau_"  # reserved: no word bank unit may start with it
_BLANK = re.compile(r"\{(\w+)\}")
_WORD = re.compile(r"\w+")

# Template -> where a caller hears it, for the script sheet. Every field of Texts has one (a test checks).
TEMPLATE_USES: dict[str, str] = {
    "clarify": "Trong câu hỏi lại khi chưa rõ chủ đề",
    "menu_item": "Trong danh sách phím tự tạo: mỗi dòng chọn một chủ đề",
    "menu_more": "Trong danh sách phím tự tạo: dòng mở các dịch vụ khác",
    "menu_tail": "Cuối danh sách phím tự tạo",
    "ticket_number": "Khi đọc số phiếu phản ánh vừa tạo",
    "dossier_found": "Khi đọc kết quả tra cứu hồ sơ",
    "dossier_not_found": "Khi không tìm thấy hồ sơ người gọi bấm",
    "ticket_status": "Khi đọc trạng thái phiếu phản ánh",
    "ticket_reply": "Trước nội dung trả lời của cán bộ cho phiếu",
    "ticket_not_found": "Khi không tìm thấy phiếu người gọi bấm",
    "team_connect": "Khi nối máy tới tổ công nghệ số cộng đồng của xã",
    "team_none": "Khi xã chưa có tổ công nghệ số nhận cuộc gọi",
    "ticket_reply_elsewhere": "Khi phiếu đã có trả lời nhưng người gọi dùng số máy khác",
    "ticket_locked": "Khi người gọi nhập sai số phiếu nhiều lần",
}


class TemplateUnit(NamedTuple):
    """One fixed fragment of a template: key, the words to read, the template's name and its whole text
    (shown to the talent, for the intonation)."""

    key: str
    text: str
    template: str
    sentence: str  # the template as configured, blanks and all


def words_of(text: str) -> str:
    """A text as the composer compares it: its words, lowercase, one tone placement."""
    return " ".join(match_key(w) for w in _WORD.findall(text))


def fragments(template: str) -> list[str]:
    """The fixed pieces of a template that hold words, in order, punctuation at their edges trimmed."""
    out = []
    for piece in _BLANK.split(template)[::2]:  # split() puts the blank names at odd positions
        if _WORD.search(piece):
            out.append(re.sub(r"^\W+", "", piece).rstrip(" \t\n,;:"))
    return out


def template_units(texts: Texts, taken: Iterable[str] = ()) -> list[TemplateUnit]:
    """Every template's recordable fragments, in the order of Texts' fields; `taken`: texts already
    recordable (fixed prompts, word bank units) whose fragments are left out, as are repeats."""
    seen = {words_of(t) for t in taken}
    out: list[TemplateUnit] = []
    for name in Texts.__dataclass_fields__:
        template = getattr(texts, name)
        for n, text in enumerate(fragments(template), start=1):
            folded = words_of(text)
            if folded in seen:
                continue
            seen.add(folded)
            out.append(TemplateUnit(f"{PREFIX}{name}_{n}", text, name, template))
    return out
