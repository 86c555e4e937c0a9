"""A current emergency notice said right after the greeting: # skips it, then the main question."""

from __future__ import annotations

from ivr import flow as F
from ivr.enums import TurnAction

from .test_flow import Sim, keys, of, plays, turns

NOTICE = "/srv/broadcast/segments/bao-lu.mp3"


def test_the_notice_follows_the_greeting_without_listening_then_the_main_question():
    s = Sim()
    out = s.send(F.CallStarted("0912345678", emergency=NOTICE))
    said = plays(out)
    assert [p.key or p.file for p in said] == ["recording_notice", "greeting", "emergency_intro", NOTICE]
    assert not said[-1].barge_in and s.flow.state is F.State.EMERGENCY
    assert not s.flow.listening and F.Listen(True) not in out  # background noise cannot cut it
    assert [t.action for t in turns(s)] == [TurnAction.EMERGENCY_PLAYED]
    out = s.finish_all()
    assert keys(out) == ["speak_or_press"] and s.flow.state is F.State.MAIN and s.flow.listening
    # `*` later repeats the question, not the notice.
    s.advance(100)
    out = s.key("*")
    assert NOTICE not in [p.file for p in plays(out)]


def test_hash_skips_the_notice_but_not_the_recording_notice_and_other_keys_do_nothing():
    s = Sim()
    s.send(F.CallStarted("0912345678", emergency=NOTICE))
    assert s.key("#") == []  # the recording notice is never skipped
    s.finish()  # the recording notice
    s.finish()  # the greeting
    assert s.key("1") == []  # a menu key during the notice: ignored
    out = s.key("#")
    stopped = {c.playback_id for c in of(out, F.StopPlayback)}
    assert len(stopped) == 2  # the intro playing and the notice queued
    assert keys(out) == ["speak_or_press"] and s.flow.state is F.State.MAIN
    assert turns(s)[-1] == F.Turn(kind=F.TurnKind.DTMF, dtmf="#", action=TurnAction.EMERGENCY_SKIPPED)


def test_no_notice_no_change_and_a_keypad_only_call_gets_the_menu_after_it():
    s = Sim()
    out = s.send(F.CallStarted("0912345678"))
    assert "emergency_intro" not in keys(out) and s.flow.state is F.State.MAIN
    d = Sim()
    d.flow.degraded = True
    d.send(F.CallStarted("", emergency=NOTICE))
    out = []
    for _ in range(4):  # the recording notice, the greeting, the intro, the notice
        out = d.finish()
    assert keys(out)[:1] == ["keypad_menu_intro"] and d.flow.state is F.State.MENU
