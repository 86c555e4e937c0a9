"""The blanks of sentence templates (`{digits}`, `{status}`...) as operators read them: what the hotline
fills in during the call, in Vietnamese («các số đã bấm»), never the placeholder's name."""

from __future__ import annotations

import string

# What each blank holds, whatever the sentence.
BLANK_VI: dict[str, str] = {
    "a": "chủ đề thứ nhất",
    "b": "chủ đề thứ hai",
    "digit": "phím bấm",
    "title": "tên chủ đề",
    "digits": "các số đã bấm",
    "status": "trạng thái",
    "updated": "ngày cập nhật",
    "note": "nội dung trả lời của cán bộ",
    "commune": "tên xã, phường",
}
# ... and where a sentence gives it a narrower meaning.
BLANK_IN_TEMPLATE_VI: dict[tuple[str, str], str] = {
    ("ticket_number", "digits"): "số phiếu vừa tạo",
    ("ticket_status", "digits"): "số phiếu đã bấm",
    ("ticket_not_found", "digits"): "số phiếu đã bấm",
    ("ticket_status", "status"): "trạng thái phiếu",
    ("dossier_found", "digits"): "mã hồ sơ đã bấm",
    ("dossier_not_found", "digits"): "mã hồ sơ đã bấm",
    ("dossier_found", "title"): "tên thủ tục của hồ sơ",
    ("dossier_found", "status"): "trạng thái hồ sơ",
    ("dossier_found", "updated"): "ngày cập nhật hồ sơ",
    ("menu_item", "title"): "tên mục trong thực đơn phím",
}
UNKNOWN_BLANK_VI = "nội dung điền vào"


def blanks(text: str) -> list[str]:
    """The names of the blanks of a template, in order (repeats kept)."""
    return [name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name]


def blank_vi(key: str, name: str) -> str:
    return BLANK_IN_TEMPLATE_VI.get((key, name)) or BLANK_VI.get(name) or UNKNOWN_BLANK_VI


def template_vi(key: str, text: str) -> str:
    """The template `key` with each blank written as what fills it: "Phiếu số «số phiếu đã bấm»: ..."."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:  # an unbalanced brace: shown as written rather than failing the whole page
        return text
    out = []
    for literal, name, _spec, _conv in parts:
        out.append(literal)
        if name is not None:
            out.append(f"«{blank_vi(key, name)}»")
    return "".join(out)
