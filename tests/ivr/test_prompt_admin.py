"""Re-recording prompts by phone: the pure state machine with a fake clock (the PIN's limits across calls,
on a real database, are in test_prompt_pin.py; the real extension over SIP in test_call_e2e.py)."""

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


def unlocked(now: int = 0) -> A.PromptAdminFlow:
    """A flow past the PIN: it now asks for a prompt number."""
    flow = A.PromptAdminFlow()
    flow.handle(F.CallStarted("operator"), now)
    run(flow, [F.Dtmf(d) for d in "123456#"])
    out = flow.handle(A.PinChecked(F.PinVerdict.OK), now)
    assert [p.text for p in plays(out)] == [A.ASK] and flow.state == "choose"
    return flow


def test_the_pin_comes_first_and_is_checked_by_the_application():
    flow = A.PromptAdminFlow()
    out = flow.handle(F.CallStarted("operator"), 0)
    assert [p.text for p in plays(out)] == [A.PIN_ASK] and flow.state == "pin"
    out = run(flow, [F.Dtmf(d) for d in A.prompt_number("greeting") + "#"])  # a prompt number: no use yet
    assert [c for c in out if isinstance(c, A.CheckPin)] == [A.CheckPin(A.prompt_number("greeting"))]
    assert not [c for c in out if isinstance(c, F.Play) and c.key == "greeting"]
    assert flow.state == "checking"
    assert flow.handle(F.Dtmf("1"), 500) == [F.SetTimer(F.Timer.IDLE, 500 + A.IDLE_MS)]  # a key means nothing
    out = flow.handle(A.PinChecked(F.PinVerdict.WRONG), 600)
    assert [p.text for p in plays(out)] == [A.PIN_WRONG, A.PIN_ASK] and flow.state == "pin"
    out = run(flow, [F.Dtmf("1"), F.Dtmf("*"), F.Dtmf("7"), F.Dtmf("#")])  # * starts the PIN again
    assert [c for c in out if isinstance(c, A.CheckPin)] == [A.CheckPin("7")]


def test_wrong_pins_end_the_call_after_saying_so():
    flow = A.PromptAdminFlow()
    flow.handle(F.CallStarted("operator"), 0)
    for n in range(A.PIN_TRIES):
        run(flow, [F.Dtmf("9"), F.Dtmf("#")])
        out = flow.handle(A.PinChecked(F.PinVerdict.WRONG), 1000 * n)
    assert [p.text for p in plays(out)] == [A.PIN_WRONG, A.BYE]
    assert not any(isinstance(c, F.HangUp) for c in out)  # heard to the end first
    assert all(isinstance(c, F.SetTimer) for c in run(flow, [F.Dtmf("1"), F.Dtmf("#")]))  # keys ignored
    out = finish_all(flow, out)
    assert out[-1] == F.HangUp(F.Outcome.PROMPT_ADMIN) and flow.state == "ended"


def test_a_locked_extension_or_a_missing_pin_is_said_then_the_call_ends():
    for verdict, text in ((F.PinVerdict.LOCKED, A.PIN_LOCKED), (F.PinVerdict.UNAVAILABLE, A.UNAVAILABLE)):
        flow = A.PromptAdminFlow()
        flow.handle(F.CallStarted("operator"), 0)
        run(flow, [F.Dtmf("1"), F.Dtmf("#")])
        out = flow.handle(A.PinChecked(verdict), 0)
        assert [p.text for p in plays(out)] == [text] and flow.state == "ending"
        assert finish_all(flow, out)[-1] == F.HangUp(F.Outcome.PROMPT_ADMIN)


def test_a_call_that_is_not_from_a_seat_is_refused_without_asking_for_the_pin():
    flow = A.PromptAdminFlow(allowed=False)
    out = flow.handle(F.CallStarted("caller"), 0)
    assert [p.text for p in plays(out)] == [A.NOT_ALLOWED]
    out += run(flow, [F.Dtmf(d) for d in "123456#"])
    assert not [c for c in out if isinstance(c, A.CheckPin)]
    assert finish_all(flow, out)[-1] == F.HangUp(F.Outcome.PROMPT_ADMIN)


def test_choose_record_review_keep():
    flow = unlocked()
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
    flow = unlocked()
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
    # PRE_RECORD and ENDING wait for their prompts to end (continuations)
    waiting = {F.AdminState.PRE_RECORD, F.AdminState.ENDING}
    tabled = {state for state, _ in A.PromptAdminFlow.TABLE}
    assert tabled | waiting == set(F.AdminState) - {F.AdminState.ENDED}
    handled = set(A.PromptAdminFlow.GLOBAL) | {key for _, key in A.PromptAdminFlow.TABLE}
    assert set(F.EVENT_TYPES) - {F.PlaybackFinished, F.TimerFired} <= handled
    assert F.Timer.IDLE in handled
    assert set(A.PromptAdminFlow.AFTER) == {F.Continuation.RECORD, F.Continuation.HANGUP}


def test_idle_timer_that_is_not_due_is_ignored():
    flow = unlocked()
    out = flow.handle(F.Dtmf("0"), 0)
    assert out[-1] == F.SetTimer(F.Timer.IDLE, A.IDLE_MS)
    flow.handle(F.Dtmf("0"), 20_000)  # re-armed to 50 s
    assert not any(isinstance(c, F.HangUp) for c in flow.handle(F.TimerFired("idle"), 30_000))
    assert flow.state is F.AdminState.CHOOSE  # (any event restarts the idle time: now due at 60 s)
    out = flow.handle(F.TimerFired("idle"), 60_000)
    assert [p.text for p in plays(out)] == [A.BYE] and out[-1] == F.HangUp(F.Outcome.PROMPT_ADMIN)
