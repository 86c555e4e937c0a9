"""The ARI client against a stand-in event server on loopback: ordering, malformed events, reconnects.

The real Asterisk is exercised in test_call_e2e.py (including a restart mid-session); this checks the
client's own behaviour quickly and deterministically.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from ivr import flow as F
from ivr.app import Hotline
from ivr.ari import AriClient, AriConfig, parse_event
from ivr.ids import OUR_PREFIXES, PREFIX_MEDIA
from tests.support import FakeServices


@pytest.mark.parametrize(
    "raw,ok",
    [
        ('{"type": "StasisStart"}', True),
        ("[1,2]", False),
        ("{bad", False),
        ('{"type": 5}', False),
        (b"\xff\xfe", False),
    ],
)
def test_parse_event(raw, ok):
    assert (parse_event(raw) is not None) == ok


async def test_events_in_order_malformed_ignored_and_reconnect_with_backoff():
    connections = 0
    auth_headers = []

    async def handler(ws):
        nonlocal connections
        connections += 1
        auth_headers.append(ws.request.headers.get("Authorization"))
        if connections == 1:
            await ws.send("not json")
            for i in range(20):
                await ws.send(json.dumps({"type": "ChannelDtmfReceived", "digit": str(i % 10), "seq": i}))
            await ws.close()  # Asterisk restarting
        else:
            await ws.send(json.dumps({"type": "StasisStart", "seq": 99}))
            await ws.wait_closed()

    server = await websockets.serve(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = AriClient(AriConfig(f"http://127.0.0.1:{port}", "u", "p", "hotline", max_backoff_s=0.5))
    got: list[int] = []
    syncs = 0

    async def on_connect():
        nonlocal syncs
        syncs += 1

    stop = asyncio.Event()
    task = asyncio.create_task(client.run(lambda ev: got.append(ev["seq"]), stop, on_connect=on_connect))
    for _ in range(300):
        if 99 in got:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 5)
    server.close()
    await server.wait_closed()
    await client.close()
    assert got == list(range(20)) + [99]  # in order, across a reconnect
    assert client.malformed == 1 and client.connects == 2 and syncs == 2
    assert auth_headers[0].startswith("Basic ")


async def test_unreachable_asterisk_retries_until_stopped():
    client = AriClient(AriConfig("http://127.0.0.1:9", "u", "p", "hotline", max_backoff_s=0.2))
    stop = asyncio.Event()
    task = asyncio.create_task(client.run(lambda ev: None, stop))
    await asyncio.sleep(0.8)
    assert not task.done() and client.connects == 0
    stop.set()
    await asyncio.wait_for(task, 2)
    await client.close()


class FakeSession:
    """Records what the router delivers to a call (a stand-in for CallSession)."""

    def __init__(self):
        self.events = []
        self.gone = []
        self.started = True

    def post(self, ev):
        self.events.append(ev)

    def channel_gone(self, cid):
        self.gone.append(cid)


async def test_router_ignores_own_channels_and_routes_call_events(monkeypatch):
    app = Hotline(FakeServices())
    started = []
    monkeypatch.setattr(app, "start_session", lambda ch, args: started.append((ch["id"], args)))
    media_id = PREFIX_MEDIA + "abc"
    fut = app.expect(media_id)
    app.on_event({"type": "StasisStart", "channel": {"id": media_id}})
    assert fut.done() and started == []  # our externalMedia channel is never a caller
    app.on_event({"type": "StasisStart", "channel": {"id": media_id}})  # late duplicate: still ignored
    app.on_event({"type": "StasisStart", "channel": {"id": "op-x"}, "args": ["operator", "1"]})
    app.on_event({"type": "StasisStart", "channel": {"id": "1.1"}, "args": []})
    assert started == [("1.1", [])]
    session = FakeSession()
    app.sessions["1.1"] = session
    app.owned[media_id] = session
    app.on_event({"type": "ChannelDtmfReceived", "channel": {"id": "1.1"}, "digit": "5"})
    app.on_event({"type": "ChannelDtmfReceived", "channel": {"id": "1.1"}})  # no digit: ignored
    app.on_event({"type": "StasisEnd", "channel": {"id": media_id}})
    app.on_event({"type": "StasisEnd", "channel": {"id": "1.1"}})
    app.on_event({"type": "StasisEnd", "channel": "garbage"})
    app.on_event({"type": "Unknown"})
    assert session.events == [F.Dtmf("5"), F.Hangup()]
    assert session.gone == [media_id]
    assert all(p.startswith("hl-") for p in OUR_PREFIXES)


async def test_operator_channel_destroyed_before_answer_fails_the_waiter():
    app = Hotline(FakeServices())
    fut = app.expect("hl-op-1")
    app.on_event({"type": "ChannelDestroyed", "channel": {"id": "hl-op-1"}, "cause_txt": "No route"})
    with pytest.raises(Exception, match="destroyed"):
        await fut


# Events whose fields have types ARI never sends (a fuzzer's, a broken proxy's): each used to raise in the
# router or in a call's set-up, which leaves a real caller in Stasis with nobody answering.
HOSTILE_EVENTS = [
    {"type": "StasisStart", "channel": {"id": "c1"}, "args": 5},
    {"type": "StasisStart", "channel": {"id": "c2"}, "args": {"a": 1}},
    {"type": "StasisStart", "channel": {"id": "c3", "caller": "0912345678"}},
    {"type": "StasisStart", "channel": {"id": "c4", "caller": {"number": 912345678, "name": ["x"]}}},
    {"type": "StasisStart", "channel": {"id": "c5", "channelvars": [1], "dialplan": "hotline-in"}},
    {"type": "StasisStart", "channel": {"id": ""}},
    {"type": "StasisStart", "channel": {"id": "1" * 100_000}},
    {"type": "StasisStart", "channel": {"id": 7}},
    {"type": "ChannelDtmfReceived", "channel": {"id": "c1"}, "digit": "5" * 1000},
    {"type": "ChannelDtmfReceived", "channel": {"id": "c1"}, "digit": 5},
    {"type": "StasisEnd", "channel": ["c1"]},
    {"type": "NoSuchEvent", "channel": {"id": "c1"}},
]


async def test_hostile_event_fields_never_raise_and_a_caller_of_the_wrong_type_is_withheld(monkeypatch):
    from ivr.session import CallSession

    app = Hotline(FakeServices())
    made: list[CallSession] = []
    monkeypatch.setattr(app, "start_session", lambda ch, args: made.append(CallSession(app, ch, args)))
    for ev in HOSTILE_EVENTS:
        app.on_event(ev)  # none raises
    assert [s.channel_id for s in made] == ["c1", "c2", "c3", "c4", "c5"]  # no empty or oversized id
    assert [s.args for s in made[:2]] == [[], []]
    assert all(s.caller == "" and s.sip_call_id == "" for s in made)  # withheld, not a crash
    assert made[4].dialplan_at == ("", "")
    session = FakeSession()
    app.sessions["c1"] = session
    for ev in HOSTILE_EVENTS[8:]:
        app.on_event(ev)
    assert session.events == []  # neither 1,000 keys in one event nor a number posing as a key
