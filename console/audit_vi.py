"""The audit log in Vietnamese: what each entry's target and detail mean, for the audit page.

Entries are stored as the code writes them (`ticket:482913`, `GET bytes=0-`, `status=answered`): other
code reads them back (the history of edited files looks for "<file name>:"), so they are translated for
display only. A detail no pattern knows is not shown raw: it reads "Chi tiết khác". Every action's details
have a pattern here (tests/console/test_audit_vi.py holds one detail of each action as the code writes it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from asterisk.secrets import OPERATOR_USER
from console.labels import NO_AGENCY_VI, NO_CATEGORY_VI, ROLE_VI, TICKET_STATUS_VI, prompt_label
from ivr.audit import CallAuditAction

Topic = Callable[[str], str]  # intent id -> its title


def _same(value: str) -> str:
    return value


@dataclass(frozen=True)
class AuditWords:
    """How stored ids read: topics, ticket categories, agencies and communes by their Vietnamese names."""

    topic: Topic
    category: Callable[[str], str] = _same
    agency: Callable[[str], str] = _same
    commune: Callable[[str], str] = _same


def seat_vi(user: str) -> str:
    """An operator's phone as operators number them: SIP user "operator2" -> "máy trực số 2"."""
    m = re.fullmatch(re.escape(OPERATOR_USER) + r"(\d*)", user)
    if m is None:
        return "máy trực khác"
    return f"máy trực số {m.group(1) or 1}"


def who_vi(username: str, action: str) -> str:
    """The "who" of an entry: an account; for what is done by phone, the phone; "cli:<user>" for the
    command line on the server (`hotline prompts restore`)."""
    if username.startswith("cli:"):
        return "Quản trị (dòng lệnh trên máy chủ)"
    if action in (CallAuditAction.RECORD_PROMPT_BY_PHONE, CallAuditAction.PROMPT_PIN_LOCKED):
        return seat_vi(username).capitalize()
    return username or "–"


def target_vi(target: str, words: AuditWords) -> str:
    """`ticket:482913` -> "Phiếu số 482913", `intent:cccd` -> "Chủ đề “thẻ căn cước”"..."""
    if target == "tickets":
        return "Danh sách phiếu"
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
        return f"Chủ đề “{words.topic(name)}”"
    if kind == "prompt":
        return prompt_label(name)
    if kind == "bulletin":
        return f"Bản tin số {name}" if name.isdigit() else f"Bản tin “{name}”"
    if kind == "commune":
        return words.commune(name) or "Xã, phường"
    if kind == "extension":
        return "Số máy ghi âm lời nhắc"
    if kind == "review":  # item ids are the queue's own: operators see how many
        return f"{len(name.split(','))} câu cần xem xét"
    month = re.fullmatch(r"(\d{4})-(\d{2})", name)
    if kind == "report" and month:
        return f"Báo cáo tháng {month.group(2)}/{month.group(1)}"
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


def _assigned(words: AuditWords, category: str, agency: str, assignee: str, commune: str) -> str:
    def chosen(value: str, say: Callable[[str], str], none: str) -> str:
        return none if value in ("", "-") else say(value)

    return (
        f"Loại: {chosen(category, words.category, NO_CATEGORY_VI)}; "
        f"Cơ quan: {chosen(agency, words.agency, NO_AGENCY_VI)}; "
        f"Người xử lý: {chosen(assignee, _same, 'chưa giao')}; "
        f"Xã, phường: {chosen(commune, words.commune, 'chưa chọn')}"
    )


Say = Callable[..., str]  # (words, *groups of the pattern) -> Vietnamese

# (pattern of a stored detail, its Vietnamese) in the order tried; groups are passed after `words`.
PATTERNS: list[tuple[re.Pattern[str], Say]] = [
    (re.compile(r"(GET|HEAD)\s*(.*)"), lambda _w, method, rng: _range(method, rng)),
    (
        re.compile(r"status=(\w+)(?:; note (\d+) chars)?"),
        lambda _w, st, n: (
            f"Trạng thái: {TICKET_STATUS_VI.get(st, 'khác')}" + (f"; trả lời {n} ký tự" if n else "")
        ),
    ),
    (
        re.compile(r"category=(.*); agency=(.*); assignee=(.*); commune=(.*)"),
        _assigned,
    ),
    (re.compile(r"role=(\w+)"), lambda _w, role: f"Vai trò: {ROLE_VI.get(role, 'khác')}"),
    (
        re.compile(r"role=(\w+); commune=(\d+)"),
        lambda w, role, code: f"Vai trò: {ROLE_VI.get(role, 'khác')}; xã, phường: {w.commune(code)}",
    ),
    (re.compile(r"closed (\d+) sessions?"), lambda _w, n: f"Đã đóng {n} phiên đăng nhập"),
    (re.compile(r"commune=(\d+)"), lambda w, code: f"Xã, phường: {w.commune(code)}"),
    (re.compile(r"(\d+) found"), lambda _w, n: f"Tìm thấy {n} phiếu"),
    (re.compile(r"(\d+) closed"), lambda _w, n: f"Đã đóng {n} câu"),
    (re.compile(r"intent:(\w+)"), lambda w, topic: f"Dạy cho chủ đề “{w.topic(topic)}”"),
    (re.compile(r"csv"), lambda _w: "Tệp CSV"),
    (re.compile(r"xlsx"), lambda _w: "Tệp Excel (XLSX)"),
    (
        re.compile(r"([\d.]+) s from (.*)"),
        lambda _w, s, _name: f"Bản ghi {_seconds(s)}, tải lên từ máy tính",
    ),
    (
        re.compile(
            r"([\d.]+) s recorded in the studio \((browser|upload)\)"
            r"(; kept despite [\w,]+)?(; previous kept as .*)?"
        ),
        lambda _w, s, source, warned, kept: (
            f"Bản ghi {_seconds(s)}, "
            + ("ghi bằng trình duyệt" if source == "browser" else "tải lên")
            + " trong phòng thu"
            + ("; lưu dù có cảnh báo" if warned else "")
            + ("; bản ghi cũ được lưu lại" if kept else "")
        ),
    ),
    (
        re.compile(
            r"([\d.]+) s read by a person \((browser|upload)\)(?:; commune=(\d+))?(; kept despite [\w,]+)?"
        ),
        lambda w, s, source, code, warned: (
            f"Giọng đọc {_seconds(s)}, "
            + ("ghi bằng trình duyệt" if source == "browser" else "tải lên")
            + (f"; bản phát cho {w.commune(code)}" if code else "")
            + ("; dùng dù có lưu ý" if warned else "")
        ),
    ),
    (
        re.compile(r"([\d.]+) s recorded by phone on (\S+)(.*)"),
        lambda _w, s, seat, _kept: f"Bản ghi {_seconds(s)}, ghi qua điện thoại từ {seat_vi(seat)}",
    ),
    (
        re.compile(r"restored \S+(; previous kept as .*)?"),
        lambda _w, kept: "Khôi phục bản ghi cũ" + ("; bản đang dùng được lưu lại" if kept else ""),
    ),
    (
        re.compile(r"back to the synthesized voice(; previous kept as .*)?"),
        lambda _w, kept: "Trở về giọng máy đọc" + ("; bản ghi được lưu lại" if kept else ""),
    ),
    (
        re.compile(r"(\d+) wrong PINs from (\S+), (\d+) from all seats within (\d+) min"),
        lambda _w, mine, seat, all_, minutes: (
            f"{mine} lần sai mã PIN từ {seat_vi(seat)}, {all_} lần từ mọi máy trong {minutes} phút"
        ),
    ),
    # Edits of the catalog and prompts: "<file>: <note>[ (replaced file kept as <name>)]".
    (re.compile(r"[\w.-]+\.ya?ml: new intent"), lambda _w: "Thêm chủ đề mới"),
    (
        re.compile(r"[\w.-]+\.ya?ml: .*\(replaced file kept as .*\)"),
        lambda _w: "Khôi phục bản cũ; bản thay ra được lưu lại",
    ),
    (re.compile(r"[\w.-]+\.ya?ml: .*"), lambda _w: "Sửa và lưu; bản cũ được lưu lại"),
]


def detail_vi(detail: str, words: AuditWords) -> str:
    """An audit detail in Vietnamese ("GET bytes=0-" -> "Nghe từ đầu"); "" stays ""."""
    detail = detail.strip()
    if not detail:
        return ""
    for pattern, say in PATTERNS:
        m = pattern.fullmatch(detail)
        if m:
            return say(words, *m.groups())
    return "Chi tiết khác"
