"""The call application's own readiness: connected to Asterisk, speech engines and intents loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.health import Check

if TYPE_CHECKING:
    from ivr.app import Hotline

STARTING = "Ứng dụng tổng đài đang khởi động"


def application_checks(app: Hotline | None) -> dict[str, Check]:
    """`ari` and `engines` for a running application (None: not started yet). Reads only flags the
    application's loop sets, so another thread (the web app's) may call it."""
    if app is None:
        return {"ari": Check(False, STARTING), "engines": Check(False, STARTING)}
    s = app.s
    if s.ari.connected.is_set():
        ari = Check(True, "Đã kết nối với Asterisk")
    else:
        ari = Check(False, "Mất kết nối với Asterisk: cuộc gọi mới không được trả lời")
    return {"ari": ari, "engines": _engines(app)}


def _engines(app: Hotline) -> Check:
    s = app.s
    missing = []
    if s.recognizer is None:
        missing.append("không có nhận dạng giọng nói")
    elif not app.asr_loaded:
        missing.append("mô hình nhận dạng giọng nói chưa nạp xong")
    if getattr(s.prompts, "synth", None) is None:
        missing.append("không có tổng hợp giọng nói")
    if s.understanding.current()[0] is None:
        missing.append("chưa nạp được danh mục câu hỏi")
    if missing:
        return Check(False, "Người gọi chỉ dùng được bàn phím: " + ", ".join(missing))
    return Check(True, "Đã nạp nhận dạng, tổng hợp giọng nói và danh mục câu hỏi")
