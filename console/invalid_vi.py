"""A request the console's routes refuse before running (a mistyped page number, a field too long), told
in Vietnamese: which field, and what it must be. The web app's one validation handler asks this for
console paths; the JSON API keeps its own answer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# The fields of console forms and addresses, as their pages name them.
FIELD_VI: dict[str, str] = {
    "page": "số trang",
    "status": "trạng thái",
    "overdue": "“Chỉ phiếu quá hạn”",
    "q": "ô tìm kiếm",
    "category": "loại phiếu",
    "agency": "cơ quan xử lý",
    "assignee": "người xử lý",
    "commune": "xã, phường",
    "note": "nội dung trả lời",
    "text": "câu người gọi nói",
    "title": "tên chủ đề",
    "answer": "câu trả lời",
    "follow_up": "câu hỏi tiếp",
    "examples": "câu mẫu",
    "kw_word": "từ khóa",
    "kw_weight": "trọng số từ khóa",
    "id": "mã chủ đề",
    "digit": "phím bấm",
    "day_from": "từ ngày",
    "day_to": "đến ngày",
    "period": "xem theo",
    "month": "tháng",
    "format": "định dạng tệp",
    "intent": "chủ đề",
    "outcome": "kết quả",
    "username": "tên đăng nhập",
    "password": "mật khẩu",
    "role": "vai trò",
    "name": "tên",
}
OTHER_FIELD_VI = "một giá trị"


def _must(kind: str, ctx: Mapping[str, Any]) -> str:
    """What the value must be, from pydantic's error type and its context."""
    if kind == "missing":
        return "còn thiếu"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "phải là một số nguyên"
    if kind in ("float_parsing", "float_type"):
        return "phải là một số"
    if kind in ("greater_than_equal", "greater_than"):
        return f"phải từ {ctx.get('ge', ctx.get('gt'))} trở lên"
    if kind in ("less_than_equal", "less_than"):
        return f"không được lớn hơn {ctx.get('le', ctx.get('lt'))}"
    if kind == "string_too_long":
        return f"dài quá {ctx.get('max_length')} ký tự"
    if kind == "string_too_short":
        return f"phải có ít nhất {ctx.get('min_length')} ký tự"
    if kind in ("date_parsing", "date_from_datetime_parsing"):
        return "phải là một ngày (ngày/tháng/năm)"
    return "không hợp lệ"


def invalid_request_vi(errors: Iterable[Mapping[str, Any]]) -> str:
    """FastAPI's validation errors as one sentence ("Số trang phải là một số nguyên."), each field once."""
    said: dict[str, str] = {}
    for e in errors:
        names = [p for p in e.get("loc", ()) if isinstance(p, str) and p not in ("query", "body", "path")]
        field = FIELD_VI.get(names[-1], OTHER_FIELD_VI) if names else OTHER_FIELD_VI
        said.setdefault(field, _must(str(e.get("type", "")), e.get("ctx") or {}))
    parts = [f"{field} {must}" for field, must in said.items()] or ["dữ liệu gửi lên không hợp lệ"]
    text = "; ".join(parts)
    return f"{text[0].upper()}{text[1:]}. Xin quay lại trang trước và nhập lại."
