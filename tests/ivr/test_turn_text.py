"""End of turn by words: what closes and what dangles is learnt from a catalog, and the verdict on a
transcript follows from it, the intent match and a code's length."""

from __future__ import annotations

import pytest

from intents.catalog import load_catalog
from intents.matcher import Matcher
from ivr.turn_text import Endings, Intent, TextTurnSettings, Verdict, WordsJudge, judge_transcript
from tests.conftest import FIXTURES

# Five topics whose requests end with "không", "đâu" or "nào"; "hồ" only ever starts "hồ sơ"; "xã" ends
# two requests but stands inside more of them; "gì" ends requests of one topic only.
EXAMPLES = [
    (topic, text)
    for topic in ("a", "b", "c", "d", "e")
    for text in (
        f"làm thẻ {topic} có được không",
        f"nộp hồ sơ {topic} ở đâu",
        f"hỏi về giấy của xã {topic} nào",
    )
] + [("f", "lên xã"), ("f", "về xã"), *[("g", f"giấy {n} là gì") for n in range(6)]]


def endings(**kw) -> Endings:
    return Endings.learn(EXAMPLES, lambda text: text.lower(), **kw)


def test_closing_words_are_those_ending_requests_of_many_topics_and_dangling_ones_never_end_any():
    e = endings(particles=["ạ", "nhé"])
    assert e.closing == {"không", "đâu", "nào", "ạ", "nhé"}  # "gì": the requests of one topic only
    assert {"hồ", "của", "về", "làm"} <= e.dangling
    assert "xã" not in e.closing and "xã" not in e.dangling  # ends two examples, inside five more
    assert "gì" not in e.dangling


@pytest.mark.parametrize(
    ("words", "verdict"),
    [
        ("cho tôi hỏi làm căn cước ở đâu", Verdict.COMPLETE),  # a closing word
        ("em hỏi cái này ạ", Verdict.COMPLETE),  # a closing particle of the dialect table
        ("tôi muốn nộp hồ", Verdict.INCOMPLETE),  # "hồ" of "hồ sơ": the caller has more to say
        ("tôi muốn hỏi về", Verdict.INCOMPLETE),
        ("tôi muốn hỏi thủ tục", Verdict.UNSURE),  # nothing tells: the shorter timer
        ("", Verdict.UNSURE),
    ],
)
def test_the_last_word_decides_when_no_intent_is_clear(words, verdict):
    assert judge_transcript(words, endings(particles=["ạ"])) is verdict


def test_a_clear_intent_ends_the_turn_unless_the_last_word_dangles():
    e = endings()
    clear = Intent(score=0.95, margin=0.4, clear=True)
    assert judge_transcript("đăng ký kết hôn", e, clear) is Verdict.COMPLETE
    assert judge_transcript("đăng ký kết hôn ở ủy ban của", e, clear) is Verdict.INCOMPLETE
    s = TextTurnSettings(intent_score=0.9, intent_margin=0.3)
    for weak in (Intent(0.85, 0.4, True), Intent(0.95, 0.2, True), Intent(0.95, 0.4, False)):
        assert judge_transcript("đăng ký kết hôn", e, weak, settings=s) is Verdict.UNSURE


def test_a_code_is_complete_once_it_has_its_digits():
    e = endings()
    assert judge_transcript("một hai ba", e, code_digits=6) is Verdict.INCOMPLETE
    assert judge_transcript("một hai ba bốn năm sáu", e, code_digits=6) is Verdict.COMPLETE
    assert judge_transcript("mã 123 456", e, code_digits=6) is Verdict.COMPLETE


def test_with_a_real_catalog_and_matcher_a_clear_request_ends_and_a_cut_one_does_not():
    matcher = Matcher(load_catalog(FIXTURES / "ivr" / "intents"))
    judge = WordsJudge(lambda: matcher)
    assert judge("anh chỉ muốn được nhìn nhận như là một huấn luyện viên") is Verdict.COMPLETE
    assert judge("anh chỉ muốn được nhìn nhận như là một huấn") is Verdict.INCOMPLETE  # "huấn luyện viên"
    assert judge("trong phòng rất tù mù") is Verdict.UNSURE  # no topic of this catalog
    first = judge.endings(matcher)
    assert judge.endings(matcher) is first  # learnt once per catalog
    other = Matcher(load_catalog(FIXTURES / "ivr" / "intents"))
    assert judge.endings(other) is not first  # a reloaded catalog is learnt again
    assert WordsJudge(lambda: None)("anh chỉ muốn") is Verdict.UNSURE  # no catalog yet


def test_a_transcript_ending_as_a_catalog_example_ends_is_complete():
    e = endings(tail_words=2)
    assert ("ở", "đâu") in e.tails and ("xã", "f") not in e.tails and ("lên", "xã") in e.tails
    assert judge_transcript("anh muốn hỏi nộp hồ sơ ở đâu", e) is Verdict.COMPLETE
    assert judge_transcript("cho em hỏi về chuyện lên xã", e) is Verdict.COMPLETE  # "lên xã" ends one
    assert judge_transcript("cho em hỏi giấy của", e) is Verdict.INCOMPLETE  # a dangling word still waits
    assert judge_transcript("em ra xã", e) is Verdict.UNSURE  # "ra xã" ends no example
    assert judge_transcript("lên xã", endings()) is Verdict.UNSURE  # tails off: the last word alone
    one_word = Endings.learn([*EXAMPLES, ("h", "có")], lambda text: text.lower(), tail_words=3)
    assert judge_transcript("tôi có", one_word) is Verdict.UNSURE  # a one-word example is no ending


def test_with_the_real_catalog_the_example_ending_ends_a_request_the_intent_score_leaves_unsure():
    """Over the phone the recognizer hears the `coach` question as "... đi làm một huấn luyện viên" (score
    0.84, under 0.9): its ending is an example's, so the turn ends at the short pause."""
    matcher = Matcher(load_catalog(FIXTURES / "ivr" / "intents"))
    heard = "mình chỉ muốn được nhìn nhận đi làm một huấn luyện viên"
    assert WordsJudge(lambda: matcher)(heard) is Verdict.UNSURE
    by_ending = WordsJudge(lambda: matcher, TextTurnSettings(tail_words=3))
    assert by_ending(heard) is Verdict.COMPLETE
    assert by_ending("mình chỉ muốn được nhìn nhận đi làm một huấn") is Verdict.INCOMPLETE


def test_words_that_an_example_goes_on_after_leave_a_whole_request_to_the_timer():
    """The words "… logic tương tự" are a whole example and also the middle of a longer one: neither the
    example ending nor a clear intent may end the turn there, only the timer; a closing word still does."""
    examples = [
        ("feedback", "chúng ta có thể áp dụng logic tương tự"),
        ("feedback", "áp dụng logic tương tự với người khác"),
        ("coach", "muốn làm huấn luyện viên"),
        ("coach", "được nhìn nhận là huấn luyện viên"),
        ("coach", "huấn luyện viên giỏi"),
    ]
    plain = Endings.learn(examples, str.lower, tail_words=3)
    held = Endings.learn(examples, str.lower, tail_words=3, continue_words=2)
    assert ("tương", "tự") in held.continuing and ("người", "khác") not in held.continuing
    assert ("luyện", "viên") not in held.continuing  # goes on in 1 of the 3 examples holding it
    clear = Intent(score=0.97, margin=0.6, clear=True)
    cut = "chúng ta có thể áp dụng logic tương tự"
    assert judge_transcript(cut, plain, clear) is Verdict.COMPLETE  # the old rule: cut off here
    assert judge_transcript(cut, held, clear) is Verdict.UNSURE
    assert judge_transcript(f"{cut} với người khác", held, clear) is Verdict.COMPLETE
    assert judge_transcript("tôi muốn làm huấn luyện viên", held) is Verdict.COMPLETE
    assert judge_transcript(f"{cut} ạ", Endings.learn(examples, str.lower, ["ạ"], 3, 2)) is Verdict.COMPLETE


def test_with_the_real_catalog_a_request_said_halfway_waits_and_the_whole_one_does_not():
    matcher = Matcher(load_catalog(FIXTURES / "ivr" / "intents"))
    judge = WordsJudge(lambda: matcher, TextTurnSettings(tail_words=3, continue_words=2))
    assert judge("chúng ta có thể áp dụng logic tương tự") is Verdict.UNSURE
    assert judge("chúng ta có thể áp dụng logic tương tự với người khác") is Verdict.COMPLETE
    assert judge("bạn cầm khúc cây và ném vào bãi cỏ") is Verdict.UNSURE  # "… bãi cỏ xanh" goes on
    assert judge("mình chỉ muốn được nhìn nhận đi làm một huấn luyện viên") is Verdict.COMPLETE
    old = WordsJudge(lambda: matcher, TextTurnSettings(tail_words=3))
    assert old("chúng ta có thể áp dụng logic tương tự") is Verdict.COMPLETE
