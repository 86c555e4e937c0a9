"""What operators read for the codes the hotline stores: ticket statuses, call outcomes, turn kinds, audit
actions, account roles and withheld numbers (Vietnamese, shown as they are)."""

from __future__ import annotations

from dataclasses import fields

from console.audit_actions import ALL_AUDIT_ACTIONS, AuditAction
from core.callerid import WITHHELD_LABEL
from intents.models import ACTIONS
from ivr.audit import CallAuditAction
from ivr.enums import Failure, Outcome, TurnAction, TurnKind
from ivr.flow.config import PROMPT_KEYS, Texts
from ivr.models import TICKET_REASONS
from ivr.ticket_rules import Standing

# A caller who withheld the number: stored without one (core.callerid), never shown as an empty cell.
CALLER_WITHHELD_VI = WITHHELD_LABEL

# Ticket status -> label.
TICKET_STATUS_VI = {"new": "Mới", "in_progress": "Đang xử lý", "answered": "Đã trả lời", "closed": "Đã đóng"}

# Where a ticket stands against its deadline -> label (ivr.ticket_rules.Standing).
STANDING_VI: dict[str, str] = {
    Standing.ON_TIME: "Trong hạn",
    Standing.OVERDUE: "Quá hạn",
    Standing.HANDLED_ON_TIME: "Xử lý đúng hạn",
    Standing.HANDLED_LATE: "Xử lý trễ hạn",
    Standing.NO_DEADLINE: "Không có hạn",
}
NO_CATEGORY_VI = "Chưa phân loại"
NO_AGENCY_VI = "Chưa giao"
GONE_CHOICE_VI = "Không còn trong cấu hình"  # a stored category or agency the settings no longer list

# Why a ticket exists -> label (every ivr.models.TICKET_REASONS value has one).
TICKET_REASON_VI = {
    "feedback": "Phản ánh",
    "message": "Lời nhắn",
    "callback": "Cần gọi lại",
    "recovered": "Khôi phục sau sự cố",
}

# Call outcome -> label (every ivr.enums.Outcome has one; a test keeps it so).
OUTCOME_VI: dict[str, str] = {
    Outcome.IN_PROGRESS: "Đang diễn ra",
    Outcome.ANSWERED_SPEECH: "Đã trả lời (hỏi bằng lời)",
    Outcome.ANSWERED_KEYPAD: "Đã trả lời (bấm phím)",
    Outcome.TRANSFERRED: "Đã gặp cán bộ",
    Outcome.TRANSFER_MISSED: "Cán bộ không nghe máy",
    Outcome.MESSAGE_LEFT: "Để lại lời nhắn",
    Outcome.TICKET: "Đã ghi phản ánh",
    Outcome.TICKET_STATUS: "Tra cứu phiếu",
    Outcome.DOSSIER: "Tra cứu hồ sơ",
    Outcome.RADIO: "Nghe bản tin",
    Outcome.NOT_UNDERSTOOD: "Không hiểu yêu cầu",
    Outcome.NO_INPUT: "Người gọi không nói gì",
    Outcome.GOODBYE: "Chào kết thúc",
    Outcome.HUNG_UP_BEFORE_ANSWER: "Gác máy trước khi được trả lời",
    Outcome.HUNG_UP_DURING_ANSWER: "Gác máy khi đang nghe trả lời",
    Outcome.TOO_LONG: "Quá thời gian",
    Outcome.FAILED: "Lỗi",
    Outcome.INTERRUPTED: "Bị gián đoạn",
    Outcome.PROMPT_ADMIN: "Ghi âm lời nhắc",
    # Written by earlier versions only (old rows).
    Outcome.ANSWERED: "Đã trả lời",
    Outcome.ABANDONED: "Người gọi gác máy",
    Outcome.CALLBACK: "Hẹn gọi lại",
}

# Turn kind -> label.
KIND_VI: dict[str, str] = {
    TurnKind.SPEECH: "Lời nói",
    TurnKind.DTMF: "Bấm phím",
    TurnKind.TIMEOUT: "Im lặng",
    TurnKind.ACTION: "Thao tác",
    TurnKind.SYSTEM: "Hệ thống",
}

# What a turn did -> label: the flow's own actions, the catalog's intent actions, code entry, failures.
TURN_ACTION_VI: dict[str, str] = {
    TurnAction.CLARIFY: "Hỏi lại cho rõ",
    TurnAction.REPLAY: "Nghe lại",
    TurnAction.TRANSFER: "Chuyển cán bộ",
    TurnAction.INVALID: "Phím không hợp lệ",
    TurnAction.RATING: "Chấm điểm hài lòng",
    TurnAction.RATING_ASKED: "Hỏi mức hài lòng",
    TurnAction.SUBMENU: "Mở nhánh thực đơn phím",
    TurnAction.BARGE_IN: "Nói chen lời nhắc",
    TurnAction.TRANSFERRED: "Cán bộ đã nghe máy",
    TurnAction.TRANSFER_NO_ANSWER: "Cán bộ không nghe máy",
    TurnAction.RECORDING_EMPTY: "Ghi âm trống",
    TurnAction.TICKET_CREATED: "Đã tạo phiếu",
    TurnAction.TICKET_FAILED: "Không tạo được phiếu",
    TurnAction.CALLBACK_WITHHELD: "Số ẩn, không gọi lại được",
    TurnAction.TEAM_MISSING: "Xã chưa có tổ công nghệ số",
    TurnAction.EMERGENCY_PLAYED: "Phát thông báo khẩn cấp",
    TurnAction.EMERGENCY_SKIPPED: "Bỏ qua thông báo khẩn cấp",
}
INTENT_ACTION_VI: dict[str, str] = {
    "transfer": "Chuyển cán bộ",
    "record_feedback": "Ghi phản ánh",
    "lookup_dossier": "Tra cứu hồ sơ",
    "ticket_status": "Tra cứu phiếu",
    "radio": "Nghe bản tin",
    "commune_team": "Gặp tổ công nghệ số",
    "hangup": "Kết thúc cuộc gọi",
    "replay": "Nghe lại",
}
CODE_VI: dict[str, str] = {
    "dossier": "Nhập mã hồ sơ",
    "ticket": "Nhập số phiếu",
    "radio": "Nhập mã xã",
    "team": "Chọn xã (tổ công nghệ số)",
}
FOUND_VI = {"found": "tìm thấy", "not_found": "không tìm thấy", "locked": "tạm khóa vì nhập sai nhiều lần"}
FAILURE_VI: dict[str, str] = {
    Failure.NO_INPUT: "Không nghe thấy",
    Failure.NOT_UNDERSTOOD: "Không hiểu yêu cầu",
    Failure.INVALID_KEY: "Phím không hợp lệ",
    Failure.ASR: "Lỗi nhận dạng giọng nói",
    Failure.TTS: "Lỗi đọc câu trả lời",
    Failure.POOL: "Nhận dạng quá tải",
    Failure.MEDIA: "Lỗi đường âm thanh",
}
assert set(INTENT_ACTION_VI) == set(ACTIONS), "every intent action needs a label"
assert set(TICKET_REASON_VI) == set(TICKET_REASONS), "every ticket reason needs a label"
assert set(STANDING_VI) == set(Standing), "every ticket standing needs a label"


def action_label(action: str | None) -> str:
    """What a turn did, in Vietnamese; an action this table does not know shows as "Thao tác khác"."""
    if not action:
        return ""
    if action.startswith("fail:"):
        return FAILURE_VI.get(action.removeprefix("fail:"), "Lỗi khác")
    label = TURN_ACTION_VI.get(action) or INTENT_ACTION_VI.get(action) or CODE_VI.get(action)
    if label:
        return label
    purpose, _, found = action.partition("_")
    if purpose in CODE_VI and found in FOUND_VI:
        return f"{CODE_VI[purpose]}: {FOUND_VI[found]}"
    return "Thao tác khác"


# Audit action -> label (the audit page): every action the console or the call side writes has one.
ACTIONS_VI: dict[str, str] = {
    AuditAction.LOGIN: "Đăng nhập",
    AuditAction.LOGIN_FAILED: "Đăng nhập sai",
    AuditAction.LOGOUT: "Đăng xuất",
    AuditAction.LISTEN_RECORDING: "Nghe ghi âm phiếu",
    AuditAction.DOWNLOAD_RECORDING: "Tải ghi âm phiếu",
    AuditAction.SHOW_NUMBER: "Xem số điện thoại",
    AuditAction.REPLY_TICKET: "Trả lời phiếu",
    AuditAction.ASSIGN_TICKET: "Phân loại, giao phiếu",
    AuditAction.SEARCH_NUMBER: "Tìm phiếu theo số điện thoại",
    AuditAction.EXPORT_REPORT: "Xuất báo cáo tháng",
    AuditAction.UPLOAD_PROMPT: "Thay lời nhắc",
    AuditAction.EDIT_PROMPT: "Sửa lời nhắc",
    AuditAction.RESTORE_PROMPT: "Khôi phục bản cũ (lời nhắc)",
    AuditAction.EDIT_INTENT: "Sửa, thêm chủ đề",
    AuditAction.RESTORE_INTENT: "Khôi phục bản cũ (chủ đề)",
    AuditAction.ADD_OPERATOR: "Thêm tài khoản",
    AuditAction.RESET_PASSWORD: "Đặt lại mật khẩu",
    AuditAction.DISABLE_OPERATOR: "Khóa tài khoản",
    AuditAction.ENABLE_OPERATOR: "Mở khóa tài khoản",
    AuditAction.LISTEN_REVIEW_AUDIO: "Nghe câu cần xem xét",
    AuditAction.REVIEW_TAUGHT: "Dạy tổng đài một câu",
    AuditAction.REVIEW_OUT_OF_SCOPE: "Đánh dấu ngoài phạm vi",
    AuditAction.REVIEW_RECOGNITION_ERROR: "Đánh dấu nhận dạng sai",
    AuditAction.REVIEW_DISMISSED: "Bỏ qua câu cần xem xét",
    AuditAction.RENDER_BULLETIN: "Dựng bản tin truyền thanh",
    AuditAction.PUBLISH_BULLETIN: "Phát hành bản tin truyền thanh",
    AuditAction.CONFIRM_AIRED: "Xác nhận xã đã phát bản tin",
    AuditAction.ISSUE_DEVICE_TOKEN: "Tạo mã thiết bị của xã",
    AuditAction.EXPORT_AIRING: "Tải bảng phát sóng của bản tin",
    AuditAction.RECORD_PROMPT: "Ghi âm lời nhắc (phòng thu)",
    AuditAction.RECORD_READING: "Ghi giọng đọc bản tin truyền thanh",
    AuditAction.RETRY_JOB: "Chạy lại công việc nền bị lỗi",
    CallAuditAction.RECORD_PROMPT_BY_PHONE: "Ghi âm lại lời nhắc qua điện thoại",
    CallAuditAction.RESTORE_PROMPT_RECORDING: "Khôi phục bản ghi lời nhắc",
    CallAuditAction.PROMPT_PIN_LOCKED: "Khóa ghi âm lời nhắc (sai mã PIN)",
}
assert set(ACTIONS_VI) == set(ALL_AUDIT_ACTIONS), "every audit action needs a label"

# Account role -> label (the accounts page).
ROLE_VI = {
    "admin": "Quản trị viên",
    "operator": "Cán bộ trực",
    "editor": "Biên tập viên truyền thanh",
    "commune": "Truyền thanh xã, phường",
}


# Sentence templates (`ivr.flow.config.Texts`), numbered in their order: operators never see the keys.
_TEMPLATES = [f.name for f in fields(Texts)]


def prompt_label(key: str) -> str:
    """A prompt as operators know it: the number keyed to re-record it by phone, or a template's number."""
    if key in PROMPT_KEYS:
        return f"Lời nhắc số {PROMPT_KEYS.index(key) + 1:02d}"
    if key in _TEMPLATES:
        return f"Mẫu câu số {_TEMPLATES.index(key) + 1:02d}"
    return "Lời nhắc khác"
