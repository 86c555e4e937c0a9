"""The hotline application: routes ARI events to one `CallSession` per call, re-syncs after reconnects.

What calls share (`Services`) and how a call's flow is built (`build_flow`) live in `ivr.services`;
a call's lifecycle in `ivr.session`, its listening in `ivr.listener`, its actions in `ivr.actions`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from ivr import flow as F
from ivr.ari import AriError, channel_id_of, channel_of
from ivr.ids import OUR_PREFIXES
from ivr.orphans import KeptPair, hand_over
from ivr.services import Services
from ivr.session import CallSession

logger = logging.getLogger(__name__)

HANDOVER_TIMEOUT_S = 5.0
DTMF_KEYS = "0123456789*#ABCD"  # what ChannelDtmfReceived can carry, one key per event


class Hotline:
    """Routes ARI events to call sessions; re-syncs with Asterisk after every (re)connection."""

    def __init__(self, services: Services) -> None:
        self.s = services
        self.sessions: dict[str, CallSession] = {}  # caller channel id -> session
        self.owned: dict[str, CallSession] = {}  # our media/operator channel id -> session
        self.waiters: dict[str, asyncio.Future] = {}  # channel id -> its StasisStart
        self.kept: dict[str, KeptPair] = {}  # caller and operator talking since before a restart
        self.background: set[asyncio.Task] = set()
        self.finished_sessions = 0
        self.asr_loaded = False  # the recognizer's model is loaded (warm-up done): readiness reads it
        self.orphaned = False  # a call worker's socket of a call another worker served: handed on

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
        elif kind in ("StasisEnd", "ChannelDestroyed") and cid in self.kept:
            self._end_kept(cid)
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
        """After (re)connecting: end sessions whose channel is gone, and hand on what nobody serves
        (callers a crashed or earlier run left in Stasis go to the dialplan fallback, our media and
        operator legs are hung up, our bridges removed; a caller talking to an operator goes on)."""
        # A caller created after we began connecting is a new call whose StasisStart is on its way (the
        # clocks of Asterisk and this host agree: NTP, or the same machine).
        connected_at = getattr(self.s.ari, "connecting_since", None) or datetime.now(UTC)
        channels = await self.s.ari.channels()
        present = {c.get("id") for c in channels}
        for cid, session in list(self.sessions.items()):
            if cid not in present and session.started:
                logger.info("call %s vanished while disconnected", cid)
                session.post(F.Hangup())
        done = await hand_over(
            self.s.ari,
            self.s.settings.ivr.app_name,
            served=set(self.sessions) | set(self.owned) | set(self.kept),
            served_bridges={s.bridge_id for s in self.sessions.values()},
            before=connected_at,
        )
        for pair in done.kept:
            self.kept[pair.caller_id] = pair
            self.kept[pair.operator_id] = pair

    def _end_kept(self, cid: str) -> None:
        """One side of a pair left talking after a restart hung up: end the other, remove the bridge."""
        pair = self.kept.pop(cid)
        other = pair.operator_id if cid == pair.caller_id else pair.caller_id
        self.kept.pop(other, None)
        logger.info("call %s (kept after a restart) ended", pair.caller_id)

        async def end() -> None:
            try:
                await self.s.ari.hangup(other)
                await self.s.ari.destroy_bridge(pair.bridge_id)
            except AriError as exc:
                logger.debug("ending kept call %s: %s", pair.caller_id, exc)

        self.spawn(end(), f"end-kept-{pair.caller_id}")

    async def hand_over_on_stop(self) -> None:
        """The application stops while Asterisk runs on: callers still in Stasis go to the fallback."""
        try:
            await asyncio.wait_for(hand_over(self.s.ari, self.s.settings.ivr.app_name), HANDOVER_TIMEOUT_S)
        except Exception as exc:  # Asterisk is stopping too, or unreachable: nothing to hand on
            logger.debug("hand-over at stop: %s", exc)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self.s.ari.run(self.on_event, stop, on_connect=self.resync)
        finally:
            await self.wind_down()
            await self.hand_over_on_stop()

    async def wind_down(self) -> None:
        """The connection is gone: every call ends (its ticket stored), background work is cancelled."""
        for session in list(self.sessions.values()):
            session.post(F.Hangup())
        # Calls end (and store their tickets) first; background work such as pre-rendering is cancelled.
        calls = [
            t for t in self.background if not t.done() and t.get_name().startswith(("call-", "transcribe-"))
        ]
        if calls:
            await asyncio.wait(calls, timeout=15)
        rest = [t for t in self.background if not t.done()]
        for t in rest:
            t.cancel()
        if rest:
            await asyncio.wait(rest, timeout=5)
