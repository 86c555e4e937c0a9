"""A commune's playlist of current segments (M3U) in airing order: emergencies, then priority, then the rest.

Circular 39/2020/TT-BTTTT's levels: an emergency notice airs at once, a priority one first, a normal
one when the commune's schedule has room; within a level the newest comes first.
"""

from __future__ import annotations

from collections.abc import Callable

from broadcast.models import Segment

PRIORITY_ORDER = {"emergency": 0, "priority": 1, "normal": 2}


def airing_order(segments: list[Segment]) -> list[Segment]:
    """Stable: segments already newest first stay so within each priority level."""
    return sorted(segments, key=lambda s: PRIORITY_ORDER.get(s.priority, len(PRIORITY_ORDER)))


def build_m3u(segments: list[Segment], file_url: Callable[[Segment], str]) -> str:
    """Extended M3U with absolute links: players and loudspeaker controllers fetch each file."""
    lines = ["#EXTM3U"]
    for seg in airing_order(segments):
        lines += [f"#EXTINF:{int(round(seg.duration_s))},{seg.title}", file_url(seg)]
    return "\n".join(lines) + "\n"
