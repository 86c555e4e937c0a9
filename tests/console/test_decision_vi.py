"""The sentence tester's reasons in Vietnamese: every reason code of the matcher has its wording."""

from __future__ import annotations

from console.decision_vi import GONE_TOPIC_VI, reason_vi
from intents.matcher import KeywordHit, KeywordHow, Reason, Why

TITLES = {"cccd": "thẻ căn cước", "vneid": "tài khoản định danh điện tử"}
ENGLISH = ("example", "similarity", "keywords", "runner", "threshold", "margin", "scope", "tones", ".yaml")


def sample(code: Why) -> Reason:
    hits = tuple(KeywordHit("căn cước", 0.8, how) for how in KeywordHow)
    return Reason(code, "cccd", 0.42, "làm căn cước ở đâu", "/srv/x/identity.yaml:12", True, hits)


def test_every_reason_code_reads_in_vietnamese_without_codes_or_files():
    for code in Why:
        text = reason_vi(sample(code), TITLES)
        assert text and not any(word in text.lower() for word in ENGLISH), (code, text)
        assert "cccd" not in text and "/srv" not in text, text


def test_reasons_name_topics_by_title_and_numbers_the_vietnamese_way():
    assert reason_vi(sample(Why.EXAMPLE), TITLES) == (
        "Gần nhất với câu mẫu “làm căn cước ở đâu” của chủ đề “thẻ căn cước”: giống 0,42 "
        "(khi không tính dấu thanh)."
    )
    keywords = reason_vi(sample(Why.KEYWORDS), TITLES)
    assert "“căn cước” (0,80)" in keywords and "“căn cước” (0,80, gần đúng chính tả)" in keywords
    assert reason_vi(Reason(Why.RUNNER_UP, "gone", 0.3), TITLES) == (
        f"Chủ đề gần thứ hai: “{GONE_TOPIC_VI}”, điểm 0,30."
    )
    assert "ngưỡng 0,50" in reason_vi(Reason(Why.BELOW_THRESHOLD, value=0.5), TITLES)
