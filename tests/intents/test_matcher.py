"""The matcher on the shipped catalog: dialect, recognizer errors, out of scope, bad input, clarify."""

from __future__ import annotations

import pytest

from intents.catalog import Catalog
from intents.matcher import KeywordHow, Matcher, Why
from intents.models import IntentSpec
from intents.settings import IntentSettings


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("alo cho tui hỏi làm căn cước ở mô rứa", "cccd"),  # dialect + fillers
        ("lam can cuoc o dau", "cccd"),  # no tones at all
        ("mất cảm cước thì làm sao", "cccd"),  # wrong tone on one syllable
        ("vê en ây đi không đăng nhập được", "vneid"),  # name read letter by letter
        ("cài ứng dụng vss id", "social_insurance"),  # name split by the recognizer
        ("con tôi 14 tuổi làm căn cước được chưa", "cccd"),  # digits
        ("cho tôi gặp người thật", "operator"),
        ("nói lại đi", "repeat"),
        ("thôi cảm ơn tạm biệt", "goodbye"),
        ("mở cửa hàng tạp hóa có phải đăng ký không", "business_registration"),  # not office hours
    ],
)
def test_matches(matcher, text, intent):
    d = matcher.match(text)
    assert d.intent == intent, d
    assert d.score >= IntentSettings().threshold


@pytest.mark.parametrize(
    "text",
    [
        "hôm nay trời có mưa không",
        "giá lợn hơi hôm nay bao nhiêu",
        "tối nay đội tuyển đá với ai",
        "今天天气怎么样",  # another script
        "Сколько стоит хлеб",
    ],
)
def test_out_of_scope_gets_no_intent(matcher, text):
    d = matcher.match(text)
    assert d.intent is None and not d.clarify
    assert Why.BELOW_THRESHOLD in [r.code for r in d.reasons]
    assert any("out of scope" in str(r) for r in d.reasons)


@pytest.mark.parametrize(
    ("text", "why"), [("", Why.NO_WORDS), ("   ", Why.NO_WORDS), ("à ừ dạ alo", Why.ONLY_FILLERS)]
)
def test_empty_and_filler_only(matcher, text, why):
    d = matcher.match(text)
    assert d.intent is None and d.score == 0.0 and [r.code for r in d.reasons] == [why]


def test_very_long_text_is_cut_not_refused(matcher):
    d = matcher.match("tôi muốn làm căn cước " + "và rất nhiều chuyện khác nữa " * 200)
    assert len(d.text) <= IntentSettings().max_text_chars
    assert d.intent == "cccd"


def test_reasons_name_the_example_file_and_line(matcher):
    d = matcher.match("đăng ký khai sinh cho con")
    assert d.intent == "birth_registration"
    example, keywords, runner_up = d.reasons
    assert example.code == Why.EXAMPLE and example.intent == "birth_registration"
    assert "civil_status.yaml:" in example.where and 0 < example.value <= 1
    assert keywords.code == Why.KEYWORDS and keywords.keywords[0].phrase == "khai sinh"
    assert keywords.keywords[0].how == KeywordHow.EXACT
    assert str(keywords).startswith("keywords: khai sinh") and "civil_status.yaml:" in str(example)
    assert d.runner_up and d.runner_up != d.intent and d.runner_up_score < d.score
    assert runner_up.code == Why.RUNNER_UP and runner_up.intent == d.runner_up
    # The machine-readable form keeps the codes and the values, and the English for people.
    data = d.to_dict()
    assert data["intent"] == "birth_registration"
    assert [r["code"] for r in data["reasons"]] == ["example", "keywords", "runner_up"]
    assert data["reasons"][1]["keywords"][0] == {"phrase": "khai sinh", "weight": 1.0, "how": "exact"}
    assert data["reasons"][2]["text"] == str(runner_up)


def _tiny_catalog(tmp_path) -> Catalog:
    common = {"answer": "Trả lời.", "title": "chủ đề"}
    return Catalog(
        directory=tmp_path,
        intents=(
            IntentSpec(id="a", examples=("nộp phí rác", "phí rác bao nhiêu", "tiền rác"), **common),
            IntentSpec(id="b", examples=("nộp phí nước", "phí nước bao nhiêu", "tiền nước"), **common),
        ),
    )


def test_margin_rule_asks_to_clarify(tmp_path):
    cat = _tiny_catalog(tmp_path)
    m = Matcher(cat, IntentSettings(threshold=0.3, margin=0.2))
    d = m.match("nộp phí")  # as close to both
    assert d.clarify and {d.intent, d.runner_up} == {"a", "b"}
    clear = m.match("phí rác bao nhiêu")
    assert clear.intent == "a" and not clear.clarify
    assert Matcher(cat, IntentSettings(threshold=0.3, margin=0.0)).match("nộp phí").clarify is False


def test_threshold_comes_from_settings(tmp_path):
    cat = _tiny_catalog(tmp_path)
    text = "nộp phí rác tháng này"
    assert Matcher(cat, IntentSettings(threshold=0.3)).match(text).intent == "a"
    strict = Matcher(cat, IntentSettings(threshold=0.99)).match(text)
    assert strict.intent is None and strict.candidate == "a"


def test_matcher_from_full_settings_uses_dialect_table(settings, catalog):
    m = Matcher(catalog, settings)
    assert m.match("làm căn cước ở mô").text == "làm căn cước ở đâu"
