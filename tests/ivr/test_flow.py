"""The pure call state machine, driven with a fake clock (no sleeping, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ivr import flow as F

MENU = [
    F.MenuItem("cccd", "căn cước công dân", answer="Làm căn cước ở công an xã.", digit="1"),
    F.MenuItem(
        "vneid",
        "tài khoản định danh",
        answer="Cài ứng dụng VNeID.",
        follow_up="Anh chị cần gì thêm?",
        digit="2.1",
    ),
    F.MenuItem("e_tax", "thuế điện tử", answer="Nộp thuế qua cổng thuế.", digit="2.2"),
    F.MenuItem("feedback", "phản ánh", digit="3", action="record_feedback"),
    F.MenuItem("dossier_status", "tra cứu hồ sơ", digit="4", action="lookup_dossier"),
    F.MenuItem("ticket", "tra cứu phiếu", digit="5", action="ticket_status"),
    F.MenuItem("radio", "đài phát thanh", digit="6", action="radio"),
    F.MenuItem("team", "tổ công nghệ số", digit="7", action="commune_team"),
    F.MenuItem("operator", "gặp cán bộ", action="transfer"),
    F.MenuItem("goodbye", "kết thúc", action="hangup"),
    F.MenuItem("repeat", "nghe lại", action="replay"),
]


@dataclass
class D:
    intent: str | None
    score: float = 0.9
    runner_up: str | None = None
    runner_up_score: float = 0.0
    clarify: bool = False


PHRASES = {
    "làm căn cước": D("cccd"),
    "tôi muốn phản ánh": D("feedback"),
    "tra hồ sơ": D("dossier_status"),
    "thuế hay định danh": D("e_tax", 0.7, "vneid", 0.68, True),
    "gặp người": D("operator"),
    "tạm biệt": D("goodbye"),
    "nói lại": D("repeat"),
    "gặp tổ công nghệ số xã anh sơn": D("team"),
    "gặp tổ công nghệ số": D("team"),
    "gặp tổ công nghệ số xã đô lương": D("team"),
}


def fake_match(text: str) -> D:
    return PHRASES.get(text, D(None, 0.1))


# A commune list as the radio side knows it: a code, or a name in a sentence (the real one is tested in
# tests/broadcast/test_phone.py).
COMMUNES = {"17329": "Xã Anh Sơn", "17662": "Xã Đô Lương"}


def fake_communes(text: str) -> tuple[str, str] | None:
    if text in COMMUNES:
        return text, COMMUNES[text]
    return next(((code, name) for code, name in COMMUNES.items() if name.lower()[3:] in text), None)


TEAMS = {"17329": "PJSIP/0912000111@trunk-vnpt&PJSIP/0912000222@trunk-vnpt"}


class Sim:
    """Feeds events with a fake clock; remembers every command; plays prompts 'instantly' on request."""

    def __init__(self, communes=fake_communes, **cfg):
        cfg.setdefault("teams", TEAMS)
        # The rating question after a service has its own tests (tests/ivr/test_flow_rating.py).
        cfg.setdefault("rating", False)
        self.flow = F.CallFlow(MENU, fake_match, F.FlowConfig(**cfg), communes=communes)
        self.now = 0
        self.log: list = []
        self.timers: dict[str, int] = {}

    def send(self, event):
        out = self.flow.handle(event, self.now)
        for c in out:
            if isinstance(c, F.SetTimer):
                self.timers[c.name] = c.at_ms
            elif isinstance(c, F.CancelTimer):
                self.timers.pop(c.name, None)
        self.log.extend(out)
        return out

    def playing(self) -> F.Play | None:
        item = self.flow.playing_item
        return item

    def finish(self, ok: bool = True, ms: int = 1000):
        """Let the current playback run to its end."""
        p = self.playing()
        assert p is not None, "nothing is playing"
        self.now += ms
        return self.send(F.PlaybackFinished(p.playback_id, ok))

    def finish_all(self, limit: int = 30):
        out = []
        for _ in range(limit):
            if self.playing() is None:
                return out
            out += self.finish()
        raise AssertionError("playback never ends")

    def advance(self, ms: int):
        """Move the clock and fire due timers in order."""
        target = self.now + ms
        out = []
        while True:
            due = sorted((at, n) for n, at in self.timers.items() if at <= target)
            if not due:
                break
            at, name = due[0]
            self.now = max(self.now, at)
            del self.timers[name]
            out += self.send(F.TimerFired(name))
        self.now = target
        return out

    def say(self, text: str, *, speech_ms: int = 1000, asr_ms: int = 50):
        out = self.send(F.SpeechStarted())
        self.now += speech_ms
        out += self.send(F.SpeechEnded())
        self.now += asr_ms
        out += self.send(F.AsrFinal(text, 0.9))
        return out

    def key(self, d: str):
        return self.send(F.Dtmf(d))

    def start(self, **kw):
        out = self.send(F.CallStarted("0912345678"))
        out += self.finish_all()
        return out


def plays(cmds):
    return [c for c in cmds if isinstance(c, F.Play)]


def keys(cmds):
    return [c.key for c in plays(cmds) if c.key]


def texts(cmds):
    return [c.text for c in plays(cmds) if c.text]


def of(cmds, cls):
    return [c for c in cmds if isinstance(c, cls)]


def turns(sim):
    return [c.turn for c in sim.log if isinstance(c, F.LogTurn)]


# --- intro ---------------------------------------------------------------------------------------


def test_intro_plays_notice_greeting_prompt_then_waits_for_input():
    s = Sim()
    out = s.send(F.CallStarted("0912345678"))
    assert keys(out) == ["recording_notice", "greeting", "speak_or_press"]
    assert of(out, F.Listen) == [F.Listen(True)]
    assert [p.barge_in for p in plays(out)] == [False, True, True]
    assert s.finish() == [] and s.playing().key == "greeting"
    assert s.finish() == [] and s.playing().key == "speak_or_press"
    out = s.finish()
    assert of(out, F.SetTimer) == [F.SetTimer("no_input", s.now + 7000)]
    assert s.flow.state is F.State.MAIN


def test_notice_can_be_turned_off():
    s = Sim(recording_notice=False)
    out = s.send(F.CallStarted("1"))
    assert keys(out) == ["greeting", "speak_or_press"]


def test_notice_cannot_be_skipped_by_speech_or_keys():
    s = Sim()
    s.send(F.CallStarted("1"))
    assert s.key("1") == []
    assert s.send(F.SpeechStarted()) == []
    assert s.playing().key == "recording_notice"


def test_max_call_duration_ends_politely():
    s = Sim(max_call_ms=60_000)
    s.start()
    out = s.advance(5000)
    out = s.say("làm căn cước")
    s.finish_all()
    out = s.advance(60_000)
    assert "call_too_long" in keys(out)
    s.finish_all()
    # The caller was answered before the limit: that is the call's outcome, not the limit.
    assert of(s.log, F.HangUp)[-1].outcome == "answered_speech"
    t = Sim(max_call_ms=60_000)
    t.start()
    t.advance(5000)
    t.key("2")  # a submenu, then nothing until the limit
    t.advance(60_000)
    t.finish_all()
    assert of(t.log, F.HangUp)[-1].outcome == "too_long"


def test_call_limit_while_recording_keeps_the_complaint_as_a_ticket():
    s = Sim(max_call_ms=60_000, feedback_max_seconds=120)
    s.start()
    s.key("3")
    s.finish_all()
    rec = of(s.log, F.StartRecording)[0]
    out = s.advance(60_000)
    assert of(out, F.StopRecording) == [F.StopRecording(rec.name)]
    assert of(out, F.CreateTicket) == [F.CreateTicket(rec.name, "feedback")]
    assert keys(out) == ["call_too_long", "goodbye"]
    s.send(F.RecordingFinished(rec.name, 40_000))  # the recorder reports after the fact: no second ticket
    s.finish_all()
    assert len(of(s.log, F.CreateTicket)) == 1
    assert s.flow.outcome == "ticket" and of(s.log, F.HangUp)[-1].outcome == "ticket"


def test_call_limit_does_not_cut_a_call_bridged_to_an_operator():
    s = Sim(max_call_ms=60_000, operator_endpoint="PJSIP/op")
    s.start()
    s.key("0")
    s.finish_all()
    s.send(F.TransferResult(answered=True))
    out = s.advance(120_000)
    assert plays(out) == [] and not of(out, F.HangUp)
    assert s.flow.state is F.State.BRIDGED
    s.send(F.Hangup())
    assert s.flow.outcome == "transferred"


def test_call_limit_while_operators_ring_waits_for_the_transfer():
    s = Sim(max_call_ms=60_000, operator_endpoint="PJSIP/op", transfer_timeout_s=25)
    s.start()
    s.advance(50_000)
    s.key("0")
    s.finish_all()
    out = s.advance(12_000)  # the limit passes while the phones ring
    assert plays(out) == [] and not of(out, F.HangUp)
    s.send(F.TransferResult(answered=True))
    out = s.advance(60_000)
    assert plays(out) == [] and s.flow.state is F.State.BRIDGED
    # Not answered: the caller is told, and the call ends politely.
    s = Sim(max_call_ms=60_000, operator_endpoint="PJSIP/op", transfer_timeout_s=25)
    s.start()
    s.advance(50_000)
    s.key("0")
    s.finish_all()
    out = s.advance(40_000)  # the transfer guard fires, then the postponed limit
    assert "operator_unavailable" in keys(s.log) and "call_too_long" in keys(out)


# --- speech -> intent -> answer -------------------------------------------------------------------


def test_speech_answer_and_latency_logged():
    s = Sim()
    s.start()
    out = s.say("làm căn cước", asr_ms=80)
    assert texts(out) == ["Làm căn cước ở công an xã."]
    t = [t for t in turns(s) if t.kind == "speech"][-1]
    assert (t.intent, t.transcript, t.confidence, t.response_ms) == ("cccd", "làm căn cước", 0.9, 80)
    assert s.flow.outcome == "hung_up_during_answer"  # not yet said to the end
    assert keys(s.finish()) == ["anything_else"]  # once the answer has been said
    assert s.flow.outcome == "answered_speech"
    out = s.finish_all()
    assert of(out, F.SetTimer)[0].name == "no_input"


def test_follow_up_replaces_anything_else():
    s = Sim()
    s.start()
    s.key("2")
    out = s.key("1")
    assert texts(out) == ["Cài ứng dụng VNeID."]
    assert texts(s.finish()) == ["Anh chị cần gì thêm?"] and s.flow.outcome == "answered_keypad"


def test_barge_in_stops_answer_and_listens():
    s = Sim()
    s.start()
    s.say("làm căn cước")
    playing = s.playing()
    out = s.send(F.SpeechStarted())
    assert out[0] == F.StopPlayback(playing.playback_id)
    assert s.playing() is None
    # A late PlaybackFinished for the stopped prompt is ignored.
    assert s.send(F.PlaybackFinished(playing.playback_id, True)) == []
    s.send(F.SpeechEnded())
    out = s.send(F.AsrFinal("tra hồ sơ"))
    assert keys(out) == ["dossier_ask"]
    assert any(t.action == "barge_in" for t in turns(s))


def test_barge_in_disabled_by_config():
    s = Sim(barge_in=False)
    s.start()
    s.say("làm căn cước")
    assert s.send(F.SpeechStarted()) == []


def test_speech_stops_no_input_timer():
    s = Sim()
    s.start()
    s.advance(3000)
    out = s.send(F.SpeechStarted())
    assert F.CancelTimer("no_input") in out
    assert s.advance(20_000) == []


def test_two_failures_keypad_menu_third_goodbye_without_operator():
    s = Sim()
    s.start()
    out = s.say("trời có mưa không")
    assert keys(out) == ["not_understood", "speak_or_press"]
    s.finish_all()
    out = s.say("blah")
    assert keys(out) == ["not_understood", "keypad_menu_intro"]
    assert F.Listen(False) in out
    menu = texts(out)[0]
    assert "Bấm phím 1: căn cước công dân." in menu and "Bấm phím 2: các dịch vụ khác." in menu
    s.finish_all()
    out = s.advance(7000)  # silent in the menu: third failure
    assert keys(out) == ["goodbye"]
    s.finish_all()
    assert of(s.log, F.HangUp) == [F.HangUp("not_understood")] or of(s.log, F.HangUp) == [
        F.HangUp("no_input")
    ]


def test_third_failure_goes_to_operator_when_configured():
    s = Sim(operator_endpoint="PJSIP/operator")
    s.start()
    for _ in range(2):
        s.advance(7000)
        s.finish_all()
    out = s.advance(7000)
    assert keys(out) == ["transfer"]
    out = s.finish_all()
    assert of(out, F.Transfer) == [F.Transfer("PJSIP/operator", 25, duty=True)]


def test_no_input_reprompts():
    s = Sim()
    s.start()
    out = s.advance(7000)
    assert keys(out) == ["no_input", "speak_or_press"]
    assert [t.kind for t in turns(s)] == ["timeout"]


def test_success_resets_failures():
    s = Sim()
    s.start()
    s.say("???")
    s.finish_all()
    s.say("làm căn cước")
    s.finish_all()
    out = s.say("???")
    assert keys(out) == ["not_understood", "speak_or_press"]


def test_empty_transcript_is_a_failed_attempt():
    s = Sim()
    s.start()
    out = s.say("")
    assert "not_understood" in keys(out)


def test_clarify_by_key_and_by_speech():
    s = Sim()
    s.start()
    out = s.say("thuế hay định danh")
    assert texts(out) == [F.Texts().clarify.format(a="thuế điện tử", b="tài khoản định danh")]
    assert s.flow.state is F.State.CLARIFY
    s.finish_all()
    out = s.key("2")
    assert texts(out)[0] == "Cài ứng dụng VNeID."
    s.finish_all()
    s.say("thuế hay định danh")
    s.finish_all()
    out = s.say("làm căn cước")
    assert texts(out)[0] == "Làm căn cước ở công an xã."


def test_asr_results_ignored_when_not_listening():
    s = Sim()
    s.start()
    s.say("???")
    s.finish_all()
    s.say("???")  # keypad menu: not listening
    assert s.send(F.AsrFinal("làm căn cước")) == []
    assert s.send(F.SpeechStarted()) == []


# --- keypad ---------------------------------------------------------------------------------------


def test_dtmf_interrupts_prompt_and_answers():
    s = Sim()
    s.send(F.CallStarted("1"))
    s.finish()  # notice
    greeting = s.playing()
    out = s.key("1")
    assert out[0] == F.StopPlayback(greeting.playback_id)
    assert texts(out) == ["Làm căn cước ở công an xã."]
    assert [t.dtmf for t in turns(s)] == ["1"]


def test_submenu_keys():
    s = Sim()
    s.start()
    out = s.key("2")
    assert of(out, F.SetTimer)[-1].name == "menu_digit"
    out = s.key("2")
    assert texts(out)[0] == "Nộp thuế qua cổng thuế."


def test_submenu_read_after_pause():
    s = Sim()
    s.start()
    s.key("2")
    out = s.advance(2000)
    menu = texts(out)[0]
    assert "Bấm phím 1: tài khoản định danh." in menu and "Bấm phím 2: thuế điện tử." in menu
    assert "căn cước" not in menu
    s.finish_all()
    out = s.key("1")
    assert texts(out)[0] == "Cài ứng dụng VNeID."


def test_star_repeats_last_answer():
    s = Sim()
    s.start()
    s.key("1")
    s.finish_all()
    out = s.key("*")
    assert texts(out) == ["Làm căn cước ở công an xã."]


def test_replay_intent_repeats():
    s = Sim()
    s.start()
    s.say("làm căn cước")
    s.finish_all()
    out = s.say("nói lại")
    assert texts(out) == ["Làm căn cước ở công an xã."]


def test_zero_goes_to_operator_or_message():
    s = Sim(operator_endpoint="PJSIP/op")
    s.start()
    out = s.key("0")
    assert keys(out) == ["transfer"]
    out = s.finish_all()
    assert of(out, F.Transfer)
    out = s.send(F.TransferResult(answered=True))
    assert s.flow.state is F.State.BRIDGED and s.flow.outcome == "transferred"
    assert s.key("1") == []


def test_invalid_key_counts_as_failure():
    s = Sim()
    s.start()
    out = s.key("9")
    assert keys(out)[0] == "invalid_key"


def test_dtmf_flood_is_bounded():
    s = Sim()
    s.start()
    for i in range(500):
        s.key("1234567890*#"[i % 12])
    assert len(s.log) < 20000
    assert s.flow.state in set(F.State)


def test_non_digit_dtmf_ignored():
    s = Sim()
    s.start()
    assert s.key("A") == [] and s.key("12") == []


# --- actions --------------------------------------------------------------------------------------


def test_feedback_recording_ticket_and_digit_readback():
    s = Sim(feedback_max_seconds=60)
    s.start()
    out = s.say("tôi muốn phản ánh")
    assert keys(out) == ["feedback_intro", "beep"]
    assert F.Listen(False) in out
    s.finish()
    out = s.finish()  # the beep ends: recording starts
    rec = of(out, F.StartRecording)[0]
    assert rec.max_seconds == 60
    out = s.key("#")
    assert out == [F.StopRecording(rec.name)]
    out = s.send(F.RecordingFinished(rec.name, 5000))
    assert of(out, F.CreateTicket) == [F.CreateTicket(rec.name, "feedback")]
    out = s.send(F.TicketCreated("2041"))
    assert keys(out) == ["feedback_saved"]
    assert "hai, không, bốn, một" in texts(out)[0]
    assert s.flow.outcome == "ticket"


@pytest.mark.parametrize(("kept", "said"), [(True, "feedback_kept"), (False, "feedback_failed")])
def test_a_ticket_stored_later_is_not_announced_as_lost(kept, said):
    """A complaint the database refused for now is kept and stored later: the caller is not told to
    call again (which they were, while the complaint became a ticket anyway)."""
    s = Sim(feedback_max_seconds=60)
    s.start()
    s.say("tôi muốn phản ánh")
    s.finish_all()
    rec = of(s.log, F.StartRecording)[0]
    s.key("#")
    s.send(F.RecordingFinished(rec.name, 5000))
    out = s.send(F.TicketCreated(None, kept=kept))
    assert keys(out) == [said]


def test_feedback_too_short_is_not_stored():
    s = Sim()
    s.start()
    s.key("3")
    s.finish_all()
    rec = of(s.log, F.StartRecording)[0]
    out = s.send(F.RecordingFinished(rec.name, 200))
    assert keys(out) == ["feedback_empty"] and not of(out, F.CreateTicket)


def test_hangup_while_recording_keeps_the_message():
    s = Sim()
    s.start()
    s.key("3")
    s.finish_all()
    rec = of(s.log, F.StartRecording)[0]
    out = s.send(F.Hangup())
    assert of(out, F.StopRecording) == [F.StopRecording(rec.name)]
    assert of(out, F.CreateTicket) == [F.CreateTicket(rec.name, "feedback")]
    assert s.flow.state is F.State.ENDED
    assert s.send(F.Dtmf("1")) == []


def test_recorder_that_never_reports_does_not_hold_the_call():
    s = Sim(feedback_max_seconds=10)
    s.start()
    s.key("3")
    s.finish_all()
    out = s.advance(20_000)
    assert of(out, F.StopRecording)
    out = s.advance(5000)
    assert keys(out) == ["feedback_failed"]


def test_transfer_without_answer_takes_a_message():
    s = Sim(operator_endpoint="PJSIP/op")
    s.start()
    s.say("gặp người")
    s.finish_all()
    out = s.send(F.TransferResult(answered=False))
    assert keys(out) == ["operator_unavailable", "beep"]
    s.finish_all()
    rec = of(s.log, F.StartRecording)[-1]
    s.send(F.RecordingFinished(rec.name, 3000))
    assert of(s.log, F.CreateTicket)[-1].reason == "message"


def _unanswered(s: Sim) -> list:
    """Ask for an operator, nobody answers: what the caller hears next (the offer to leave a message)."""
    s.start()
    s.key("0")
    s.finish_all()
    return s.send(F.TransferResult(answered=False))


def test_no_answer_and_an_empty_message_leave_a_call_back_ticket_with_the_number():
    s = Sim(operator_endpoint="PJSIP/op")
    _unanswered(s)
    s.finish_all()
    rec = of(s.log, F.StartRecording)[-1]
    out = s.send(F.RecordingFinished(rec.name, 300))  # shorter than feedback_min_ms: no message
    assert of(out, F.CreateTicket) == [F.CreateTicket("", "callback")] and s.flow.state is F.State.WAITING
    out = s.send(F.TicketCreated("480213"))
    assert keys(out) == ["callback_saved"] and "bốn, tám, không, hai, một, ba" in texts(out)[0]
    assert s.flow.outcome is F.Outcome.TRANSFER_MISSED
    assert [t.action for t in turns(s)][-2:] == ["recording_empty", "ticket_created"]
    s.finish_all()
    assert s.flow.state is F.State.MAIN  # more help offered


def test_hanging_up_on_the_offer_to_leave_a_message_leaves_a_call_back_ticket():
    # While "nobody is free, leave a message" plays, and during the beep.
    for plays_done in (0, 1):
        s = Sim(operator_endpoint="PJSIP/op")
        assert keys(_unanswered(s)) == ["operator_unavailable", "beep"]
        for _ in range(plays_done):
            s.finish()
        out = s.send(F.Hangup())
        assert of(out, F.CreateTicket) == [F.CreateTicket("", "callback")]
        assert s.flow.outcome is F.Outcome.TRANSFER_MISSED and s.flow.state is F.State.ENDED


def test_hanging_up_while_the_operators_phones_ring_leaves_a_call_back_ticket():
    # Regression: a caller who pressed 0 and gave up during the ringing left nothing for staff.
    s = Sim(operator_endpoint="PJSIP/op")
    s.start()
    s.key("0")
    s.finish_all()  # "please hold": the phones ring now
    assert of(s.log, F.Transfer)
    out = s.send(F.Hangup())
    assert of(out, F.CreateTicket) == [F.CreateTicket("", "callback")]
    assert s.flow.outcome is F.Outcome.TRANSFER_MISSED and s.flow.state is F.State.ENDED
    # Answered, then hung up: a conversation took place, nothing to call back.
    t = Sim(operator_endpoint="PJSIP/op")
    t.start()
    t.key("0")
    t.finish_all()
    t.send(F.TransferResult(answered=True))
    assert not of(t.send(F.Hangup()), F.CreateTicket)
    # A withheld number cannot be called back: only the call log says so.
    w = Sim(operator_endpoint="PJSIP/op")
    w.send(F.CallStarted(""))
    w.finish_all()
    w.key("0")
    w.finish_all()
    out = w.send(F.Hangup())
    assert not of(out, F.CreateTicket) and turns(w)[-1].action == "callback_withheld"


def test_a_complaint_after_an_answer_carries_that_topic_for_its_category():
    s = Sim()
    s.start()
    s.key("1")  # the cccd answer
    s.finish_all()
    s.key("3")  # then a complaint
    s.finish_all()
    rec = of(s.log, F.StartRecording)[-1]
    out = s.send(F.RecordingFinished(rec.name, 3000))
    assert of(out, F.CreateTicket) == [F.CreateTicket(rec.name, "feedback", topic="cccd")]


def test_hanging_up_during_the_message_hands_the_empty_check_to_the_runner():
    s = Sim(operator_endpoint="PJSIP/op", feedback_min_ms=800)
    _unanswered(s)
    s.finish_all()
    rec = of(s.log, F.StartRecording)[-1]
    out = s.send(F.Hangup())
    # Whether anything was said is known only once the recorder stops: a message, or a call-back.
    assert of(out, F.CreateTicket) == [F.CreateTicket(rec.name, "message", min_ms=800)]
    # A complaint is kept whatever its length.
    t = Sim()
    t.start()
    t.key("3")
    t.finish_all()
    rec = of(t.log, F.StartRecording)[-1]
    assert of(t.send(F.Hangup()), F.CreateTicket) == [F.CreateTicket(rec.name, "feedback")]


def test_a_withheld_caller_who_leaves_no_message_gets_no_ticket():
    s = Sim(operator_endpoint="PJSIP/op")
    s.send(F.CallStarted(""))
    s.finish_all()
    s.key("0")
    s.finish_all()
    s.send(F.TransferResult(answered=False))
    s.finish_all()
    rec = of(s.log, F.StartRecording)[-1]
    out = s.send(F.RecordingFinished(rec.name, 0))
    assert not of(out, F.CreateTicket) and keys(out) == ["feedback_empty", "callback_withheld"]
    assert turns(s)[-1].action == "callback_withheld"
    s.finish_all()
    assert s.flow.state is F.State.MAIN
    # Hanging up on the offer: nothing to store either, only the call log says why.
    t = Sim(operator_endpoint="PJSIP/op")
    t.send(F.CallStarted(""))
    t.finish_all()
    t.key("0")
    t.finish_all()
    t.send(F.TransferResult(answered=False))
    out = t.send(F.Hangup())
    assert not of(out, F.CreateTicket) and turns(t)[-1].action == "callback_withheld"


def test_an_empty_complaint_is_not_a_call_back():
    s = Sim()
    s.start()
    s.key("3")
    s.finish_all()
    rec = of(s.log, F.StartRecording)[-1]
    out = s.send(F.RecordingFinished(rec.name, 0))
    assert keys(out) == ["feedback_empty"] and not of(out, F.CreateTicket)
    out = s.send(F.Hangup())
    assert not of(out, F.CreateTicket)


def test_transfer_timeout_guard():
    s = Sim(operator_endpoint="PJSIP/op", transfer_timeout_s=5)
    s.start()
    s.key("0")
    s.finish_all()
    out = s.advance(10_000)
    assert keys(out) == ["operator_unavailable", "beep"]


def test_no_operator_configured_takes_a_message():
    s = Sim()
    s.start()
    out = s.key("0")
    assert keys(out) == ["operator_unavailable", "beep"]


def test_dossier_by_keypad():
    s = Sim()
    s.start()
    s.key("4")
    s.finish_all()
    for d in "1203":
        s.key(d)
    out = s.key("#")
    assert of(out, F.LookupDossier) == [F.LookupDossier("1203")]
    out = s.send(F.DossierResult("1203", True, "cấp giấy phép", "đã có kết quả", "hôm nay"))
    assert "một, hai, không, ba" in texts(out)[0] and "đã có kết quả" in texts(out)[0]
    s.finish_all()
    assert s.flow.outcome == "dossier"


def test_dossier_by_speech_and_digit_timeout():
    s = Sim()
    s.start()
    s.say("tra hồ sơ")
    s.finish_all()
    out = s.say("mã hồ sơ là một hai ba bốn")
    assert of(out, F.LookupDossier) == [F.LookupDossier("1234")]
    s.send(F.DossierResult("1234", False))
    s.finish_all()
    s.key("5")
    s.key("6")
    out = s.advance(4000)
    assert of(out, F.LookupDossier) == [F.LookupDossier("56")]
    out = s.send(F.DossierResult("56", False))
    assert keys(out) == []  # second miss: no re-ask
    s.finish_all()
    assert s.flow.state is F.State.MAIN


def test_code_entry_star_clears_and_zero_is_a_digit():
    s = Sim()
    s.start()
    s.key("4")
    s.finish_all()
    s.key("9")
    out = s.key("*")
    assert keys(out) == ["dossier_ask"]
    s.finish_all()
    for d in "100#":
        out = s.key(d)
    assert of(out, F.LookupDossier) == [F.LookupDossier("100")]


def test_lookup_that_stalls_says_please_wait():
    s = Sim()
    s.start()
    s.key("4")
    s.finish_all()
    s.key("1")
    s.key("#")
    out = s.advance(1500)
    assert keys(out) == ["please_wait"]


def test_ticket_status_reads_status_and_reply():
    s = Sim()
    s.start()
    s.key("5")
    s.finish_all()
    s.key("7")
    out = s.key("#")
    assert of(out, F.LookupTicket) == [F.LookupTicket("7")]
    out = s.send(F.TicketStatusResult("7", True, "đã xử lý", "Đường đã được sửa."))
    assert texts(out) == [
        F.Texts().ticket_status.format(digits="bảy", status="đã xử lý"),
        "Trả lời của cán bộ: Đường đã được sửa.",
    ]


def test_ticket_status_from_another_number_says_where_the_reply_can_be_heard():
    s = Sim()
    s.start()
    s.key("5")
    s.finish_all()
    s.key("7")
    s.key("#")
    out = s.send(F.TicketStatusResult("7", True, "đã có trả lời", reply_withheld=True))
    assert texts(out) == [
        F.Texts().ticket_status.format(digits="bảy", status="đã có trả lời"),
        F.Texts().ticket_reply_elsewhere,
    ]
    assert not any("Trả lời của cán bộ" in t for t in texts(out))


def test_ticket_status_locked_is_said_once_and_not_asked_again():
    s = Sim()
    s.start()
    s.key("5")
    s.finish_all()
    s.key("7")
    s.key("#")
    out = s.send(F.TicketStatusResult("7", False, locked=True))
    assert texts(out) == [F.Texts().ticket_locked] and keys(out) == []  # no "key the number again"
    assert [t.action for t in turns(s) if t.kind == "action"][-1] == "ticket_locked"
    s.finish_all()
    assert s.flow.state is F.State.MAIN


def test_radio_hook_plays_file_or_says_unavailable():
    s = Sim()
    s.start()
    s.key("6")
    s.finish_all()
    for d in "17#":
        out = s.key(d)
    assert of(out, F.PlayRadio) == [F.PlayRadio("17")]
    out = s.send(F.RadioResult("17", "/x/segment.wav"))
    assert plays(out)[0].file == "/x/segment.wav"
    s.finish_all()
    s.key("6")
    s.finish_all()
    for d in "99#":
        s.key(d)
    out = s.send(F.RadioResult("99", None))
    assert keys(out) == ["radio_unavailable"]


def test_a_commune_named_in_the_request_rings_its_team_at_once():
    s = Sim(operator_endpoint="PJSIP/op", transfer_timeout_s=20)
    s.start()
    out = s.say("gặp tổ công nghệ số xã anh sơn")
    assert texts(out) == [F.Texts().team_connect.format(commune="xã Anh Sơn")]
    assert F.Listen(False) in out and s.flow.state is F.State.WAITING
    out = s.finish()
    assert of(out, F.Transfer) == [F.Transfer(TEAMS["17329"], 20)]  # not the operators on duty
    out = s.send(F.TransferResult(answered=True))
    assert s.flow.state is F.State.BRIDGED and s.flow.outcome is F.Outcome.TRANSFERRED
    assert [t.action for t in turns(s)] == ["commune_team", "team_found", "transferred"]


def test_a_team_nobody_answers_takes_a_message_or_a_call_back_for_its_commune():
    s = Sim()
    s.start()
    s.say("gặp tổ công nghệ số xã anh sơn")
    s.finish_all()
    out = s.send(F.TransferResult(answered=False))
    assert keys(out) == ["team_unavailable", "beep"]
    s.finish_all()
    rec = of(s.log, F.StartRecording)[-1]
    out = s.send(F.RecordingFinished(rec.name, 4000))
    assert of(out, F.CreateTicket) == [F.CreateTicket(rec.name, "message", commune="17329")]
    s.send(F.TicketCreated("111222"))
    s.finish_all()
    # Again, and this time the caller says nothing: a call-back ticket, still for the commune.
    s.say("gặp tổ công nghệ số xã anh sơn")
    s.finish_all()
    s.send(F.TransferResult(answered=False))
    s.finish_all()
    rec = of(s.log, F.StartRecording)[-1]
    out = s.send(F.RecordingFinished(rec.name, 0))
    assert of(out, F.CreateTicket) == [F.CreateTicket("", "callback", commune="17329")]
    # Hanging up on the offer: the same.
    t = Sim()
    t.start()
    t.say("gặp tổ công nghệ số xã anh sơn")
    t.finish_all()
    t.send(F.TransferResult(answered=False))
    out = t.send(F.Hangup())
    assert of(out, F.CreateTicket) == [F.CreateTicket("", "callback", commune="17329")]


def test_a_complaint_after_a_team_call_is_the_hotlines_own():
    s = Sim(operator_endpoint="PJSIP/op")
    s.start()
    s.say("gặp tổ công nghệ số xã anh sơn")
    s.finish_all()
    s.send(F.TransferResult(answered=False))
    s.finish_all()
    rec = of(s.log, F.StartRecording)[-1]
    s.send(F.RecordingFinished(rec.name, 0))
    s.send(F.TicketCreated("111222"))
    s.finish_all()
    s.say("tôi muốn phản ánh")
    s.finish_all()
    rec = of(s.log, F.StartRecording)[-1]
    out = s.send(F.RecordingFinished(rec.name, 5000))
    assert of(out, F.CreateTicket) == [F.CreateTicket(rec.name, "feedback")]
    # And the operators ring as usual, with a message for nobody in particular.
    s.send(F.TicketCreated("333444"))
    s.finish_all()
    s.key("0")
    s.finish_all()
    out = s.send(F.TransferResult(answered=False))
    assert keys(out) == ["operator_unavailable", "beep"]


def test_the_commune_is_asked_for_by_code_or_name_when_the_request_names_none():
    s = Sim()
    s.start()
    out = s.say("gặp tổ công nghệ số")
    assert keys(out) == ["team_ask"] and s.flow.state is F.State.COLLECT and s.flow.listening
    s.finish_all()
    for d in "17329":
        s.key(d)
    out = s.key("#")
    assert texts(out) == [F.Texts().team_connect.format(commune="xã Anh Sơn")]
    assert not of(out, F.LookupDossier) and not of(out, F.PlayRadio)  # the flow found it itself
    s.finish_all()
    assert of(s.log, F.Transfer)[-1] == F.Transfer(TEAMS["17329"], 25)
    s.send(F.TransferResult(answered=True))
    assert [t.action for t in turns(s)][-3:] == ["team", "team_found", "transferred"]
    # By name: said when asked.
    t = Sim()
    t.start()
    t.key("7")
    t.finish_all()
    out = t.say("xã anh sơn")
    assert texts(out) == [F.Texts().team_connect.format(commune="xã Anh Sơn")]


def test_an_unknown_commune_is_asked_again_then_more_help_is_offered():
    s = Sim()
    s.start()
    s.key("7")
    s.finish_all()
    out = s.say("tôi cũng không biết nữa")
    assert keys(out) == ["team_not_found", "team_ask"] and s.flow.state is F.State.COLLECT
    s.finish_all()
    for d in "99#":
        out = s.key(d)
    assert keys(out) == ["team_not_found"] and not of(out, F.Transfer)
    s.finish_all()
    assert s.flow.state is F.State.MAIN
    assert [t.action for t in turns(s)].count("team_not_found") == 2


def test_a_commune_without_a_team_is_told_so_and_offered_the_operators():
    s = Sim(operator_endpoint="PJSIP/op")
    s.start()
    out = s.say("gặp tổ công nghệ số xã đô lương")
    assert texts(out) == [F.Texts().team_none.format(commune="xã Đô Lương")]
    assert keys(out) == ["team_offer_operator"] and not of(out, F.Transfer)
    assert turns(s)[-1].action == "team_missing" and s.flow.outcome is F.Outcome.ANSWERED_SPEECH
    s.finish_all()
    assert s.flow.state is F.State.MAIN
    out = s.key("0")  # taken up: the operators
    s.finish_all()
    assert of(s.log, F.Transfer)[-1].duty
    # No operators at all: nothing is offered.
    t = Sim()
    t.start()
    out = t.say("gặp tổ công nghệ số xã đô lương")
    assert keys(out) == []


def test_without_a_commune_list_the_teams_codes_still_work():
    s = Sim(communes=None)
    s.start()
    s.say("gặp tổ công nghệ số xã anh sơn")  # no names known: asked for the code
    s.finish_all()
    for d in "17329#":
        out = s.key(d)
    assert texts(out) == [F.Texts().team_connect.format(commune="xã, phường mã số một, bảy, ba, hai, chín")]


def test_goodbye_after_an_answer_is_not_rated_again():
    s = Sim(rating=True)
    s.start()
    s.say("làm căn cước")
    s.finish()  # the answer; then the rating, once a call (tests/ivr/test_flow_rating.py)
    s.finish_all()
    s.key("4")
    s.finish_all()
    out = s.say("tạm biệt")
    assert keys(out) == ["goodbye"]
    out = s.finish_all()
    assert of(out, F.HangUp) == [F.HangUp("answered_speech")]
    assert s.flow.satisfaction == 4


def test_goodbye_before_any_service_is_not_rated():
    s = Sim(rating=True)
    s.start()
    s.key("1")
    s.say("tạm biệt")  # over the answer: it was cut short, nothing was delivered
    assert keys(s.log)[-1] == "goodbye" and "rating_ask" not in keys(s.log)
    s.finish_all()
    assert of(s.log, F.HangUp) == [F.HangUp("goodbye")] and s.flow.satisfaction is None


# --- failures -------------------------------------------------------------------------------------


def test_asr_failure_falls_back_to_keypad():
    s = Sim()
    s.start()
    out = s.send(F.EngineFailure("asr", "boom"))
    assert keys(out) == ["system_error", "keypad_menu_intro"]
    assert F.Listen(False) in out
    assert s.flow.degraded
    s.finish_all()
    out = s.key("1")
    assert texts(out)[0] == "Làm căn cước ở công an xã."
    out = s.finish_all()
    assert not of(out, F.Listen) or of(out, F.Listen) == [F.Listen(False)]
    # Never listens again once degraded; the menu is offered instead of "speak".
    assert F.Listen(True) not in s.log[s.log.index(F.Listen(False)) :]


def test_failed_tts_answer_never_leaves_silence():
    s = Sim()
    s.start()
    s.say("làm căn cước")
    out = s.finish(ok=False)
    assert keys(out)[:2] == ["system_error", "keypad_menu_intro"]


def test_failed_fixed_prompt_moves_on():
    s = Sim()
    s.send(F.CallStarted("1"))
    out = s.finish(ok=False)
    assert out == [] and s.playing().key == "greeting"


def test_hangup_cancels_timers_and_ignores_later_events():
    s = Sim()
    s.start()
    out = s.send(F.Hangup())
    assert F.CancelTimer("no_input") in out and F.CancelTimer("max_call") in out
    assert s.flow.state is F.State.ENDED and s.flow.outcome == "hung_up_before_answer"
    assert s.send(F.TimerFired("no_input")) == []
    assert s.send(F.AsrFinal("làm căn cước")) == []


def test_stale_timer_ignored():
    s = Sim()
    s.start()
    assert s.send(F.TimerFired("no_input")) == []  # not due yet
    assert s.send(F.TimerFired("bogus")) == []


def test_keypad_menu_texts_cover_submenus():
    s = Sim()
    menus = s.flow.keypad_menu_texts()
    assert len(menus) == 2 and any("thuế điện tử" in m for m in menus)


@pytest.mark.parametrize(
    "text,digits", [("một hai ba", "123"), ("mã số 4 5", "45"), ("không có", "0"), ("xin chào", "")]
)
def test_digits_from_speech(text, digits):
    assert F.digits_from_speech(text) == digits


def test_spell_digits_and_keypad_path():
    assert F.spell_digits("907") == "chín, không, bảy"
    assert F.keypad_path("2.1") == "21"


def test_menu_from_catalog_accepts_objects_and_mappings():
    class It:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    class Cat:
        intents = {"a": It(id="a", answer="x", follow_up=None, digit=1, action=None, title="A")}

    items = F.menu_from_catalog(Cat())
    assert items == [F.MenuItem("a", "A", "x", "", "1", None)]
    items = F.menu_from_catalog([{"id": "b", "answer": "y", "digit": None, "action": "transfer"}])
    assert items[0].digit == "" and items[0].action == "transfer" and items[0].title == "b"


def test_call_without_speech_recognition_starts_in_keypad_menu():
    s = Sim()
    s.flow.degraded = True
    out = s.send(F.CallStarted("1"))
    assert keys(out) == ["recording_notice", "greeting", "keypad_menu_intro"]
    assert not of(out, F.Listen) and s.flow.state is F.State.MENU
    s.finish_all()
    out = s.key("1")
    assert texts(out)[0] == "Làm căn cước ở công an xã."


def test_menu_prompts_from_catalog_override_generated_text():
    flow = F.CallFlow(MENU, fake_match, menu_prompts={"": "Menu chính.", "2": "Menu phụ."})
    assert flow.keypad_menu_texts() == ["Menu chính.", "Menu phụ."]


def test_silent_caller_is_escalated_once_then_let_go():
    s = Sim(operator_endpoint="PJSIP/op")
    s.start()
    for _ in range(2):
        s.advance(7000)
        s.finish_all()
    s.advance(7000)  # third failure: operator
    s.finish_all()
    s.send(F.TransferResult(answered=False))
    s.finish_all()
    rec = of(s.log, F.StartRecording)[-1]
    out = s.send(F.RecordingFinished(rec.name, 0))  # nothing said: empty, a call-back ticket
    assert of(out, F.CreateTicket) == [F.CreateTicket("", "callback")]
    s.send(F.TicketCreated("123456"))
    s.finish_all()
    for _ in range(2):
        s.advance(7000)
        s.finish_all()
    out = s.advance(7000)
    assert keys(out) == ["goodbye"]
    s.finish_all()
    # The operators were tried and missed, a call-back ticket left: that says more than the silence.
    assert of(s.log, F.HangUp) == [F.HangUp("transfer_missed")]
    assert len(of(s.log, F.Transfer)) == 1


def test_ring_all_transfer_is_one_command_with_the_whole_dial_string():
    s = Sim(operator_endpoint="PJSIP/operator&PJSIP/operator2")
    s.start()
    s.send(F.Dtmf("0"))
    out = s.finish_all()
    assert of(out, F.Transfer) == [F.Transfer("PJSIP/operator&PJSIP/operator2", 25, duty=True)]


# --- the table, the vocabulary and the typed inputs ----------------------------------------------


def test_a_late_transcript_is_covered_by_please_wait_not_dead_air():
    """Regression: after the end of speech nothing was said until the transcript or the recognizer's
    timeout (8 s by default): a slow or hung recognizer left the caller in silence."""
    s = Sim()
    s.start()
    s.send(F.SpeechStarted())
    s.now += 1000
    s.send(F.SpeechEnded())
    assert s.advance(1500) == []  # a usual transcript comes well before "please wait"
    out = s.advance(600)
    assert keys(out) == ["please_wait"]
    out += s.finish()  # said once; the recognizer is still silent: said again a few seconds later
    assert keys(s.advance(3100)) == ["please_wait"]
    s.finish()
    out = s.send(F.EngineFailure("asr", "timeout"))  # the recognizer's own time limit
    assert "system_error" in keys(out) and "thinking" not in s.timers
    assert "please_wait" not in keys(s.advance(10_000))


def test_a_transcript_in_time_says_no_please_wait():
    s = Sim()
    s.start()
    s.say("làm căn cước", asr_ms=300)
    assert "thinking" not in s.timers
    s.finish_all()
    assert "please_wait" not in keys(s.log)


def test_asr_latency_from_the_recognizer_fills_the_turn():
    s = Sim()
    s.start()
    s.send(F.SpeechStarted())
    s.send(F.SpeechEnded())
    s.now += 300
    s.send(F.AsrFinal("làm căn cước", 0.9, asr_ms=240))
    (t,) = [t for t in turns(s) if t.kind == "speech"]
    assert (t.asr_ms, t.response_ms) == (240, 300)
    s.finish_all()
    s.key("4")  # a dossier code said aloud: its turn carries the latency too
    s.finish_all()
    s.send(F.SpeechStarted())
    s.send(F.SpeechEnded())
    s.send(F.AsrFinal("một hai", 0.8, asr_ms=95))
    said = [t for t in turns(s) if t.kind == "speech"][-1]
    assert (said.dtmf, said.action, said.asr_ms) == ("12", "dossier", 95)
    assert [t for t in turns(s) if t.kind == "speech"][0].asr_ms == 240
    assert F.AsrFinal("x").asr_ms is None  # engines that do not measure it leave it empty


def test_every_state_but_the_end_is_in_the_table():
    states = {state for state, _ in F.CallFlow.TABLE}
    assert states == set(F.State) - {F.State.ENDED}
    for (state, key), handler in F.CallFlow.TABLE.items():
        assert isinstance(state, F.State) and callable(handler)
        assert key in F.EVENT_TYPES or isinstance(key, F.Timer), key
    for key in F.CallFlow.GLOBAL:
        assert key in F.EVENT_TYPES or isinstance(key, F.Timer), key
        assert not any(k == key for _, k in F.CallFlow.TABLE), f"{key} is global and in the table"


def test_every_timer_and_continuation_of_a_call_has_its_handler():
    handled = set(F.CallFlow.GLOBAL) | {key for _, key in F.CallFlow.TABLE}
    assert set(F.Timer) - {F.Timer.IDLE} <= handled  # IDLE belongs to prompt re-recording
    assert set(F.CallFlow.AFTER) == set(F.Continuation)
    # Every event the adapter can post to a call is handled somewhere (the prompt queue takes
    # PlaybackFinished, timers are keyed by name, partial transcripts are not used yet).
    unused = {F.PlaybackFinished, F.TimerFired, F.AsrPartial, F.DraftSaved, F.PinChecked, F.PromptKept}
    assert set(F.EVENT_TYPES) - unused <= handled


def test_intent_actions_and_codes_match_the_catalog_vocabulary():
    from intents.models import ACTIONS

    assert set(F.CallFlow.INTENT_ACTIONS) == set(ACTIONS)
    assert set(F.CODES) <= set(ACTIONS)
    for spec in F.CODES.values():
        assert spec.prompt_key in F.PROMPT_KEYS


def test_enum_values_are_the_stored_strings():
    # Stored in calls.outcome / call_turns.kind and exchanged as timer names: never renamed.
    old = [
        "in_progress", "answered", "goodbye", "abandoned", "no_input", "not_understood", "transferred",
        "ticket", "ticket_status", "dossier", "radio", "too_long", "interrupted", "failed", "prompt_admin",
        "callback",
    ]  # fmt: skip
    new = [
        "answered_speech", "answered_keypad", "transfer_missed", "message_left", "hung_up_before_answer",
        "hung_up_during_answer",
    ]  # fmt: skip
    assert sorted(o.value for o in F.Outcome) == sorted(old + new)
    assert [k.value for k in F.TurnKind] == ["speech", "dtmf", "timeout", "action", "system"]
    assert [t.value for t in F.Timer] == [
        "max_call", "no_input", "digit", "menu_digit", "recording", "recording_stuck", "lookup", "transfer",
        "idle", "thinking",
    ]  # fmt: skip
    assert [c.value for c in F.Continuation] == [
        "listen", "menu_wait", "collect_wait", "record", "transfer", "hangup", "rating_wait", "closing",
        "served", "emergency_done",
    ]  # fmt: skip
    assert [s.value for s in F.State] == [
        "intro", "main", "menu", "clarify", "collect", "recording", "waiting", "bridged", "rating", "ending",
        "ended", "emergency",
    ]  # fmt: skip


def test_outcomes_set_by_the_flow_are_enum_members():
    s = Sim()
    s.start()
    s.say("làm căn cước")
    s.finish_all()
    assert s.flow.outcome is F.Outcome.ANSWERED_SPEECH
    s.send(F.Hangup())
    assert isinstance(s.flow.outcome, F.Outcome)
    t = Sim()
    t.start()
    t.advance(7000)
    t.finish_all()
    assert all(isinstance(c.turn.kind, F.TurnKind) for c in t.log if isinstance(c, F.LogTurn))
    assert all(isinstance(c.name, F.Timer) for c in t.log if isinstance(c, (F.SetTimer, F.CancelTimer)))


def test_lookup_results_are_logged_alike_for_every_code():
    for key, found, missing, purpose in [
        ("4", F.DossierResult("12", True, "a", "b", "c"), F.DossierResult("12", False), "dossier"),
        ("5", F.TicketStatusResult("12", True, "xong"), F.TicketStatusResult("12", False), "ticket"),
        ("6", F.RadioResult("12", "/x.wav"), F.RadioResult("12", None), "radio"),
    ]:
        s = Sim()
        s.start()
        for result in (missing, found):
            s.key(key)
            s.finish_all()
            s.key("1")
            s.key("2")
            s.key("#")
            s.send(result)
            s.finish_all()
        actions = [t.action for t in turns(s) if t.kind == "action"]
        assert actions == [f"{purpose}_not_found", f"{purpose}_found"], actions


def test_ticket_number_not_found_twice_gives_up_without_asking_again():
    s = Sim()
    s.start()
    s.key("5")
    s.finish_all()
    s.key("7")
    s.key("#")
    out = s.send(F.TicketStatusResult("7", False))
    assert texts(out) == ["Không tìm thấy phiếu số bảy."] and keys(out) == ["ticket_ask"]
    assert F.Listen(True) not in out  # ticket numbers are keyed only
    s.finish_all()
    s.key("8")
    s.key("#")
    out = s.send(F.TicketStatusResult("8", False))
    assert texts(out) == ["Không tìm thấy phiếu số tám."] and keys(out) == []
    s.finish_all()
    assert s.flow.state is F.State.MAIN


def test_shipped_catalog_gives_the_typed_keypad_tree():
    from pathlib import Path

    from intents.catalog import load_catalog

    catalog = load_catalog(Path(__file__).resolve().parents[2] / "config" / "intents")
    items = F.menu_from_catalog(catalog)
    assert items == [F.MenuItem.from_intent(spec) for spec in catalog.intents]
    assert items == F.menu_from_catalog([spec.model_dump() for spec in catalog.intents])
    keypad = F.Keypad(items)
    assert keypad.paths
    for path, item in keypad.paths.items():
        assert catalog.resolve_keys(path).id == item.id
    groups = {g.digit for g in catalog.menu.groups} if catalog.menu else set()
    assert keypad.prefixes() == ["", *sorted(groups)]
