"""What a call flow is configured with: timing knobs, sentence templates, the fixed prompt keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FlowConfig:
    """Timing and behaviour knobs (from `ivr:` settings)."""

    recording_notice: bool = True
    no_input_ms: int = 7000  # silence after a prompt before it counts as a failed attempt
    max_attempts: int = 2  # failed attempts before the keypad menu; one more -> operator or goodbye
    digit_timeout_ms: int = 4000  # pause after the last key of a code that ends the entry
    menu_digit_timeout_ms: int = 2000  # pause after a submenu key before the submenu is read
    max_code_digits: int = 20
    feedback_max_seconds: int = 120
    feedback_min_ms: int = 800  # shorter recordings count as empty
    operator_endpoint: str = ""  # empty (and no duty rota): no operator; callers leave a message instead
    duty_rota: bool = False  # a duty rota names who rings when it rings (operator_endpoint: outside it)
    transfer_timeout_s: int = 25
    rating: bool = True  # 1-5 satisfaction rating, once a call, after the first service delivered
    max_call_ms: int = 30 * 60 * 1000
    barge_in: bool = True
    teams: Mapping[str, str] = field(default_factory=dict)  # commune code -> its digital team's Dial string

    @property
    def has_operators(self) -> bool:
        """Someone may take a transfer (at some hours, with a rota): offer it."""
        return bool(self.operator_endpoint) or self.duty_rota


@dataclass(frozen=True)
class Texts:
    """Templates for dynamic sentences (from config/prompts.yaml `templates:`)."""

    clarify: str = "Anh chị muốn hỏi về {a}, hay về {b}? Bấm phím 1 cho {a}, phím 2 cho {b}."
    menu_item: str = "Bấm phím {digit}: {title}."
    menu_more: str = "Bấm phím {digit}: các dịch vụ khác."
    menu_tail: str = "Bấm phím sao để nghe lại, bấm phím không để gặp cán bộ tổng đài."
    ticket_number: str = "Mã số phiếu của anh chị là: {digits}. Xin nhắc lại: {digits}."
    dossier_found: str = "Hồ sơ {title}, mã {digits}: {status}. Cập nhật {updated}."
    dossier_not_found: str = "Không tìm thấy hồ sơ mã {digits}."
    ticket_status: str = "Phiếu số {digits}: {status}."
    ticket_reply: str = "Trả lời của cán bộ: {note}"
    ticket_not_found: str = "Không tìm thấy phiếu số {digits}."
    team_connect: str = (
        "Tôi đang nối máy tới tổ công nghệ số cộng đồng {commune}. Xin anh chị chờ trong giây lát."
    )
    team_none: str = "{commune} chưa có tổ công nghệ số cộng đồng nhận cuộc gọi qua tổng đài."
    ticket_reply_elsewhere: str = (
        "Phiếu đã có trả lời của cán bộ. Để nghe nội dung, xin gọi từ số điện thoại đã gửi phản ánh, "
        "hoặc bấm phím không để gặp cán bộ."
    )
    ticket_locked: str = (
        "Anh chị đã nhập sai số phiếu nhiều lần. Xin thử lại sau, hoặc bấm phím không để gặp cán bộ."
    )

    @classmethod
    def from_mapping(cls, data: Mapping[str, str]) -> Texts:
        known = {k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


# Keys of the fixed prompts the flow uses (texts in config/prompts.yaml). The order numbers them for
# re-recording by phone (`ivr.prompt_admin.prompt_number`): append, never reorder.
PROMPT_KEYS = (
    "recording_notice",
    "greeting",
    "speak_or_press",
    "not_understood",
    "no_input",
    "keypad_menu_intro",
    "invalid_key",
    "anything_else",
    "transfer",
    "operator_unavailable",
    "feedback_intro",
    "beep",
    "feedback_empty",
    "feedback_saved",
    "feedback_failed",
    "dossier_ask",
    "ticket_ask",
    "radio_ask",
    "radio_unavailable",
    "rating_ask",
    "rating_thanks",
    "goodbye",
    "system_error",
    "call_too_long",
    "please_wait",
    "callback_saved",
    "callback_withheld",
    "team_ask",
    "team_not_found",
    "team_unavailable",
    "team_offer_operator",
    "feedback_kept",
    "emergency_intro",
)
