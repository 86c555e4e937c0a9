"""Audit entries as the audit page shows them: Vietnamese targets and details, nothing stored raw."""

from __future__ import annotations

import pytest

from console.audit_vi import detail_vi, target_vi


def topic(intent_id: str) -> str:
    return {"cccd": "căn cước công dân"}.get(intent_id, "Chủ đề đã xóa")


@pytest.mark.parametrize(
    "target, shown",
    [
        ("ticket:482913", "Phiếu số 482913"),
        ("call:12", "Cuộc gọi số 12"),
        ("operator:lan", "Tài khoản lan"),
        ("intent:cccd", "Chủ đề “căn cước công dân”"),
        ("prompt:greeting", "Lời nhắc số 02"),
        ("prompt:ticket_number", "Mẫu câu số 05"),
        ("extension:prompt", "Số máy ghi âm lời nhắc"),
        ("", "–"),
        ("weird:thing", "Đối tượng khác"),
    ],
)
def test_targets(target, shown):
    assert target_vi(target, topic) == shown


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
        ("2.5 s recorded by phone on operator2", "Bản ghi 2,5 giây, ghi qua điện thoại từ máy operator2"),
        ("identity.yaml: added an example", "Sửa và lưu; bản cũ được lưu lại"),
        ("", ""),
        ("something new", "Chi tiết khác"),
    ],
)
def test_details(detail, shown):
    assert detail_vi(detail) == shown
