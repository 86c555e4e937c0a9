"""The 1-5 rating: asked once a call, right after the first service delivered, skippable."""

from __future__ import annotations

from ivr import flow as F
from ivr.enums import TurnAction

from .test_flow import Sim, keys, of, texts, turns


def rated_sim(**cfg) -> Sim:
    s = Sim(rating=True, **cfg)
    s.start()
    return s


def asked(s: Sim) -> int:
    return sum(1 for t in turns(s) if t.action == TurnAction.RATING_ASKED)


def test_asked_after_the_answer_then_the_follow_up():
    s = rated_sim()
    s.key("2")
    s.key("1")  # an answer with a follow-up question
    out = s.finish()
    assert keys(out) == ["rating_ask"] and s.flow.state is F.State.RATING and asked(s) == 1
    s.finish()
    out = s.key("5")
    assert of(out, F.SetSatisfaction) == [F.SetSatisfaction(5)]
    assert keys(out) == ["rating_thanks"] and texts(out) == ["Anh chị cần gì thêm?"]
    assert [t for t in turns(s) if t.action == "rating"][0].dtmf == "5"
    s.finish_all()
    assert s.flow.state is F.State.MAIN and s.flow.listening


def test_asked_once_a_call():
    s = rated_sim()
    s.key("1")
    s.finish_all()
    assert keys(s.key("#")) == ["anything_else"]  # skipped
    s.finish_all()
    s.key("3")
    s.finish_all()
    rec = of(s.log, F.StartRecording)[-1]
    s.send(F.RecordingFinished(rec.name, 5000))
    s.send(F.TicketCreated("120001"))
    s.finish_all()  # the complaint recorded: a service, but the rating was asked already
    assert asked(s) == 1 and s.flow.state is F.State.MAIN and s.flow.satisfaction is None


def test_after_a_lookup_a_complaint_and_the_radio():
    s = rated_sim()
    s.key("4")
    s.finish_all()
    s.key("7")
    s.key("#")
    s.send(F.DossierResult("7", True, "giấy phép", "đã xong", "hôm nay"))
    assert "rating_ask" in keys(s.finish_all())
    s = rated_sim()
    s.key("3")
    s.finish_all()
    rec = of(s.log, F.StartRecording)[-1]
    s.send(F.RecordingFinished(rec.name, 5000))
    s.send(F.TicketCreated("120001"))
    assert "rating_ask" in keys(s.finish_all())
    s = rated_sim()
    s.key("6")
    s.finish_all()
    s.key("1")
    s.key("#")
    s.send(F.RadioResult("1", "/srv/radio/1.mp3"))
    assert s.flow.outcome == "radio" and "rating_ask" in keys(s.finish_all())


def test_not_asked_when_the_person_wanted_was_not_reached_or_nothing_was_found():
    s = rated_sim(operator_endpoint="PJSIP/op")
    s.key("0")
    s.finish_all()
    s.send(F.TransferResult(answered=False))
    s.finish_all()
    rec = of(s.log, F.StartRecording)[-1]
    s.send(F.RecordingFinished(rec.name, 5000))
    s.send(F.TicketCreated("120001"))
    s.finish_all()
    s.key("4")
    s.finish_all()
    s.key("7")
    s.key("#")
    s.send(F.DossierResult("7", False))
    s.finish_all()
    assert asked(s) == 0 and "rating_ask" not in keys(s.log)


def test_silence_skips_it():
    s = rated_sim()
    s.key("1")
    s.finish_all()
    out = s.advance(7000)
    assert keys(out) == ["anything_else"] and s.flow.satisfaction is None
    assert not any(t.action == "fail:no_input" for t in turns(s))  # skipping is no failed attempt


def test_star_asks_again_and_a_said_score_counts():
    s = rated_sim()
    s.key("1")
    s.finish_all()
    assert keys(s.key("*")) == ["rating_ask"] and asked(s) == 1
    s.finish_all()
    out = s.say("bốn")
    assert of(out, F.SetSatisfaction) == [F.SetSatisfaction(4)]
    rating = [t for t in turns(s) if t.action == "rating"][0]
    assert (rating.kind, rating.transcript, rating.dtmf) == ("speech", "bốn", "4")


def test_a_menu_key_instead_skips_it_and_chooses():
    s = rated_sim(operator_endpoint="PJSIP/op")
    s.key("1")
    s.finish_all()
    assert keys(s.key("0")) == ["transfer"] and s.flow.satisfaction is None


def test_another_question_said_instead_is_answered():
    s = rated_sim()
    s.key("1")
    s.finish_all()
    out = s.say("tra hồ sơ")
    assert keys(out) == ["dossier_ask"] and s.flow.satisfaction is None


def test_hanging_up_during_the_question_keeps_the_service():
    s = rated_sim()
    s.say("làm căn cước")
    s.finish()
    s.send(F.Hangup())
    assert s.flow.outcome == "answered_speech" and asked(s) == 1


def test_turned_off_by_configuration():
    s = Sim(rating=False)
    s.start()
    s.key("1")
    assert keys(s.finish_all()) == ["anything_else"] and asked(s) == 0
