"""Re-recording prompts by phone: the pure state machine with a fake clock."""

from __future__ import annotations

from ivr import flow as F
from ivr import prompt_admin as A


def run(flow, events):
    out = []
    for i, ev in enumerate(events):
        out += flow.handle(ev, i * 100)
    return out


def plays(cmds):
    return [c for c in cmds if isinstance(c, F.Play)]


def finish_all(flow, cmds, now=0):
    out = []
    for p in plays(cmds):
        out += flow.handle(F.PlaybackFinished(p.playback_id), now)
    return out


def test_choose_record_review_keep():
    flow = A.PromptAdminFlow()
    out = flow.handle(F.CallStarted("op"), 0)
    assert plays(out)[0].text == A.ASK
    n = A.prompt_number("greeting")
    out = run(flow, [F.Dtmf(d) for d in n + "#"])
    assert [p.key for p in plays(out) if p.key] == ["greeting"] and flow.state == "menu"
    out = flow.handle(F.Dtmf("1"), 1000)
    assert [p.key for p in plays(out) if p.key] == ["beep"] and flow.state == "pre_record"
    assert not [c for c in out if isinstance(c, F.StartRecording)]  # not before the beep ended
    out = finish_all(flow, out)
    rec = [c for c in out if isinstance(c, F.StartRecording)]
    assert rec and rec[0].max_seconds == A.MAX_RECORD_SECONDS and flow.state == "recording"
    assert flow.handle(F.Dtmf("#"), 2000)[0] == F.StopRecording(rec[0].name)
    out = flow.handle(F.RecordingFinished(rec[0].name, 2500), 2100)
    assert out[0] == A.SaveDraft(rec[0].name)
    out = flow.handle(A.DraftSaved(rec[0].name, "/d/take1.wav"), 2200)
    assert plays(out)[0].file == "/d/take1.wav" and plays(out)[1].text == A.REVIEW
    out = flow.handle(F.Dtmf("1"), 2300)
    assert out[0] == A.KeepPrompt("greeting", "/d/take1.wav")
    out = flow.handle(A.PromptKept("greeting", True), 2400)
    assert plays(out)[0].text == A.SAVED and flow.kept == ["greeting"] and flow.state == "choose"


def test_invalid_number_rerecord_discard_and_idle_hangup():
    flow = A.PromptAdminFlow()
    flow.handle(F.CallStarted("op"), 0)
    out = run(flow, [F.Dtmf("9"), F.Dtmf("9"), F.Dtmf("#")])
    assert plays(out)[0].text == A.INVALID
    run(flow, [F.Dtmf("0"), F.Dtmf("1"), F.Dtmf("#"), F.Dtmf("1")])
    flow.state = "saving"
    out = flow.handle(A.DraftSaved("take1", None), 0)  # nothing recorded
    assert plays(out)[0].text == A.FAILED and flow.state == "menu"
    out = flow.handle(F.Dtmf("1"), 0)
    assert flow.state == "pre_record"
    flow.state = "review"
    flow.draft = "/d/x.wav"
    out = flow.handle(F.Dtmf("3"), 0)
    assert plays(out)[0].text == A.DISCARDED and flow.draft is None
    out = flow.handle(F.TimerFired("idle"), 10**6)
    assert any(isinstance(c, F.HangUp) for c in out) and flow.state == "ended"
    assert flow.handle(F.Dtmf("1"), 10**6) == []


def test_every_prompt_has_a_two_digit_number():
    assert A.prompt_number(F.PROMPT_KEYS[0]) == "01"
    assert len({A.prompt_number(k) for k in F.PROMPT_KEYS}) == len(F.PROMPT_KEYS) <= 99


def test_prompt_admin_table_covers_its_states_and_every_event():
    assert {state for state, _ in A.PromptAdminFlow.TABLE} | {F.AdminState.PRE_RECORD} == set(
        F.AdminState
    ) - {F.AdminState.ENDED}  # PRE_RECORD waits for its prompts to end (a continuation)
    handled = set(A.PromptAdminFlow.GLOBAL) | {key for _, key in A.PromptAdminFlow.TABLE}
    assert set(F.EVENT_TYPES) - {F.PlaybackFinished, F.TimerFired} <= handled
    assert F.Timer.IDLE in handled and set(A.PromptAdminFlow.AFTER) == {F.Continuation.RECORD}


def test_idle_timer_that_is_not_due_is_ignored():
    flow = A.PromptAdminFlow()
    out = flow.handle(F.CallStarted("op"), 0)
    assert out[-1] == F.SetTimer(F.Timer.IDLE, A.IDLE_MS)
    flow.handle(F.Dtmf("0"), 20_000)  # re-armed to 50 s
    assert not any(isinstance(c, F.HangUp) for c in flow.handle(F.TimerFired("idle"), 30_000))
    assert flow.state is F.AdminState.CHOOSE  # (any event restarts the idle time: now due at 60 s)
    out = flow.handle(F.TimerFired("idle"), 60_000)
    assert [p.text for p in plays(out)] == [A.BYE] and out[-1] == F.HangUp(F.Outcome.PROMPT_ADMIN)
