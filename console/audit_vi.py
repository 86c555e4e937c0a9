"""The audit log in Vietnamese: what each entry's target and detail mean, for the audit page.

Entries are stored as the code writes them (`ticket:482913`, `GET bytes=0-`, `status=answered`): other
code reads them back (the history of edited files looks for "<file name>:"), so they are translated for
display only. A detail no pattern knows is not shown raw: it reads "Chi tiết khác".
"""

from __future__ import annotations

import re
from collections.abc import Callable

from console.labels import ROLE_VI, TICKET_STATUS_VI, prompt_label

Topic = Callable[[str], str]  # intent id -> its title


def target_vi(target: str, topic: Topic) -> str:
    """`ticket:482913` -> "Phiếu số 482913", `intent:cccd` -> "Chủ đề Căn cước công dân"..."""
    kind, _, name = target.partition(":")
    if not name:
        return "–" if not target else "Đối tượng khác"
    if kind == "ticket":
        return f"Phiếu số {name}"
    if kind == "call":
        return f"Cuộc gọi số {name}"
    if kind == "operator":
        return f"Tài khoản {name}"
    if kind == "intent":
        return f"Chủ đề “{topic(name)}”"
    if kind == "prompt":
        return prompt_label(name)
    if kind == "extension":
        return "Số máy ghi âm lời nhắc"
    return "Đối tượng khác"


def _seconds(value: str) -> str:
    return value.replace(".", ",") + " giây"


def _range(method: str, rng: str) -> str:
    start = re.fullmatch(r"bytes=(\d+)-\d*", rng)
    if method == "HEAD":
        return "Kiểm tra tệp ghi âm"
    if not rng or (start and start.group(1) == "0"):
        return "Nghe từ đầu"
    return "Nghe tiếp một đoạn" if start else "Nghe một đoạn"


# (pattern of a stored detail, its Vietnamese) in the order tried; groups are passed to the function.
PATTERNS: list[tuple[re.Pattern[str], Callable[..., str]]] = [
    (re.compile(r"(GET|HEAD)\s*(.*)"), _range),
    (
        re.compile(r"status=(\w+)(?:; note (\d+) chars)?"),
        lambda st, n: (
            f"Trạng thái: {TICKET_STATUS_VI.get(st, 'khác')}" + (f"; trả lời {n} ký tự" if n else "")
        ),
    ),
    (re.compile(r"role=(\w+)"), lambda role: f"Vai trò: {ROLE_VI.get(role, 'khác')}"),
    (re.compile(r"closed (\d+) sessions?"), lambda n: f"Đã đóng {n} phiên đăng nhập"),
    (re.compile(r"([\d.]+) s from (.*)"), lambda s, _name: f"Bản ghi {_seconds(s)}, tải lên từ máy tính"),
    (
        re.compile(r"([\d.]+) s recorded by phone on (\S+)(.*)"),
        lambda s, seat, _kept: f"Bản ghi {_seconds(s)}, ghi qua điện thoại từ máy {seat}",
    ),
    (
        re.compile(r"(\d+) wrong PINs from (\S+), (\d+) from all seats within (\d+) min"),
        lambda mine, seat, all_, minutes: (
            f"{mine} lần sai mã PIN từ máy {seat}, {all_} lần từ mọi máy trong {minutes} phút"
        ),
    ),
    # Edits of the catalog and prompts: "<file>: <note>[ (replaced file kept as <name>)]".
    (
        re.compile(r"[\w.-]+\.ya?ml: .*\(replaced file kept as .*\)"),
        lambda: "Khôi phục bản cũ; bản thay ra được lưu lại",
    ),
    (re.compile(r"[\w.-]+\.ya?ml: .*"), lambda: "Sửa và lưu; bản cũ được lưu lại"),
]


def detail_vi(detail: str) -> str:
    """An audit detail in Vietnamese ("GET bytes=0-" -> "Nghe từ đầu"); "" stays ""."""
    detail = detail.strip()
    if not detail:
        return ""
    for pattern, say in PATTERNS:
        m = pattern.fullmatch(detail)
        if m:
            return say(*m.groups())
    return "Chi tiết khác"
