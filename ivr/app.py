"""The hotline application: routes ARI events to one `CallSession` per call, re-syncs after reconnects.

What calls share (`Services`) and how a call's flow is built (`build_flow`) live in `ivr.services`;
a call's lifecycle in `ivr.session`, its listening in `ivr.listener`, its actions in `ivr.actions`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ivr import flow as F
from ivr.ari import AriError, channel_id_of, channel_of
from ivr.ids import OUR_PREFIXES, PREFIX_BRIDGE, PREFIX_MEDIA, PREFIX_OPERATOR
from ivr.services import Services
from ivr.session import CallSession

logger = logging.getLogger(__name__)

DTMF_KEYS = "0123456789*#ABCD"  # what ChannelDtmfReceived can carry, one key per event


class Hotline:
    """Routes ARI events to call sessions; re-syncs with Asterisk after every (re)connection."""

    def __init__(self, services: Services) -> None:
        self.s = services
        self.sessions: dict[str, CallSession] = {}  # caller channel id -> session
        self.owned: dict[str, CallSession] = {}  # our media/operator channel id -> session
        self.waiters: dict[str, asyncio.Future] = {}  # channel id -> its StasisStart
        self.background: set[asyncio.Task] = set()
        self.finished_sessions = 0

    # --- events ---------------------------------------------------------------------------------

    def on_event(self, ev: dict[str, Any]) -> None:
        kind = ev.get("type")
        ch = channel_of(ev)
        cid = channel_id_of(ev)
        if cid is None:
            return
        if kind == "StasisStart":
            waiter = self.waiters.pop(cid, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(ev)
                return
            if cid.startswith(OUR_PREFIXES) or cid in self.owned:
                return  # our own externalMedia/operator channel: never a caller
            args = ev.get("args")
            args = [a for a in args if isinstance(a, (str, int))] if isinstance(args, list) else []
            if args and args[0] == "operator":
                return
            if cid not in self.sessions:
                self.start_session(ch, [str(a) for a in args])
        elif kind == "StasisEnd":
            if cid in self.sessions:
                self.sessions[cid].post(F.Hangup())
            elif cid in self.owned:
                self.owned[cid].channel_gone(cid)
        elif kind == "ChannelDtmfReceived":
            session = self.sessions.get(cid)
            digit = ev.get("digit")
            if session is not None and isinstance(digit, str) and len(digit) == 1 and digit in DTMF_KEYS:
                session.post(F.Dtmf(digit))
        elif kind == "ChannelDestroyed":
            waiter = self.waiters.pop(cid, None)
            if waiter is not None and not waiter.done():
                waiter.set_exception(AriError(f"channel {cid} destroyed ({ev.get('cause_txt', '')})"))
            if cid in self.owned:
                self.owned[cid].channel_gone(cid)
            elif cid in self.sessions:
                self.sessions[cid].post(F.Hangup())

    def expect(self, channel_id: str) -> asyncio.Future:
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        self.waiters[channel_id] = fut
        return fut

    def start_session(self, channel: dict[str, Any], args: list[str]) -> None:
        session = CallSession(self, channel, args)
        self.sessions[session.channel_id] = session
        task = asyncio.create_task(session.run(), name=f"call-{session.channel_id}")
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    def spawn(self, coro: Any, name: str) -> asyncio.Task:
        task = asyncio.create_task(coro, name=name)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    # --- (re)connection -------------------------------------------------------------------------

    async def resync(self) -> None:
        """After (re)connecting: adopt callers still in our Stasis app, end sessions whose channel is gone,
        and remove media channels and bridges nobody owns."""
        channels = await self.s.ari.channels()
        present = {c.get("id") for c in channels}
        for cid, session in list(self.sessions.items()):
            if cid not in present and session.started:
                logger.info("call %s vanished while disconnected", cid)
                session.post(F.Hangup())
        for ch in channels:
            cid = ch.get("id", "")
            if cid.startswith((PREFIX_MEDIA, PREFIX_OPERATOR)) and cid not in self.owned:
                logger.info("removing orphan channel %s", cid)
                await self.s.ari.hangup(cid)
                continue
            dialplan = ch.get("dialplan") or {}
            in_our_app = (
                dialplan.get("app_name") == "Stasis"
                and str(dialplan.get("app_data", "")).split(",")[0] == self.s.settings.ivr.app_name
            )
            if (
                in_our_app
                and not cid.startswith(OUR_PREFIXES)
                and cid not in self.sessions
                and cid not in self.owned
                and ch.get("state") in ("Up", "Ring", "Ringing")
            ):
                logger.info("adopting call %s still in Stasis", cid)
                self.start_session(ch, [])
        owned_bridges = {s.bridge_id for s in self.sessions.values()}
        for b in await self.s.ari.bridges():
            bid = b.get("id", "")
            if bid.startswith(PREFIX_BRIDGE) and bid not in owned_bridges:
                logger.info("removing orphan bridge %s", bid)
                await self.s.ari.destroy_bridge(bid)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self.s.ari.run(self.on_event, stop, on_connect=self.resync)
        finally:
            for session in list(self.sessions.values()):
                session.post(F.Hangup())
            # Calls end (and store their tickets) first; background work such as pre-rendering is cancelled.
            calls = [
                t
                for t in self.background
                if not t.done() and t.get_name().startswith(("call-", "transcribe-"))
            ]
            if calls:
                await asyncio.wait(calls, timeout=15)
            rest = [t for t in self.background if not t.done()]
            for t in rest:
                t.cancel()
            if rest:
                await asyncio.wait(rest, timeout=5)
