"""Everything a voice talent can record for callers, as one list: the console's script sheet and studio.

A `Recordable` is a piece of speech callers hear, with the text to read, the group it is printed under
and where a caller hears it: the fixed prompts (`config/prompts.yaml`), then the recorded word bank
(`ivr.word_bank`: numbers and words joined into sentences, under the bank's own groups). Intent answers
are synthesized from their text at call time and cannot be replaced by a recording yet, so they are not
listed.

`before`/`after` name other recordables played around this one when the studio plays a take "in
context" (a prompt after the greeting, a word inside a sample sentence).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ivr.flow.config import PROMPT_KEYS
from ivr.prompts import TONE_KEYS
from ivr.word_bank import BankUnit


class RecordableGroup(StrEnum):
    """The sections of the script sheet, in print order. Values are stored in take files: never rename."""

    GREETING = "greeting"
    MENU = "menu"
    ANSWER = "answer"
    FOLLOW_UP = "follow_up"
    CODE = "code"  # asking for and reading dossier, ticket and commune codes
    TRANSFER = "transfer"  # operators, teams, messages
    PROBLEM = "problem"  # not understood, errors, limits
    NUMBER = "number"  # word bank: digits and number words
    WORD = "word"  # word bank: other words (units, dates, statuses, communes)


@dataclass(frozen=True)
class Recordable:
    """One piece to record: `key` names its file, `text` is what the talent reads."""

    key: str
    text: str
    group: RecordableGroup | str
    usage: str  # where a caller hears it, in Vietnamese, for the script sheet
    before: tuple[str, ...] = ()  # keys played before it in context (e.g. the greeting)
    after: tuple[str, ...] = ()

    @property
    def text_digest(self) -> str:
        """What a take stores of the text it was read from: a different digest later means 'stale'."""
        return text_digest(self.text)


def text_digest(text: str) -> str:
    """Digest of a text as read aloud: spacing does not count, anything else does."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]


# Prompt key -> (group, where a caller hears it). Every key of PROMPT_KEYS has one (a test checks).
PROMPT_USES: dict[str, tuple[RecordableGroup, str]] = {
    "recording_notice": (RecordableGroup.GREETING, "Đầu mỗi cuộc gọi, trước lời chào"),
    "greeting": (RecordableGroup.GREETING, "Lời chào đầu mỗi cuộc gọi"),
    "speak_or_press": (RecordableGroup.GREETING, "Sau lời chào: mời người gọi nói hoặc bấm phím"),
    "keypad_menu_intro": (RecordableGroup.MENU, "Trước danh sách phím của bàn phím"),
    "invalid_key": (RecordableGroup.MENU, "Khi người gọi bấm một phím không có trong danh sách"),
    "anything_else": (RecordableGroup.FOLLOW_UP, "Sau mỗi câu trả lời: hỏi người gọi còn cần gì nữa"),
    "please_wait": (RecordableGroup.FOLLOW_UP, "Khi tổng đài đang tra cứu, trước khi đọc kết quả"),
    "rating_ask": (RecordableGroup.FOLLOW_UP, "Cuối cuộc gọi: mời chấm điểm mức hài lòng"),
    "rating_thanks": (RecordableGroup.FOLLOW_UP, "Sau khi người gọi chấm điểm"),
    "goodbye": (RecordableGroup.FOLLOW_UP, "Lời chào kết thúc cuộc gọi"),
    "emergency_intro": (RecordableGroup.GREETING, "Sau lời chào, trước thông báo khẩn cấp đang phát"),
    "feedback_intro": (RecordableGroup.ANSWER, "Khi người gọi muốn phản ánh, trước tiếng bíp"),
    "beep": (RecordableGroup.ANSWER, "Tiếng bíp trước khi ghi âm lời phản ánh hoặc lời nhắn"),
    "feedback_empty": (RecordableGroup.ANSWER, "Khi không ghi được lời phản ánh nào"),
    "feedback_saved": (RecordableGroup.ANSWER, "Sau khi lưu lời phản ánh, trước số phiếu"),
    "feedback_failed": (RecordableGroup.ANSWER, "Khi hệ thống không lưu được lời phản ánh"),
    "feedback_kept": (RecordableGroup.ANSWER, "Khi lời phản ánh đã giữ lại nhưng chưa đọc được số phiếu"),
    "callback_saved": (RecordableGroup.ANSWER, "Khi tổng đài hẹn cán bộ gọi lại cho người gọi"),
    "callback_withheld": (RecordableGroup.ANSWER, "Khi số máy người gọi bị ẩn nên không hẹn gọi lại được"),
    "dossier_ask": (RecordableGroup.CODE, "Khi người gọi muốn tra cứu hồ sơ"),
    "ticket_ask": (RecordableGroup.CODE, "Khi người gọi muốn hỏi về phiếu phản ánh đã gửi"),
    "radio_ask": (RecordableGroup.CODE, "Khi người gọi muốn nghe bản tin của xã"),
    "radio_unavailable": (RecordableGroup.CODE, "Khi xã được chọn chưa có bản tin"),
    "transfer": (RecordableGroup.TRANSFER, "Trước khi chuyển máy tới cán bộ trực"),
    "operator_unavailable": (RecordableGroup.TRANSFER, "Khi không cán bộ nào nghe máy, trước tiếng bíp"),
    "team_ask": (RecordableGroup.TRANSFER, "Khi người gọi muốn gặp tổ công nghệ số cộng đồng"),
    "team_not_found": (RecordableGroup.TRANSFER, "Khi không tìm thấy xã, phường người gọi nói"),
    "team_unavailable": (RecordableGroup.TRANSFER, "Khi tổ công nghệ số không nghe máy, trước tiếng bíp"),
    "team_offer_operator": (RecordableGroup.TRANSFER, "Khi tổ công nghệ số không nhận cuộc gọi"),
    "not_understood": (RecordableGroup.PROBLEM, "Khi tổng đài chưa hiểu câu hỏi"),
    "no_input": (RecordableGroup.PROBLEM, "Khi người gọi im lặng"),
    "system_error": (RecordableGroup.PROBLEM, "Khi nhận dạng giọng nói gặp lỗi: chuyển sang bàn phím"),
    "call_too_long": (RecordableGroup.PROBLEM, "Khi cuộc gọi quá thời gian cho phép"),
}

# What a caller hears just before a prompt, for playback in context (most prompts follow the greeting's
# invitation or an answer; the greeting itself comes after the recording notice).
_BEFORE: dict[str, tuple[str, ...]] = {
    "recording_notice": (),
    "greeting": ("recording_notice",),
    "speak_or_press": ("greeting",),
    "beep": ("feedback_intro",),
}
_AFTER: dict[str, tuple[str, ...]] = {
    "recording_notice": ("greeting",),
    "feedback_intro": ("beep",),
    "operator_unavailable": ("beep",),
    "team_unavailable": ("beep",),
}


def prompt_recordables(texts: Mapping[str, str]) -> list[Recordable]:
    """The fixed prompts as recordables, in the order of PROMPT_KEYS (the numbers operators know)."""
    out = []
    for key in PROMPT_KEYS:
        group, usage = PROMPT_USES[key]
        text = texts.get(key, "")
        if key in TONE_KEYS and not text:
            text = "(tiếng bíp: một âm ngắn, không phải lời nói)"
        out.append(Recordable(key, text, group, usage, _BEFORE.get(key, ("greeting",)), _AFTER.get(key, ())))
    return out


def bank_recordables(units: Iterable[BankUnit]) -> list[Recordable]:
    """Word bank units as recordables; their group is the bank's own Vietnamese title (after the prompts)."""
    return [Recordable(u.key, u.text, u.group, u.usage) for u in units]


def recordables(texts: Mapping[str, str], bank: Iterable[BankUnit] = ()) -> list[Recordable]:
    """Everything to record, grouped in print order (stable within a group): prompts, then the bank."""
    items = prompt_recordables(texts) + bank_recordables(bank)
    order = {str(g): i for i, g in enumerate(RecordableGroup)}
    return sorted(items, key=lambda r: order.get(str(r.group), len(order)))
