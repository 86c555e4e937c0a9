"""The call's outcome, derived in one place from what the call got (`ivr.flow.outcome`)."""

from __future__ import annotations

import pytest

from ivr import flow as F
from ivr.enums import Outcome
from ivr.flow.outcome import ENDINGS, SERVICES, OutcomeTracker

from .test_flow import Sim, of


def test_nothing_happened_is_a_hang_up_before_the_answer():
    assert OutcomeTracker().outcome is Outcome.HUNG_UP_BEFORE_ANSWER


def test_an_answer_counts_once_said_to_the_end():
    t = OutcomeTracker()
    t.started(Outcome.ANSWERED_SPEECH)
    assert t.outcome is Outcome.HUNG_UP_DURING_ANSWER
    assert t.delivered() is Outcome.ANSWERED_SPEECH
    assert t.outcome is Outcome.ANSWERED_SPEECH


def test_an_answer_cut_short_is_not_delivered():
    t = OutcomeTracker()
    t.started(Outcome.ANSWERED_KEYPAD)
    t.dropped()
    assert t.delivered() is None and t.outcome is Outcome.HUNG_UP_BEFORE_ANSWER


def test_the_radio_counts_as_soon_as_it_plays():
    t = OutcomeTracker()
    t.started(Outcome.RADIO)
    assert t.outcome is Outcome.RADIO


def test_the_most_telling_service_wins_whatever_the_order():
    for later in SERVICES:
        t = OutcomeTracker()
        t.delivered(Outcome.TICKET)
        t.delivered(later)
        expected = later if SERVICES.index(later) < SERVICES.index(Outcome.TICKET) else Outcome.TICKET
        assert t.outcome is expected, later


def test_a_service_outranks_how_the_call_ended():
    for how in ENDINGS:
        t = OutcomeTracker()
        t.ended(how)
        assert t.outcome is how
        t.delivered(Outcome.DOSSIER)
        assert t.outcome is Outcome.DOSSIER


def test_only_services_and_endings_are_accepted():
    with pytest.raises(AssertionError):
        OutcomeTracker().started(Outcome.TOO_LONG)
    with pytest.raises(AssertionError):
        OutcomeTracker().ended(Outcome.ANSWERED_SPEECH)


def test_the_old_values_are_never_written():
    written = set(SERVICES) | set(ENDINGS) | {Outcome.HUNG_UP_BEFORE_ANSWER, Outcome.HUNG_UP_DURING_ANSWER}
    assert not written & {Outcome.ANSWERED, Outcome.ABANDONED, Outcome.CALLBACK, Outcome.IN_PROGRESS}


# --- through the call flow -----------------------------------------------------------------------


def hang_up(s: Sim) -> Outcome:
    s.send(F.Hangup())
    return s.flow.outcome


def test_hanging_up_after_an_answer_keeps_the_answer():
    s = Sim()
    s.start()
    s.say("làm căn cước")
    s.finish_all()  # answer and "anything else?" said
    assert hang_up(s) is Outcome.ANSWERED_SPEECH


def test_hanging_up_during_the_answer():
    s = Sim()
    s.start()
    s.key("1")
    assert hang_up(s) is Outcome.HUNG_UP_DURING_ANSWER


def test_keyed_answer_and_a_dossier_read_to_the_end():
    s = Sim()
    s.start()
    s.key("1")
    s.finish_all()
    s.key("4")
    s.finish_all()
    s.key("7")
    s.key("#")
    s.send(F.DossierResult("7", True, "giấy phép", "đã xong", "hôm nay"))
    assert s.flow.outcome is Outcome.ANSWERED_KEYPAD  # the dossier is still being read
    s.finish_all()
    assert hang_up(s) is Outcome.DOSSIER


def test_a_transfer_answered_then_the_caller_hangs_up():
    s = Sim(operator_endpoint="PJSIP/op")
    s.start()
    s.key("0")
    s.finish_all()
    s.send(F.TransferResult(answered=True))
    assert hang_up(s) is Outcome.TRANSFERRED


def test_a_message_left_when_nobody_answered():
    s = Sim(operator_endpoint="PJSIP/op")
    s.start()
    s.key("0")
    s.finish_all()
    s.send(F.TransferResult(answered=False))
    s.finish_all()
    rec = of(s.log, F.StartRecording)[-1]
    s.send(F.RecordingFinished(rec.name, 5000))
    s.send(F.TicketCreated("120001"))
    assert hang_up(s) is Outcome.MESSAGE_LEFT


def test_not_understood_to_the_end_of_the_ladder():
    s = Sim()  # no operators: the ladder ends with goodbye
    s.start()
    s.say("gì đó")
    s.finish_all()
    for _ in range(10):  # then the keypad menu: keys that choose nothing
        if of(s.log, F.HangUp):
            break
        s.key("9")
        s.finish_all()
    assert of(s.log, F.HangUp) == [F.HangUp(Outcome.NOT_UNDERSTOOD)]
