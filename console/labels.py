"""What operators read for the codes the hotline stores: ticket statuses, call outcomes, turn kinds, audit
actions and account roles (Vietnamese, shown as they are)."""

from __future__ import annotations

from ivr.enums import Outcome, TurnKind

# Ticket status -> label.
TICKET_STATUS_VI = {"new": "Mới", "in_progress": "Đang xử lý", "answered": "Đã trả lời", "closed": "Đã đóng"}

# Call outcome -> label (every ivr.enums.Outcome has one; a test keeps it so).
OUTCOME_VI: dict[str, str] = {
    Outcome.IN_PROGRESS: "Đang diễn ra",
    Outcome.ANSWERED: "Đã trả lời",
    Outcome.GOODBYE: "Chào kết thúc",
    Outcome.ABANDONED: "Người gọi gác máy",
    Outcome.NO_INPUT: "Không nghe thấy",
    Outcome.NOT_UNDERSTOOD: "Không hiểu yêu cầu",
    Outcome.TRANSFERRED: "Chuyển cán bộ",
    Outcome.TICKET: "Ghi phản ánh",
    Outcome.TICKET_STATUS: "Tra cứu phiếu",
    Outcome.DOSSIER: "Tra cứu hồ sơ",
    Outcome.RADIO: "Nghe bản tin",
    Outcome.TOO_LONG: "Quá thời gian",
    Outcome.INTERRUPTED: "Bị gián đoạn",
    Outcome.FAILED: "Lỗi",
    Outcome.PROMPT_ADMIN: "Ghi âm lời nhắc",
}

# Turn kind -> label.
KIND_VI: dict[str, str] = {
    TurnKind.SPEECH: "Lời nói",
    TurnKind.DTMF: "Bấm phím",
    TurnKind.TIMEOUT: "Im lặng",
    TurnKind.ACTION: "Thao tác",
    TurnKind.SYSTEM: "Hệ thống",
}

# Audit action -> label (the audit page).
ACTIONS_VI = {
    "login": "Đăng nhập",
    "login_failed": "Đăng nhập sai",
    "logout": "Đăng xuất",
    "listen_recording": "Nghe ghi âm",
    "download_recording": "Tải ghi âm",
    "show_number": "Xem số điện thoại",
    "reply_ticket": "Trả lời phiếu",
    "upload_prompt": "Thay lời nhắc",
    "edit_prompt": "Sửa lời nhắc",
    "edit_intent": "Sửa chủ đề",
    "restore_intent": "Khôi phục bản cũ (chủ đề)",
    "restore_prompt": "Khôi phục bản cũ (lời nhắc)",
    "add_operator": "Thêm tài khoản",
    "reset_password": "Đặt lại mật khẩu",
    "disable_operator": "Khóa tài khoản",
    "enable_operator": "Mở khóa tài khoản",
}

# Account role -> label (the accounts page).
ROLE_VI = {"admin": "Quản trị viên", "operator": "Cán bộ trực"}
