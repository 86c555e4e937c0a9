"""Asterisk Dial strings: "PJSIP/operator&PJSIP/operator2" -> the endpoints it rings."""

from __future__ import annotations

import re

_DIAL_TARGET = re.compile(r"[A-Za-z][A-Za-z0-9_]*/[^\s&,()]+")


def dial_targets(spec: str) -> tuple[str, ...]:
    """The endpoints of a Dial string: "PJSIP/operator&PJSIP/operator2" -> both, in order, no duplicates.

    Empty: no endpoint. ValueError for anything that is not TECH/resource joined with `&`.
    """
    if not spec.strip():
        return ()
    out: list[str] = []
    for part in spec.split("&"):
        target = part.strip()
        if not _DIAL_TARGET.fullmatch(target):
            what = f"{target!r} is not an endpoint" if target else "an empty endpoint (a stray &)"
            raise ValueError(
                f"{what}: write TECH/resource (e.g. PJSIP/operator), several joined with & "
                "(PJSIP/operator&PJSIP/operator2)"
            )
        if target not in out:
            out.append(target)
    return tuple(out)
