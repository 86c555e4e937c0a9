"""The matcher's reasons for a decision, worded in Vietnamese for the sentence tester.

The matcher returns codes with their values (`intents.matcher.Reason`); the console words them here, by
topic title, and leaves out what an operator cannot act on (the catalog file and line of an example).
"""

from __future__ import annotations

from collections.abc import Mapping

from intents.matcher import KeywordHow, Reason, Why

GONE_TOPIC_VI = "Chủ đề đã xóa"

KEYWORD_HOW_VI = {
    KeywordHow.EXACT: "",
    KeywordHow.SPLIT_WORD: "từ bị tách rời",
    KeywordHow.TONES_IGNORED: "không tính dấu thanh",
    KeywordHow.APPROXIMATE: "gần đúng chính tả",
}


def _num(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def _title(intent: str | None, titles: Mapping[str, str]) -> str:
    return titles.get(intent or "", GONE_TOPIC_VI)


def _keyword(phrase: str, weight: float, how: KeywordHow) -> str:
    note = KEYWORD_HOW_VI[how]
    return f"“{phrase}” ({_num(weight)}{', ' + note if note else ''})"


def reason_vi(reason: Reason, titles: Mapping[str, str]) -> str:
    """One reason in the operator's words; `titles` maps intent ids to topic titles."""
    match reason.code:
        case Why.NO_WORDS:
            return "Không có chữ nào để hiểu."
        case Why.ONLY_FILLERS:
            return "Chỉ có từ đệm (à, ừ, dạ, alo…), không có nội dung để hiểu."
        case Why.EXAMPLE:
            tones = " (khi không tính dấu thanh)" if reason.tones_ignored else ""
            return (
                f"Gần nhất với câu mẫu “{reason.example}” của chủ đề “{_title(reason.intent, titles)}”: "
                f"giống {_num(reason.value)}{tones}."
            )
        case Why.KEYWORDS:
            found = ", ".join(_keyword(k.phrase, k.weight, k.how) for k in reason.keywords)
            return f"Có từ khóa của chủ đề “{_title(reason.intent, titles)}”: {found}."
        case Why.RUNNER_UP:
            return f"Chủ đề gần thứ hai: “{_title(reason.intent, titles)}”, điểm {_num(reason.value)}."
        case Why.BELOW_THRESHOLD:
            return f"Điểm cao nhất dưới ngưỡng {_num(reason.value)}: coi như câu ngoài phạm vi tổng đài."
        case Why.WITHIN_MARGIN:
            return (
                f"Hai chủ đề đầu cách nhau chưa tới {_num(reason.value)} điểm: tổng đài sẽ hỏi lại người "
                "gọi muốn hỏi chủ đề nào."
            )
    raise AssertionError(f"no Vietnamese for the reason {reason.code}")
