"""The recording studio's words: script-sheet groups and recording statuses as operators read them."""

from __future__ import annotations

from console.edit.studio import Status
from console.labels import prompt_label
from ivr.flow.config import PROMPT_KEYS
from ivr.recordables import Recordable, RecordableGroup

GROUP_VI: dict[str, str] = {
    RecordableGroup.GREETING: "Lời chào, mở đầu cuộc gọi",
    RecordableGroup.MENU: "Bàn phím, danh sách chọn",
    RecordableGroup.ANSWER: "Trả lời, phản ánh, hẹn gọi lại",
    RecordableGroup.FOLLOW_UP: "Hỏi tiếp, kết thúc cuộc gọi",
    RecordableGroup.CODE: "Tra cứu hồ sơ, phiếu, bản tin xã",
    RecordableGroup.TRANSFER: "Chuyển máy, tổ công nghệ số",
    RecordableGroup.PROBLEM: "Khi chưa hiểu, khi có lỗi",
    RecordableGroup.TOPIC_ANSWER: "Câu trả lời theo chủ đề",
    RecordableGroup.TOPIC_FOLLOW_UP: "Câu hỏi tiếp sau câu trả lời",
    RecordableGroup.KEYPAD_LINE: "Các dòng của danh sách phím",
    RecordableGroup.TEMPLATE: "Phần cố định của câu ghép lúc gọi (số phiếu, hồ sơ, câu hỏi lại)",
    RecordableGroup.TOPIC_TITLE: "Tên chủ đề (đọc trong câu hỏi lại khi chưa rõ chủ đề)",
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
    """A prompt group's title; a word bank group is already its Vietnamese title."""
    return GROUP_VI.get(group, group or "Khác")


TOPIC_LABELS: dict[str, str] = {
    RecordableGroup.TOPIC_ANSWER: "Câu trả lời",
    RecordableGroup.TOPIC_FOLLOW_UP: "Câu hỏi tiếp",
    RecordableGroup.KEYPAD_LINE: "Dòng danh sách phím",
}
QUOTED_LABELS: dict[str, str] = {  # pieces named by their words: a title, a template's fragment
    RecordableGroup.TOPIC_TITLE: "Tên chủ đề",
    RecordableGroup.TEMPLATE: "Phần câu ghép",
}


def item_label(item: Recordable) -> str:
    """How the sheet names a piece: a prompt's number operators know, a topic's sentence by its use, else
    the words of a bank unit."""
    if item.key in PROMPT_KEYS:
        return prompt_label(item.key)
    quoted = QUOTED_LABELS.get(str(item.group))
    if quoted is not None:
        return f"{quoted} “{item.text}”"
    kind = TOPIC_LABELS.get(str(item.group))
    if kind is not None:
        return f"{kind}: {item.usage[0].lower()}{item.usage[1:]}"
    return f"Từ “{item.text}”"
