"""Handing on calls nobody serves (ivr/orphans.py), decided on what Asterisk lists; the real thing runs in
tests/test_run.py (a worker killed mid-call)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from ivr.ari import AriError
from ivr.orphans import hand_over

EARLY = "2026-01-05T08:00:00.000+0000"
LATE = "2026-01-05T08:10:00.000+0000"
CONNECTED = datetime(2026, 1, 5, 8, 5, tzinfo=UTC)


def caller(cid: str, *, app: str = "hotline", state: str = "Up", created: str = EARLY) -> dict:
    return {
        "id": cid,
        "state": state,
        "creationtime": created,
        "dialplan": {"context": "hotline-in", "exten": "1080", "app_name": "Stasis", "app_data": app},
    }


def leg(cid: str, state: str = "Up") -> dict:
    return {"id": cid, "state": state, "creationtime": EARLY, "dialplan": {"app_name": "Stasis"}}


class FakeAri:
    def __init__(self, channels: list[dict], bridges: list[dict], refuse: tuple[str, ...] = ()) -> None:
        self._channels, self._bridges, self.refuse = channels, bridges, refuse
        self.done: list[tuple] = []

    async def channels(self):
        return self._channels

    async def bridges(self):
        return self._bridges

    async def continue_in_dialplan(self, cid, context, exten, label):
        if cid in self.refuse:
            raise AriError("ARI POST continue: 404 label not found", 404)
        self.done.append(("continue", cid, context, exten, label))

    async def hangup(self, cid):
        self.done.append(("hangup", cid))

    async def destroy_bridge(self, bid):
        self.done.append(("destroy", bid))


async def test_a_dead_applications_callers_go_to_the_fallback_and_its_legs_and_bridges_go():
    ari = FakeAri(
        [caller("c1"), leg("hl-media-a"), leg("hl-op-a", state="Ringing"), caller("other", app="survey")],
        [{"id": "hl-bridge-a", "channels": ["c1", "hl-media-a"]}, {"id": "conference", "channels": []}],
    )
    done = await hand_over(ari, "hotline")  # type: ignore[arg-type]
    assert ("continue", "c1", "hotline-in", "1080", "fallback") in ari.done
    assert {("hangup", "hl-media-a"), ("hangup", "hl-op-a"), ("destroy", "hl-bridge-a")} <= set(ari.done)
    assert not [d for d in ari.done if "other" in d or "conference" in d]  # not ours
    assert done.to_fallback == ["c1"] and len(done.hung_up) == 2


async def test_a_caller_talking_to_an_operator_goes_on_talking():
    ari = FakeAri(
        [caller("c1"), leg("hl-op-a"), leg("hl-media-a")],
        [{"id": "hl-bridge-a", "channels": ["c1", "hl-op-a", "hl-media-a"]}],
    )
    done = await hand_over(ari, "hotline")  # type: ignore[arg-type]
    assert ari.done == [("hangup", "hl-media-a")]  # the media leg nobody reads; the pair and bridge stay
    assert [(p.caller_id, p.operator_id, p.bridge_id) for p in done.kept] == [
        ("c1", "hl-op-a", "hl-bridge-a")
    ]


async def test_on_reconnection_served_calls_and_calls_newer_than_the_connection_are_left_alone():
    ari = FakeAri(
        [caller("served"), caller("old"), caller("new", created=LATE), leg("hl-media-s")],
        [{"id": "hl-bridge-s", "channels": ["served", "hl-media-s"]}],
    )
    served = {"served", "hl-media-s"}
    done = await hand_over(ari, "hotline", served=served, served_bridges={"hl-bridge-s"}, before=CONNECTED)  # type: ignore[arg-type]
    assert done.to_fallback == ["old"]  # "new" entered Stasis after we connected: its StasisStart follows
    assert ari.done == [("continue", "old", "hotline-in", "1080", "fallback")]


async def test_a_caller_the_dialplan_refuses_is_hung_up_not_left_in_silence():
    ari = FakeAri([caller("c1")], [], refuse=("c1",))
    done = await hand_over(ari, "hotline")  # type: ignore[arg-type]
    assert ari.done == [("hangup", "c1")] and done.hung_up == ["c1"]


async def test_after_a_restart_the_application_ends_a_kept_pair_when_one_side_hangs_up():
    from types import SimpleNamespace

    from ivr.app import Hotline
    from tests.support import FakeServices

    ari = FakeAri(
        [caller("c1"), leg("hl-op-a"), caller("c2")],
        [{"id": "hl-bridge-a", "channels": ["c1", "hl-op-a"]}],
    )
    services = FakeServices(ari)
    services.settings = SimpleNamespace(ivr=SimpleNamespace(app_name="hotline"))  # type: ignore[attr-defined]
    app = Hotline(services)  # type: ignore[arg-type]
    await app.resync()  # right after connecting: c2 was left by the dead worker, c1 talks to an operator
    assert ari.done == [("continue", "c2", "hotline-in", "1080", "fallback")]
    app.on_event({"type": "StasisEnd", "channel": {"id": "hl-op-a"}})  # the operator hangs up
    await asyncio.gather(*app.background)
    assert ari.done[1:] == [("hangup", "c1"), ("destroy", "hl-bridge-a")] and not app.kept
    assert not app.sessions  # nobody started a new flow for the kept caller
