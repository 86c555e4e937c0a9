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


_OUTSIDE = re.compile(r"PJSIP/([^@]+)@(.+)")
_BARE_NUMBER = re.compile(r"\+?[0-9]+")


def outside_number(target: str) -> tuple[str, str] | None:
    """(number, endpoint) of a target that rings a number through a trunk: PJSIP/0912345678@trunk-vnpt."""
    m = _OUTSIDE.fullmatch(target)
    return (m.group(1), m.group(2)) if m else None


def expand_targets(spec: str, dial_out_endpoint: str) -> str:
    """Write bare numbers of a target list as calls through the dial-out trunk's endpoint.

    "PJSIP/operator&0912345678" -> "PJSIP/operator&PJSIP/0912345678@trunk-vnpt".
    ValueError for a number when no trunk carries calls out.
    """
    if not spec.strip():
        return ""
    out: list[str] = []
    for part in (p.strip() for p in spec.split("&")):
        if _BARE_NUMBER.fullmatch(part):
            if not dial_out_endpoint:
                raise ValueError(f"{part} is an outside number but ivr.asterisk.dial_out.trunk is empty")
            part = f"PJSIP/{part}@{dial_out_endpoint}"
        out.append(part)
    return "&".join(dial_targets("&".join(out)))


def check_dialable(target: str, allowlist: tuple[str, ...], trunk_endpoints: tuple[str, ...]) -> None:
    """ValueError unless `target` rings a phone of ours or an allowlisted number through a trunk.

    The hotline never dials anything else: no other technology (Local/ would enter the dialplan), no
    trunk without a number, no number outside the allowlist (toll fraud starts with one open path).
    """
    if not target.startswith("PJSIP/"):
        raise ValueError(f"{target}: only PJSIP/ phones and allowlisted numbers can be rung")
    outside = outside_number(target)
    if outside is None:
        if target.removeprefix("PJSIP/") in trunk_endpoints:
            raise ValueError(f"{target} rings a trunk without a number: write PJSIP/<number>@{target[6:]}")
        return
    number, endpoint = outside
    if endpoint not in trunk_endpoints:
        raise ValueError(f"{target}: {endpoint} is not a trunk (trunk-<name> from ivr.asterisk.trunks)")
    if number not in allowlist:
        raise ValueError(f"{target}: {number} is not in ivr.asterisk.dial_out.allowlist")
