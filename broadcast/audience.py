"""Who a bulletin speaks to: the spoken greeting's audience and the written label of its communes.

One implementation for the script (what listeners hear), the tags and the pages, so a bulletin for
chosen communes names them everywhere and a province-wide one keeps the province's wording.
"""

from __future__ import annotations

from collections.abc import Sequence

from broadcast.communes import Commune

PROVINCE_WIDE = "các xã, phường trong tỉnh"  # spoken audience of a bulletin for every commune
# Past this many communes a greeting reading every name is longer than the news itself.
MAX_NAMED = 6


def _join(names: Sequence[str]) -> str:
    """ "A", "A và B", "A, B và C"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} và {names[-1]}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def spoken_audience(communes: Sequence[Commune] | None) -> str:
    """The `{commune}` of a greeting: "xã Anh Sơn", "các xã Anh Sơn, Đô Lương và Yên Thành",
    "xã Anh Sơn và phường Cửa Lò"; every commune (None): the province's wording."""
    if not communes:
        return PROVINCE_WIDE
    if len(communes) == 1:
        return _lower_first(communes[0].name)
    if len(communes) > MAX_NAMED:
        kinds = sorted({c.kind for c in communes}, key=("xã", "phường", "đặc khu").index)
        return f"{len(communes)} {', '.join(kinds)} nhận bản tin này"
    if len({c.kind for c in communes}) == 1:  # one kind: named once, "các xã A, B và C"
        return f"các {communes[0].kind} {_join([c.short_name for c in communes])}"
    return _join([_lower_first(c.name) for c in communes])


def written_label(communes: Sequence[Commune] | None, province: str) -> str:
    """The communes as written on tags and pages: "Xã Anh Sơn, Phường Cửa Lò" or the whole province."""
    if not communes:
        return f"Tất cả xã, phường tỉnh {province}"
    return ", ".join(c.name for c in communes)
