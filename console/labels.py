"""What operators read for the codes the hotline stores: ticket statuses, call outcomes, turn kinds, audit
actions and account roles (Vietnamese, shown as they are)."""

from __future__ import annotations

# Ticket status -> label.
TICKET_STATUS_VI = {"new": "Mới", "in_progress": "Đang xử lý", "answered": "Đã trả lời", "closed": "Đã đóng"}

# Call outcome -> label.
OUTCOME_VI = {
    "in_progress": "Đang diễn ra",
    "answered": "Đã trả lời",
    "goodbye": "Chào kết thúc",
    "abandoned": "Người gọi gác máy",
    "no_input": "Không nghe thấy",
    "transferred": "Chuyển cán bộ",
    "ticket": "Ghi phản ánh",
    "ticket_status": "Tra cứu phiếu",
    "dossier": "Tra cứu hồ sơ",
    "radio": "Nghe bản tin",
    "too_long": "Quá thời gian",
    "interrupted": "Bị gián đoạn",
    "failed": "Lỗi",
    "prompt_admin": "Ghi âm lời nhắc",
}

# Turn kind -> label.
KIND_VI = {
    "speech": "Lời nói",
    "dtmf": "Bấm phím",
    "timeout": "Im lặng",
    "action": "Thao tác",
    "system": "Hệ thống",
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
