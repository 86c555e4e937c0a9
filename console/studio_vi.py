"""The recording studio's words: script-sheet groups and recording statuses as operators read them."""

from __future__ import annotations

from console.edit.studio import Status
from ivr.recordables import RecordableGroup

GROUP_VI: dict[str, str] = {
    RecordableGroup.GREETING: "Lời chào, mở đầu cuộc gọi",
    RecordableGroup.MENU: "Bàn phím, danh sách chọn",
    RecordableGroup.ANSWER: "Trả lời, phản ánh, hẹn gọi lại",
    RecordableGroup.FOLLOW_UP: "Hỏi tiếp, kết thúc cuộc gọi",
    RecordableGroup.CODE: "Tra cứu hồ sơ, phiếu, bản tin xã",
    RecordableGroup.TRANSFER: "Chuyển máy, tổ công nghệ số",
    RecordableGroup.PROBLEM: "Khi chưa hiểu, khi có lỗi",
    RecordableGroup.NUMBER: "Số đếm (ghép thành số, ngày, giờ, mã)",
    RecordableGroup.WORD: "Từ ghép câu (đơn vị, trạng thái, tên xã)",
}
assert set(GROUP_VI) == set(RecordableGroup), "every group needs a label"

STATUS_VI: dict[str, str] = {
    Status.MISSING: "chưa ghi",
    Status.RECORDED: "đã ghi",
    Status.STALE: "cũ",
}
assert set(STATUS_VI) == set(Status), "every status needs a label"

SOURCE_VI = {"browser": "ghi bằng trình duyệt", "upload": "tải lên từ máy tính"}


def group_vi(group: str) -> str:
    return GROUP_VI.get(group, "Khác")
