"""A commune's daily playlist: for each of its air times, what is due, in Circular 39/2020's order.

Pure: the segments, the day, the air times, the zone and the moment "now" are passed in. A segment is due
at an air time when it is published and not expired at that moment; emergencies first, then priority,
then normal, newest first within a level. An emergency is due at every air time while it lasts (its
`expires`, else `emergency_hours` after it was published) and, while it lasts, is also to be played now.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from broadcast.bulletin import PRIORITY_LABELS_VI
from broadcast.models import Segment
from broadcast.playlist import airing_order

TODAY = "hom-nay"  # the URL's word for today's playlist
_DAY = re.compile(r"^(\d{2})-(\d{2})-(\d{4})$")  # 04-12-2026 in a URL


def parse_day(text: str, today: dt.date) -> dt.date | None:
    """The day of a playlist URL: "04-12-2026" or "hom-nay"; None when it is neither."""
    if text == TODAY:
        return today
    m = _DAY.match(text)
    if m is None:
        return None
    try:
        return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None


def airs_until(seg: Segment, emergency_hours: int) -> dt.datetime | None:
    """Naive UTC end of airing: its expiry; an emergency without one lasts `emergency_hours`."""
    if seg.expires_at is not None or seg.priority != "emergency":
        return seg.expires_at
    return (seg.publish_at or seg.created_at) + dt.timedelta(hours=emergency_hours)


def airs_at(seg: Segment, moment: dt.datetime, emergency_hours: int) -> bool:
    """Published and still airing at `moment` (naive UTC)."""
    if seg.publish_at is not None and seg.publish_at > moment:
        return False
    if seg.publish_at is None and seg.created_at > moment:
        return False  # not rendered yet then
    until = airs_until(seg, emergency_hours)
    return until is None or until > moment


def emergencies_now(segments: Sequence[Segment], now: dt.datetime, emergency_hours: int) -> list[Segment]:
    """Emergencies airing at `now`, newest first (the hotline says them after its greeting)."""
    return [s for s in segments if s.priority == "emergency" and airs_at(s, now, emergency_hours)]


@dataclass(frozen=True)
class Slot:
    time: dt.time  # local air time
    at: dt.datetime  # the same moment, aware, in the configured zone
    segments: list[Segment]


@dataclass(frozen=True)
class DayPlan:
    day: dt.date
    play_now: list[Segment]  # emergencies to play at once (today's playlist only)
    slots: list[Slot]


def day_plan(
    segments: Sequence[Segment],
    day: dt.date,
    times: Sequence[dt.time],
    tz: dt.tzinfo,
    now: dt.datetime,
    emergency_hours: int,
) -> DayPlan:
    """What a commune airs on `day` (segments: the commune's, newest first; now: naive UTC)."""
    slots = []
    for t in sorted(times):
        at = dt.datetime.combine(day, t, tz)
        moment = at.astimezone(dt.UTC).replace(tzinfo=None)
        due = airing_order([s for s in segments if airs_at(s, moment, emergency_hours)])
        slots.append(Slot(t, at, due))
    today = now.replace(tzinfo=dt.UTC).astimezone(tz).date()
    play_now = emergencies_now(segments, now, emergency_hours) if day == today else []
    return DayPlan(day, play_now, slots)


def item_json(seg: Segment, url: Callable[[Segment], str], column: Callable[[str], str]) -> dict:
    return {
        "id": seg.id,
        "title": seg.title,
        "priority": seg.priority,
        "priority_label": PRIORITY_LABELS_VI.get(seg.priority, seg.priority),
        "programme": column(seg.template),
        "duration_s": round(seg.duration_s, 1),
        "play_now": seg.priority == "emergency",
        "url": url(seg),
    }


def plan_json(
    plan: DayPlan,
    commune: dict,
    tz_name: str,
    url: Callable[[Segment], str],
    column: Callable[[str], str],
) -> dict:
    """The JSON playlist (`DayPlaylistOut` in the API document)."""
    return {
        "commune": commune,
        "date": plan.day.isoformat(),
        "date_vi": f"{plan.day:%d/%m/%Y}",
        "time_zone": tz_name,
        "play_now": [item_json(s, url, column) for s in plan.play_now],
        "slots": [
            {
                "time": f"{slot.time:%H:%M}",
                "at": slot.at.isoformat(timespec="minutes"),
                "items": [item_json(s, url, column) for s in slot.segments],
            }
            for slot in plan.slots
        ],
    }


def plan_m3u(plan: DayPlan, title: str, url: Callable[[Segment], str]) -> str:
    """Extended M3U of the day: "Phát ngay" (emergencies, today) then one group per air time."""
    lines = ["#EXTM3U", f"#PLAYLIST:{title}"]

    def group(name: str, segments: list[Segment]) -> None:
        for seg in segments:
            label = PRIORITY_LABELS_VI.get(seg.priority, "")
            shown = seg.title if seg.priority == "normal" else f"[{label}] {seg.title}"
            lines.extend([f"#EXTGRP:{name}", f"#EXTINF:{int(round(seg.duration_s))},{shown}", url(seg)])

    group("Phát ngay", plan.play_now)
    for slot in plan.slots:
        group(f"Giờ phát {slot.time:%H:%M}", slot.segments)
    return "\n".join(lines) + "\n"
