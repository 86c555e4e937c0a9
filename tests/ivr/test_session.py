"""A call's lifecycle when set-up fails: the caller goes on in the dialplan's fallback, never hung up.

The real thing (Asterisk playing the apology and ringing the operators) is in test_call_e2e.py; this
checks quickly what the session asks of ARI, with an ARI fake that records the requests.
"""

from __future__ import annotations

import asyncio

from ivr.app import Hotline
from ivr.ari import AriError
from ivr.rtp import PortPool
from ivr.session import CallSession
from tests.support import FakeCallLog


class RecordingAri:
    """Answers set-up requests like Asterisk; `refuse_continue` makes `continue` fail like a 404."""

    def __init__(self, refuse_continue: bool = False) -> None:
        self.requests: list[tuple] = []
        self.refuse_continue = refuse_continue

    async def answer(self, channel_id):
        self.requests.append(("answer", channel_id))

    async def variable(self, channel_id, name):
        return "(ulaw)"

    async def hangup(self, channel_id):
        self.requests.append(("hangup", channel_id))

    async def destroy_bridge(self, bridge_id):
        self.requests.append(("destroy_bridge", bridge_id))

    async def continue_in_dialplan(self, channel_id, context, extension, label):
        self.requests.append(("continue", channel_id, context, extension, label))
        if self.refuse_continue:
            raise AriError("ARI POST /channels/x/continue: 404 Channel not found", 404)


class Services:
    """What a call reads while it sets up; the RTP port range is empty, as when every port is taken."""

    def __init__(self, settings, ari) -> None:
        self.settings = settings
        self.ari = ari
        self.ports = PortPool(40000, 39999)
        self.calllog = FakeCallLog()
        self.review = None
        self.radio = None  # no commune radio: no emergency notice

        class Store:  # the call row as the application wrote it before answering (earlier releases)
            def start_call(self, *args, **kwargs):
                return 1

            def end_call(self, *args, **kwargs):
                pass

        self.store = Store()


CALLER = {
    "id": "1712345678.42",
    "caller": {"number": "0912345678", "name": ""},
    "dialplan": {"context": "from-carrier", "exten": "02383999999", "priority": 3},
}


async def run_call(settings, ari, args=()) -> Hotline:
    app = Hotline(Services(settings, ari))  # type: ignore[arg-type]
    session = CallSession(app, CALLER, list(args))
    app.sessions[session.channel_id] = session
    await asyncio.wait_for(session.run(), 10)
    return app


def caller_requests(ari: RecordingAri) -> list[str]:
    return [r[0] for r in ari.requests if r[0] in ("continue", "hangup") and r[1] == CALLER["id"]]


async def test_a_call_that_cannot_be_set_up_continues_in_the_dialplan_fallback(settings):
    ari = RecordingAri()
    app = await run_call(settings, ari)
    assert ("continue", "1712345678.42", "from-carrier", "02383999999", "fallback") in ari.requests
    assert ("hangup", "1712345678.42") not in ari.requests
    assert app.sessions == {} and app.s.ports.in_use == 0
    assert [r[0] for r in app.s.calllog.rows] == ["start", "end"] and app.s.calllog.rows[-1][2] == "failed"


async def test_when_the_dialplan_refuses_the_caller_is_hung_up_and_the_prompt_line_never_falls_back(
    settings,
):
    ari = RecordingAri(refuse_continue=True)
    await run_call(settings, ari)
    assert caller_requests(ari) == ["continue", "hangup"]
    ari = RecordingAri()
    await run_call(settings, ari, ["prompt-admin"])  # an operator re-recording prompts: just hang up
    assert caller_requests(ari) == ["hangup"]


async def test_the_media_channel_going_away_is_a_warning_only_when_the_call_did_not_end_it(settings, caplog):
    """The hotline ending a call (goodbye, call limit) hangs up its own media channel: no warning then."""

    class EchoingAri(RecordingAri):  # Asterisk reports our hang-up of the media channel back to the call
        async def hangup(self, channel_id):
            await super().hangup(channel_id)
            session.channel_gone(channel_id)

    app = Hotline(Services(settings, EchoingAri()))  # type: ignore[arg-type]
    session = CallSession(app, CALLER, [])
    session.started = True  # the call ran; the hotline ends it, the caller is still on the line
    with caplog.at_level("WARNING", logger="ivr.session"):
        await asyncio.wait_for(session.teardown(), 10)
    assert ("hangup", session.media_id) in app.s.ari.requests
    assert "went away" not in caplog.text
    # During the call, the media channel vanishing is worth a warning.
    other = CallSession(app, CALLER, [])
    with caplog.at_level("WARNING", logger="ivr.session"):
        other.channel_gone(other.media_id)
    # (the channel id may be masked: a test before may have installed the log's personal-data filter)
    assert [r.getMessage() for r in caplog.records if "went away" in r.getMessage()]


async def test_words_at_a_pause_get_the_answer_ready_and_nothing_else(settings):
    """Speculation: the transcript at a pause (the turn may not end there) has its answer's audio read
    into the prompt cache; the flow hears nothing, nothing is logged, an action's intent runs nothing."""
    from ivr import flow as F
    from tests.ivr.test_flow import MENU, fake_match

    class Prompts:
        def __init__(self) -> None:
            self.made: list[str] = []

        def cached_text(self, text):
            return None

        async def text_audio(self, text):
            self.made.append(text)

    services = Services(settings, RecordingAri())
    services.prompts = Prompts()
    app = Hotline(services)  # type: ignore[arg-type]
    session = CallSession(app, CALLER, [])
    session.flow = flow = F.CallFlow(MENU, fake_match)
    flow.state = F.State.MAIN
    session.on_tentative_transcript("làm căn cước")
    session.on_tentative_transcript("tôi muốn phản ánh")  # an action: nothing made ahead, nothing run
    session.on_tentative_transcript("xin chào")  # no intent
    await asyncio.gather(*list(session._tasks))
    assert services.prompts.made == ["Làm căn cước ở công an xã."]
    assert session.queue.empty() and services.calllog.rows == []
    assert flow.state is F.State.MAIN
    flow.state = F.State.COLLECT  # a code being said: its digits are not a question
    session.on_tentative_transcript("làm căn cước")
    assert not session._tasks
