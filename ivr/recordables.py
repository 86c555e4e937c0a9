"""Everything a voice talent can record for callers, as one list: the console's script sheet and studio.

A `Recordable` is a piece of speech callers hear, with the text to read, the group it is printed under
and where a caller hears it: the fixed prompts (`config/prompts.yaml`), then the intent catalog's answers,
follow-up questions and keypad menu lines (`ivr.topic_units`, keyed by intent id), then the fixed words of
the sentences filled at call time and the topics' titles said inside them (`ivr.template_units`), then the
recorded word bank (`ivr.word_bank`: numbers and words joined into sentences, under the bank's own groups).
A topic's sentence, title or template fragment is `strict`: callers hear its recording only while it was
read from the text in force.

`before`/`after` name other recordables played around this one when the studio plays a take "in
context" (a prompt after the greeting, a word inside a sample sentence).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ivr.flow.config import PROMPT_KEYS
from ivr.prompts import TONE_KEYS
from ivr.take_notes import text_digest
from ivr.template_units import TEMPLATE_USES, TemplateUnit
from ivr.topic_units import TopicKind, TopicUnit
from ivr.word_bank import BankUnit

__all__ = ["PROMPT_USES", "Recordable", "RecordableGroup", "recordables", "text_digest"]


class RecordableGroup(StrEnum):
    """The sections of the script sheet, in print order. Values are stored in take files: never rename."""

    GREETING = "greeting"
    MENU = "menu"
    ANSWER = "answer"
    FOLLOW_UP = "follow_up"
    CODE = "code"  # asking for and reading dossier, ticket and commune codes
    TRANSFER = "transfer"  # operators, teams, messages
    PROBLEM = "problem"  # not understood, errors, limits
    TOPIC_ANSWER = "topic_answer"  # intent catalog: answers, one per topic
    TOPIC_FOLLOW_UP = "topic_follow_up"  # intent catalog: questions asked after an answer
    KEYPAD_LINE = "keypad_line"  # intent catalog: the lines of the keypad menus
    TEMPLATE = "template"  # the fixed words of sentences filled at call time (config/prompts.yaml templates)
    TOPIC_TITLE = "topic_title"  # intent catalog: titles, said inside those sentences
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
    strict: bool = False  # played only while the recording was read from this text (topic sentences)

    @property
    def text_digest(self) -> str:
        """What a take stores of the text it was read from: a different digest later means 'stale'."""
        return text_digest(self.text)


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


_TOPIC_GROUPS = {
    TopicKind.ANSWER: RecordableGroup.TOPIC_ANSWER,
    TopicKind.FOLLOW_UP: RecordableGroup.TOPIC_FOLLOW_UP,
    TopicKind.MENU_LINE: RecordableGroup.KEYPAD_LINE,
    TopicKind.TITLE: RecordableGroup.TOPIC_TITLE,
}


def _topic_usage(unit: TopicUnit) -> str:
    if unit.kind == TopicKind.ANSWER:
        return f"Khi người gọi hỏi về {unit.topic}"
    if unit.kind == TopicKind.FOLLOW_UP:
        return f"Sau câu trả lời về {unit.topic}: hỏi tiếp người gọi"
    if unit.kind == TopicKind.TITLE:
        return (
            "Trong câu hỏi lại khi chưa rõ chủ đề (“Anh chị muốn hỏi về …, hay về …?”) "
            "và trong danh sách phím tự tạo"
        )
    if unit.key == "phim_mo_dau":
        return "Đầu danh sách phím chính, trước các dòng chọn"
    if unit.key == "phim_chung":
        return "Cuối mỗi danh sách phím: nhắc phím sao và phím không"
    if unit.key.startswith("phim_trang_"):
        return f"Cả danh sách phím: {unit.topic}"
    if unit.key.startswith("phim_nhom_"):
        return f"Trong danh sách phím chính: mở nhóm {unit.topic}"
    return f"Trong danh sách phím: chọn chủ đề {unit.topic}"


def topic_recordables(units: Iterable[TopicUnit]) -> list[Recordable]:
    """The catalog's answers, follow-ups and menu lines, each heard in context where a caller hears it."""
    out = []
    for u in units:
        before: tuple[str, ...]
        after: tuple[str, ...]
        if u.kind == TopicKind.ANSWER:
            before, after = (), ("anything_else",)
        elif u.kind == TopicKind.FOLLOW_UP:
            before, after = (f"tl_{u.intent}",), ()
        elif u.kind == TopicKind.TITLE:  # as in "Anh chị muốn hỏi về <title>, hay về ..."
            before, after = ("mau_clarify_1",), ("mau_clarify_2",)
        else:
            before, after = ("keypad_menu_intro",), ()
        out.append(
            Recordable(u.key, u.text, _TOPIC_GROUPS[u.kind], _topic_usage(u), before, after, strict=True)
        )
    return out


def template_recordables(
    units: Iterable[TemplateUnit], describe: Callable[[str, str], str] | None = None
) -> list[Recordable]:
    """The templates' fixed fragments; the usage shows the whole sentence, its blanks written by `describe`
    ((template name, text) -> the sentence as shown; the console names the blanks in Vietnamese)."""
    out = []
    for u in units:
        sentence = describe(u.template, u.sentence) if describe else u.sentence
        where = TEMPLATE_USES.get(u.template, "Trong câu ghép lúc gọi")
        out.append(
            Recordable(u.key, u.text, RecordableGroup.TEMPLATE, f"{where}. Cả câu: “{sentence}”", strict=True)
        )
    return out


def bank_recordables(units: Iterable[BankUnit]) -> list[Recordable]:
    """Word bank units as recordables; their group is the bank's own Vietnamese title (after the prompts)."""
    return [Recordable(u.key, u.text, u.group, u.usage) for u in units]


def recordables(
    texts: Mapping[str, str],
    bank: Iterable[BankUnit] = (),
    topics: Iterable[TopicUnit] = (),
    templates: Iterable[TemplateUnit] = (),
    describe_template: Callable[[str, str], str] | None = None,
) -> list[Recordable]:
    """Everything to record, grouped in print order (stable within a group): prompts, the catalog's
    sentences (answers, follow-ups, menu lines), the templates' fixed words and the titles, then the bank."""
    items = (
        prompt_recordables(texts)
        + topic_recordables(topics)
        + template_recordables(templates, describe_template)
        + bank_recordables(bank)
    )
    order = {str(g): i for i, g in enumerate(RecordableGroup)}
    return sorted(items, key=lambda r: order.get(str(r.group), len(order)))
