"""Calls nobody serves: what a crashed or stopped application left in Asterisk, handed on.

When the application dies, Asterisk keeps each caller in our Stasis application with nobody attached:
the caller hears nothing until they give up. Whoever reaches ARI next (the supervisor of `hotline run`
the moment its worker dies, or the application on every (re)connection) hands each such caller to the
dialplan's `fallback` label (a recorded apology, every operator seat, then a message), hangs up the
media and operator legs nobody owns, and removes our bridges. A caller already talking to an operator
is left talking: the two are "kept", and the application ends the pair when one side hangs up.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ivr.ari import AriClient, AriError
from ivr.ids import OUR_PREFIXES, PREFIX_BRIDGE, PREFIX_OPERATOR

logger = logging.getLogger(__name__)

FALLBACK_LABEL = "fallback"  # the dialplan label an unserved call continues at (extensions.conf)
FALLBACK_CONTEXT = "hotline-in"  # where a call whose dialplan position is unknown continues


@dataclass(frozen=True)
class KeptPair:
    """A caller and an operator still talking in our bridge: left alone, ended together."""

    bridge_id: str
    caller_id: str
    operator_id: str


@dataclass
class Handover:
    """What one pass did (for the log and the tests)."""

    to_fallback: list[str] = field(default_factory=list)  # callers continued at the fallback label
    hung_up: list[str] = field(default_factory=list)  # our media/operator legs, callers the dialplan refused
    bridges_removed: list[str] = field(default_factory=list)
    kept: list[KeptPair] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.to_fallback or self.hung_up or self.bridges_removed)

    def describe(self) -> str:
        return (
            f"{len(self.to_fallback)} callers to the fallback, {len(self.hung_up)} channels hung up, "
            f"{len(self.bridges_removed)} bridges removed, {len(self.kept)} operator calls left talking"
        )


def in_app(channel: dict[str, Any], app_name: str) -> bool:
    """The channel sits in our Stasis application (Stasis(app[,args]) is its current dialplan app)."""
    dialplan = channel.get("dialplan") or {}
    stasis_app = str(dialplan.get("app_data", "")).split(",")[0]
    return dialplan.get("app_name") == "Stasis" and stasis_app == app_name


def created_at(channel: dict[str, Any]) -> datetime | None:
    """The channel's creation time as Asterisk reports it (e.g. 2026-12-03T22:10:31.123+0000)."""
    try:
        return datetime.strptime(str(channel.get("creationtime", "")), "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None


def kept_pairs(channels: list[dict[str, Any]], bridges: list[dict[str, Any]]) -> list[KeptPair]:
    """Callers bridged with an answered operator leg in one of our bridges."""
    state = {c.get("id"): c.get("state") for c in channels}
    pairs = []
    for bridge in bridges:
        bid = str(bridge.get("id", ""))
        if not bid.startswith(PREFIX_BRIDGE):
            continue
        members = [str(m) for m in bridge.get("channels") or []]
        callers = [m for m in members if not m.startswith(OUR_PREFIXES) and state.get(m) == "Up"]
        operators = [m for m in members if m.startswith(PREFIX_OPERATOR) and state.get(m) == "Up"]
        if len(callers) == 1 and len(operators) == 1:
            pairs.append(KeptPair(bid, callers[0], operators[0]))
    return pairs


async def hand_over(
    ari: AriClient,
    app_name: str,
    *,
    served: Collection[str] = (),
    served_bridges: Collection[str] = (),
    before: datetime | None = None,
) -> Handover:
    """Hand on every channel of our application that nobody serves.

    `served`: channel ids a live application owns (left alone). `before`: only channels created before
    this moment are orphans; a caller created later is a new call whose StasisStart is on its way to
    the application that just connected. Each step is best effort (the channel may hang up meanwhile).
    """
    channels = await ari.channels()
    bridges = await ari.bridges()
    done = Handover()
    kept = [p for p in kept_pairs(channels, bridges) if p.caller_id not in served]
    done.kept = kept
    keep = {cid for p in kept for cid in (p.caller_id, p.operator_id)}
    for ch in channels:
        cid = str(ch.get("id", ""))
        if cid in served or cid in keep:
            continue
        if cid.startswith(OUR_PREFIXES):
            await _quietly(ari.hangup(cid), f"hang up {cid}")
            done.hung_up.append(cid)
            continue
        if not in_app(ch, app_name):
            continue
        made = created_at(ch)
        if before is not None and (made is None or made >= before):
            continue
        dialplan = ch.get("dialplan") or {}
        if await to_fallback(ari, cid, str(dialplan.get("context") or ""), str(dialplan.get("exten") or "")):
            done.to_fallback.append(cid)
        else:
            done.hung_up.append(cid)
    keep_bridges = {p.bridge_id for p in kept} | set(served_bridges)
    for bridge in bridges:
        bid = str(bridge.get("id", ""))
        if bid.startswith(PREFIX_BRIDGE) and bid not in keep_bridges:
            await _quietly(ari.destroy_bridge(bid), f"remove bridge {bid}")
            done.bridges_removed.append(bid)
    if done:
        logger.warning("calls nobody served were handed on: %s", done.describe())
    return done


async def to_fallback(ari: AriClient, channel_id: str, context: str, exten: str) -> bool:
    """Continue the caller at the `fallback` label of its place in the dialplan (an apology, every
    operator seat, then a message); hang up if the dialplan refuses. True when handed on."""
    try:
        await ari.continue_in_dialplan(channel_id, context or FALLBACK_CONTEXT, exten or "s", FALLBACK_LABEL)
        return True
    except AriError as exc:
        logger.error("call %s: the dialplan fallback refused it (%s): hung up", channel_id, exc)
        await _quietly(ari.hangup(channel_id), f"hang up {channel_id}")
        return False


async def _quietly(step: Any, what: str) -> None:
    try:
        await step
    except AriError as exc:
        logger.debug("%s: %s", what, exc)


async def hand_over_call(ari: AriClient, channel_name: str) -> Handover:
    """Hand on one call nobody serves any more, found by its caller's channel name (a call's own
    WebSocket came back to a worker that does not know it: the worker that served it is gone).

    The caller goes to the fallback label; our media and operator legs of its bridge are hung up and the
    bridge removed, unless the caller is talking to an operator (then `kept` names the pair)."""
    channels = await ari.channels()
    done = Handover()
    caller = next((c for c in channels if c.get("name") == channel_name), None)
    if caller is None or (caller.get("dialplan") or {}).get("app_name") != "Stasis":
        return done  # hung up meanwhile, or back in the dialplan already: nothing to hand on
    cid = str(caller.get("id", ""))
    bridges = [
        b
        for b in await ari.bridges()
        if str(b.get("id", "")).startswith(PREFIX_BRIDGE) and cid in (b.get("channels") or [])
    ]
    done.kept = kept_pairs(channels, bridges)
    if done.kept:
        logger.warning("call %s: its worker is gone; the caller and the operator go on talking", cid)
        return done
    for bridge in bridges:
        for member in bridge.get("channels") or []:
            if str(member).startswith(OUR_PREFIXES):
                await _quietly(ari.hangup(str(member)), f"hang up {member}")
                done.hung_up.append(str(member))
        await _quietly(ari.destroy_bridge(str(bridge["id"])), f"remove bridge {bridge['id']}")
        done.bridges_removed.append(str(bridge["id"]))
    dialplan = caller.get("dialplan") or {}
    context, exten = str(dialplan.get("context") or FALLBACK_CONTEXT), str(dialplan.get("exten") or "s")
    try:
        await ari.continue_in_dialplan(cid, context, exten, FALLBACK_LABEL)
        done.to_fallback.append(cid)
    except AriError as exc:
        if exc.status == 409:  # not in Stasis (yet): a new call whose StasisStart is late, not an orphan
            logger.warning("call %s is not in Stasis: not handed on (%s)", cid, exc)
            return done
        logger.error("call %s: the dialplan fallback refused it (%s): hung up", cid, exc)
        await _quietly(ari.hangup(cid), f"hang up {cid}")
        done.hung_up.append(cid)
    logger.warning("call %s nobody served any more was handed on: %s", cid, done.describe())
    return done
