"""What the jobs page says about a background job: the task and its state in Vietnamese (never the task's
internal name), and what the job belongs to."""

from __future__ import annotations

from core.jobs import JobStatus

# Every task of every runner (hotline.jobs); a test finds a task without a label here.
TASK_VI: dict[str, str] = {
    "retention_purge": "Xóa dữ liệu cá nhân đã quá hạn lưu giữ",
    "radio_render": "Dựng chương trình truyền thanh",
    "ticket_transcribe": "Chép lời phản ánh từ bản ghi âm",
}

STATUS_VI: dict[JobStatus, str] = {
    JobStatus.QUEUED: "Đang chờ",
    JobStatus.RUNNING: "Đang chạy",
    JobStatus.SUCCEEDED: "Đã xong",
    JobStatus.FAILED: "Bị lỗi",
}

UNKNOWN_TASK_VI = "Công việc khác"
WHOLE_SYSTEM_VI = "Toàn hệ thống"
GONE_VI = "(không còn trong danh sách lượt dựng)"
TICKET_VI = "Phản ánh số {number}"
TICKET_GONE_VI = "(phản ánh đã bị xóa)"


def task_vi(name: str) -> str:
    return TASK_VI.get(name, UNKNOWN_TASK_VI)
