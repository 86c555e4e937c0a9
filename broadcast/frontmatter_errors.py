"""Front-matter problems of a bulletin in plain Vietnamese: the file and line, the key, and the fix."""

from __future__ import annotations

from pydantic import ValidationError

from core.yamlfile import YamlDoc

# What each key is, in words, and how to write it right.
FIELDS: dict[str, tuple[str, str]] = {
    "title": ("tiêu đề", "ghi tiêu đề, tối đa 200 ký tự, ví dụ: title: Cảnh giác lừa đảo qua mạng"),
    "date": ("ngày của bản tin", "ghi ngày theo dạng ngày/tháng/năm, ví dụ: date: 24/11/2026"),
    "agency": ("cơ quan cung cấp tin", "ghi tên cơ quan, ví dụ: agency: Công an tỉnh Nghệ An"),
    "author": ("người viết", "ghi họ tên người viết"),
    "communes": (
        "các xã, phường nhận tin",
        "ghi một xã, hoặc danh sách như communes: [Anh Sơn, Đô Lương], hoặc communes: all cho toàn tỉnh",
    ),
    "publish": (
        "thời điểm bắt đầu phát hành",
        "ghi ngày/tháng/năm và có thể thêm giờ, ví dụ: publish: 25/11/2026 06:00",
    ),
    "expires": ("ngày hết hạn", "ghi ngày/tháng/năm, ví dụ: expires: 31/12/2026"),
    "deadline": ("hạn xác nhận đã phát", "ghi ngày/tháng/năm, ví dụ: deadline: 26/11/2026"),
    "priority": ("mức ưu tiên", "ghi một trong: thường, ưu tiên, khẩn cấp"),
    "voice": ("bộ đọc", "ghi espeak hoặc piper, hoặc bỏ dòng này để dùng bộ đọc mặc định"),
    "rate": ("tốc độ đọc", "ghi một số từ 0.5 đến 2.5, ví dụ: rate: 1.0"),
    "music_bed": ("nhạc nền", "ghi true (có nhạc nền) hoặc false (không có)"),
    "template": ("mẫu chương trình", "ghi tên một mẫu, ví dụ: template: chuyen-doi-so"),
    "language": ("ngôn ngữ", "ghi vi"),
}


def _shown(value: object) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_vi(exc: ValidationError, doc: YamlDoc) -> list[str]:
    """One line per problem: `file:line: key (what it is): what is wrong; how to write it`."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        key = str(loc[0]) if loc else ""
        where = doc.where(loc[:1] if err["type"] != "extra_forbidden" else loc)
        if err["type"] == "extra_forbidden":
            known = ", ".join(FIELDS)
            lines.append(f"{where}: {key}: khóa này không có (kiểm tra chính tả); dùng được: {known}")
            continue
        label, fix = FIELDS.get(key, (key, ""))
        if err["type"] == "missing":
            problem = "thiếu dòng này (bắt buộc)"
        elif err["type"] == "value_error" and isinstance(err.get("ctx", {}).get("error"), ValueError):
            problem = str(err["ctx"]["error"])  # our own Vietnamese reason (a date that does not exist...)
        else:
            problem = f"giá trị “{_shown(err.get('input'))}” không dùng được"
        lines.append(f"{where}: {key} ({label}): {problem}; {fix}" if fix else f"{where}: {key}: {problem}")
    return list(dict.fromkeys(lines))
