"""The review queue's rules: what enters, once per call, and calls that fell back after a failure."""

from __future__ import annotations

from ivr.enums import TurnAction, TurnKind, failed
from ivr.flow import Turn
from ivr.review_rules import CallReview, ReviewReason

CLOSE = [("coach", 0.71), ("fishing", 0.66)]  # 0.05 apart
CLEAR = [("coach", 0.90), ("fishing", 0.40)]


def speech(text: str, intent: str | None = None, action: str | None = None) -> Turn:
    return Turn(kind=TurnKind.SPEECH, transcript=text, intent=intent, action=action)


def fail(reason: str = "not_understood") -> Turn:
    return Turn(kind=TurnKind.SYSTEM, action=failed(reason))


def test_not_understood_clarify_and_low_margin_enter_a_clear_match_does_not():
    rules: CallReview[str] = CallReview(low_margin=0.10)
    lost = rules.turn(1, speech("nuôi con kiểu do thái"), [("coach", 0.3)], "audio-1")
    assert lost is not None and lost.reason is ReviewReason.NOT_UNDERSTOOD
    assert (lost.seq, lost.transcript, lost.audio, lost.guesses) == (
        1,
        "nuôi con kiểu do thái",
        "audio-1",
        [("coach", 0.3)],
    )
    asked = rules.turn(3, speech("huấn luyện cá", "coach", TurnAction.CLARIFY), CLOSE)
    assert asked is not None and asked.reason is ReviewReason.CLARIFY
    close = rules.turn(5, speech("làm huấn luyện viên", "coach"), CLOSE)
    assert close is not None and close.reason is ReviewReason.LOW_MARGIN
    assert rules.turn(7, speech("muốn làm huấn luyện viên", "coach"), CLEAR) is None


def test_the_flows_own_not_understood_action_on_a_speech_turn_counts_too():
    rules: CallReview[str] = CallReview(low_margin=0.10)
    item = rules.turn(1, speech("ờ thì", None, failed("not_understood")), [])
    assert item is not None and item.reason is ReviewReason.NOT_UNDERSTOOD


def test_the_same_words_twice_in_a_call_enter_once_but_again_in_another_call():
    rules: CallReview[str] = CallReview(low_margin=0.10)
    assert rules.turn(1, speech("Nuôi con  kiểu Do Thái"), []) is not None
    assert rules.turn(3, speech("nuôi con kiểu do thái "), []) is None
    assert rules.turn(5, speech("một câu khác"), []) is not None
    assert CallReview(0.10).turn(1, speech("nuôi con kiểu do thái"), []) is not None


def test_empty_transcripts_and_other_turns_never_enter():
    rules: CallReview[str] = CallReview(low_margin=0.10)
    assert rules.turn(1, speech("   "), []) is None
    assert (
        rules.turn(2, Turn(kind=TurnKind.DTMF, dtmf="3", intent="fishing"), []) is None
    )  # no failure before
    assert rules.turn(3, Turn(kind=TurnKind.DTMF, dtmf="*", action=TurnAction.REPLAY), []) is None


def test_a_call_that_falls_back_to_the_keypad_after_silence_enters_once():
    rules: CallReview[str] = CallReview(low_margin=0.10)
    assert rules.turn(1, fail("no_input"), []) is None
    item = rules.turn(2, Turn(kind=TurnKind.DTMF, dtmf="3", intent="fishing"), [])
    assert item is not None and item.reason is ReviewReason.FALLBACK and item.transcript == ""
    assert rules.turn(3, fail("no_input"), []) is None
    assert rules.turn(4, Turn(kind=TurnKind.DTMF, dtmf="0", action=TurnAction.TRANSFER), []) is None


def test_a_fallback_after_words_already_queued_adds_nothing():
    rules: CallReview[str] = CallReview(low_margin=0.10)
    assert rules.turn(1, speech("nuôi con kiểu do thái"), [], "a") is not None
    assert rules.turn(2, fail(), []) is None
    assert rules.turn(3, Turn(kind=TurnKind.DTMF, dtmf="0", action=TurnAction.TRANSFER), []) is None


def test_an_understood_answer_after_a_failure_is_not_a_fallback():
    rules: CallReview[str] = CallReview(low_margin=0.10)
    assert rules.turn(1, fail("no_input"), []) is None
    assert rules.turn(2, speech("muốn làm huấn luyện viên", "coach"), CLEAR) is None
    assert rules.turn(3, Turn(kind=TurnKind.DTMF, dtmf="3", intent="fishing"), []) is None
