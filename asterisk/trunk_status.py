"""How each trunk is doing on a running Asterisk: registration, reachability, calls in progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asterisk.handle import AsteriskHandle
    from asterisk.trunks import TrunkSettings


@dataclass(frozen=True)
class TrunkStatus:
    name: str
    kind: str
    registration: str  # register trunks: Registered, Unregistered, Rejected, ...; others: "-"
    state: str  # ARI endpoint state: online (a gateway is registered / the carrier answers), offline, unknown
    calls: int  # channels up on the trunk now

    def line(self) -> str:
        reg = f", registration {self.registration}" if self.kind == "register" else ""
        return f"{self.name} ({self.kind}): {self.state}{reg}, {self.calls} call(s)"


def registrations(cli_output: str) -> dict[str, str]:
    """`pjsip show registrations` -> registration name -> status (Registered, Rejected, ...)."""
    out: dict[str, str] = {}
    for line in cli_output.splitlines():
        parts = line.split()
        if len(parts) >= 3 and "/" in parts[0] and not parts[0].startswith("<"):
            out[parts[0].split("/", 1)[0]] = parts[2]
    return out


def trunk_status(handle: AsteriskHandle, trunks: tuple[TrunkSettings, ...]) -> list[TrunkStatus]:
    regs = registrations(handle.cli("pjsip show registrations")) if handle.layout is not None else {}
    out = []
    for t in trunks:
        try:
            ep = handle.ari("GET", f"/endpoints/PJSIP/{t.endpoint}")
            state, calls = str(ep.get("state") or "unknown"), len(ep.get("channel_ids") or [])
        except Exception:  # the running Asterisk was started before this trunk was configured
            state, calls = "not configured (restart Asterisk)", 0
        reg = regs.get(t.endpoint, "none") if t.kind == "register" else "-"
        out.append(TrunkStatus(t.name, t.kind, reg, state, calls))
    return out
