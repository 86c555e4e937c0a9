"""Audit entries as the audit page shows them: Vietnamese targets and details, nothing stored raw."""

from __future__ import annotations

import pytest

from console.audit_actions import ALL_AUDIT_ACTIONS, AuditAction
from console.audit_vi import AuditWords, detail_vi, seat_vi, target_vi, who_vi
from console.labels import ACTIONS_VI
from ivr.audit import CallAuditAction

WORDS = AuditWords(
    topic=lambda i: {"cccd": "thẻ căn cước"}.get(i, "Chủ đề đã xóa"),
    category=lambda c: {"dat_dai": "Đất đai"}.get(c, "?"),
    agency=lambda a: {"so_nnmt": "Sở Nông nghiệp và Môi trường"}.get(a, "?"),
    commune=lambda c: {"17329": "Xã Anh Sơn (17329)"}.get(c, c),
)

# One detail of every audit action, as the code writes it (console/routes, console/edit, ivr): a new action
# fails `test_every_audit_action_has_a_label_and_readable_details` until its details read in Vietnamese.
DETAILS: dict[str, tuple[str, ...]] = {
    AuditAction.LOGIN: ("",),
    AuditAction.LOGIN_FAILED: ("",),
    AuditAction.LOGOUT: ("",),
    AuditAction.LISTEN_RECORDING: ("GET bytes=0-", "GET", "HEAD", "GET bytes=52000-"),
    AuditAction.DOWNLOAD_RECORDING: ("GET",),
    AuditAction.SHOW_NUMBER: ("",),
    AuditAction.REPLY_TICKET: ("status=answered; note 23 chars", "status=closed"),
    AuditAction.ASSIGN_TICKET: ("category=dat_dai; agency=so_nnmt; assignee=lan; commune=17329",),
    AuditAction.SEARCH_NUMBER: ("3 found",),
    AuditAction.EXPORT_REPORT: ("csv", "xlsx"),
    AuditAction.UPLOAD_PROMPT: ("3.2 s from loi-chao.wav",),
    AuditAction.EDIT_PROMPT: ("prompts.yaml: greeting",),
    AuditAction.RESTORE_PROMPT: ("prompts.yaml: restored (replaced file kept as prompts.yaml.1)",),
    AuditAction.EDIT_INTENT: ("identity.yaml: examples", "ho_tich.yaml: new intent"),
    AuditAction.RESTORE_INTENT: ("identity.yaml: restored (replaced file kept as identity.yaml.2)",),
    AuditAction.ADD_OPERATOR: ("role=operator", "role=commune; commune=17329"),
    AuditAction.RESET_PASSWORD: ("closed 2 sessions",),
    AuditAction.DISABLE_OPERATOR: ("closed 1 sessions",),
    AuditAction.ENABLE_OPERATOR: ("",),
    AuditAction.LISTEN_REVIEW_AUDIO: ("GET bytes=0-",),
    AuditAction.REVIEW_TAUGHT: ("intent:cccd",),
    AuditAction.REVIEW_OUT_OF_SCOPE: ("2 closed",),
    AuditAction.REVIEW_RECOGNITION_ERROR: ("1 closed",),
    AuditAction.REVIEW_DISMISSED: ("3 closed",),
    AuditAction.RENDER_BULLETIN: ("",),
    AuditAction.PUBLISH_BULLETIN: ("",),
    AuditAction.CONFIRM_AIRED: ("commune=17329",),
    AuditAction.ISSUE_DEVICE_TOKEN: ("",),
    AuditAction.EXPORT_AIRING: ("csv", "xlsx"),
    AuditAction.RECORD_PROMPT: (
        "2.9 s recorded in the studio (browser)",
        "3.1 s recorded in the studio (upload); kept despite noisy,clipped; previous kept as greeting-x.wav",
    ),
    AuditAction.RECORD_READING: (
        "312.4 s read by a person (upload)",
        "95.0 s read by a person (browser); commune=17329; kept despite noisy",
    ),
    AuditAction.RETRY_JOB: ("",),
    CallAuditAction.RECORD_PROMPT_BY_PHONE: ("2.5 s recorded by phone on operator2; previous kept as x.wav",),
    CallAuditAction.RESTORE_PROMPT_RECORDING: (
        "restored greeting-20270101T000000.wav; previous kept as greeting-20270102T000000.wav",
        "back to the synthesized voice; previous kept as greeting-20270102T000000.wav",
    ),
    CallAuditAction.PROMPT_PIN_LOCKED: ("5 wrong PINs from operator2, 5 from all seats within 15 min",),
}


def test_every_audit_action_has_a_label_and_readable_details():
    assert set(DETAILS) == set(ALL_AUDIT_ACTIONS), "add a sample detail of the new action here"
    assert set(ACTIONS_VI) == set(ALL_AUDIT_ACTIONS)
    for action, details in DETAILS.items():
        assert ACTIONS_VI[action] and "_" not in ACTIONS_VI[action], action
        for detail in details:
            shown = detail_vi(detail, WORDS)
            assert shown != "Chi tiết khác", (action, detail)
            assert bool(shown) == bool(detail), (action, detail)


@pytest.mark.parametrize(
    "target, shown",
    [
        ("ticket:482913", "Phiếu số 482913"),
        ("call:12", "Cuộc gọi số 12"),
        ("operator:lan", "Tài khoản lan"),
        ("intent:cccd", "Chủ đề “thẻ căn cước”"),
        ("prompt:greeting", "Lời nhắc số 02"),
        ("prompt:ticket_number", "Mẫu câu số 05"),
        ("extension:prompt", "Số máy ghi âm lời nhắc"),
        ("review:12,13,20", "3 câu cần xem xét"),
        ("review:7", "1 câu cần xem xét"),
        ("report:2027-03", "Báo cáo tháng 03/2027"),
        ("bulletin:12", "Bản tin số 12"),
        ("bulletin:Chữ ký số", "Bản tin “Chữ ký số”"),
        ("commune:17329", "Xã Anh Sơn (17329)"),
        ("tickets", "Danh sách phiếu"),
        ("", "–"),
        ("weird:thing", "Đối tượng khác"),
    ],
)
def test_targets(target, shown):
    assert target_vi(target, WORDS) == shown


@pytest.mark.parametrize(
    "detail, shown",
    [
        ("GET bytes=0-", "Nghe từ đầu"),
        ("GET", "Nghe từ đầu"),
        ("GET bytes=52000-", "Nghe tiếp một đoạn"),
        ("HEAD", "Kiểm tra tệp ghi âm"),
        ("status=answered; note 23 chars", "Trạng thái: Đã trả lời; trả lời 23 ký tự"),
        ("status=closed", "Trạng thái: Đã đóng"),
        ("role=admin", "Vai trò: Quản trị viên"),
        ("closed 2 sessions", "Đã đóng 2 phiên đăng nhập"),
        ("3.2 s from loi-chao.wav", "Bản ghi 3,2 giây, tải lên từ máy tính"),
        ("2.5 s recorded by phone on operator2", "Bản ghi 2,5 giây, ghi qua điện thoại từ máy trực số 2"),
        (
            "5 wrong PINs from operator, 7 from all seats within 15 min",
            "5 lần sai mã PIN từ máy trực số 1, 7 lần từ mọi máy trong 15 phút",
        ),
        ("identity.yaml: added an example", "Sửa và lưu; bản cũ được lưu lại"),
        ("ho_tich.yaml: new intent", "Thêm chủ đề mới"),
        (
            "category=dat_dai; agency=so_nnmt; assignee=lan; commune=17329",
            "Loại: Đất đai; Cơ quan: Sở Nông nghiệp và Môi trường; Người xử lý: lan; "
            "Xã, phường: Xã Anh Sơn (17329)",
        ),
        (
            "category=-; agency=-; assignee=-; commune=-",
            "Loại: Chưa phân loại; Cơ quan: Chưa giao; Người xử lý: chưa giao; Xã, phường: chưa chọn",
        ),
        ("intent:cccd", "Dạy cho chủ đề “thẻ căn cước”"),
        ("4 found", "Tìm thấy 4 phiếu"),
        ("2 closed", "Đã đóng 2 câu"),
        ("xlsx", "Tệp Excel (XLSX)"),
        ("back to the synthesized voice", "Trở về giọng máy đọc"),
        ("", ""),
        ("something new", "Chi tiết khác"),
    ],
)
def test_details(detail, shown):
    assert detail_vi(detail, WORDS) == shown


def test_phones_are_named_as_operators_number_them():
    assert seat_vi("operator") == "máy trực số 1" and seat_vi("operator12") == "máy trực số 12"
    assert seat_vi("sipvicious") == "máy trực khác"
    assert who_vi("operator2", CallAuditAction.PROMPT_PIN_LOCKED) == "Máy trực số 2"
    assert who_vi("cli:root", CallAuditAction.RESTORE_PROMPT_RECORDING) == "Quản trị (dòng lệnh trên máy chủ)"
    assert who_vi("operator2", AuditAction.LOGIN) == "operator2"  # an account may be called so
