"""Config of the public phone network: carrier trunks, GSM/FXO gateways, NAT and the numbers we may dial.

Three ways a citizen's call reaches the hotline (`kind`):
- `register`: our Asterisk registers to the carrier with digest credentials; calls arrive on it.
- `ip`: the carrier sends INVITEs from known signalling addresses; no registration.
- `gateway`: a GoIP/Dinstar/Yeastar-style box registers to *our* Asterisk as an endpoint.

Passwords are never in the YAML: they live in the generated secrets file (`hotline asterisk
trunk-password NAME`). Every outside number the hotline may ever ring is in `dial_out.allowlist`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Codec = Literal["alaw", "ulaw"]

NAME = re.compile(r"[a-z][a-z0-9_-]{0,30}")
DID = re.compile(r"\+?[0-9]{3,15}")
NATIONAL = re.compile(r"0[1-9][0-9]{7,9}")  # 0912345678 (mobile), 02383123456 (landline)
HOST = re.compile(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\]")


def endpoint_name(trunk: str) -> str:
    """PJSIP endpoint (and AOR, auth, registration) of a trunk: kept apart from the phones' names."""
    return f"trunk-{trunk}"


def did_forms(number: str) -> tuple[str, ...]:
    """The forms a carrier may put a national number in the request URI: 0238..., 84238..., +84238..."""
    if number.startswith("0") and not number.startswith("00"):
        rest = number[1:]
        return (number, "84" + rest, "+84" + rest)
    return (number,)


def _network(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise ValueError(
            f"{value!r} is not an IP address or network (e.g. 203.0.113.10, 203.0.113.0/28)"
        ) from None


class TrunkSettings(BaseModel):
    """One entry of `ivr.asterisk.trunks:`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str  # short name: [a-z][a-z0-9_-]*; the secrets key and the endpoint trunk-<name>
    kind: Literal["register", "ip", "gateway"]
    host: str = ""  # carrier SIP server (register, ip); gateway: empty (it registers to us)
    port: int = Field(5060, ge=1, le=65535)
    transport: Literal["udp", "tcp", "tls"] = "udp"
    username: str = ""  # register: the account; ip: optional (digest auth on calls out); gateway: its user
    match: tuple[str, ...] = ()  # addresses/CIDRs allowed to send calls; register/ip: default the host
    numbers: tuple[str, ...] = Field(min_length=1)  # hotline numbers (DIDs) routed to the application
    codecs: tuple[Codec, ...] = ("alaw", "ulaw")  # offered in this order (Vietnam's network: A-law)
    max_calls: int = Field(30, ge=1, le=1000)  # simultaneous calls; over it: "lines busy", then hang up
    caller_id: str = ""  # our number on calls out through this trunk; empty: the first of `numbers`
    registration_seconds: int = Field(300, ge=60, le=3600)  # register: how long a registration lasts

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not NAME.fullmatch(value):
            raise ValueError(f"{value!r}: use lower-case letters, digits, '-' or '_' (e.g. vnpt, goip-xa-1)")
        return value

    @field_validator("host")
    @classmethod
    def _check_host(cls, value: str) -> str:
        if value and not HOST.fullmatch(value):
            raise ValueError(f"{value!r} is not a host name or IP address")
        return value

    @field_validator("match")
    @classmethod
    def _check_match(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_network(v) for v in value)

    @field_validator("numbers")
    @classmethod
    def _check_numbers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for number in value:
            if not DID.fullmatch(number):
                raise ValueError(f"{number!r}: a hotline number is digits, optionally after '+'")
        return value

    @field_validator("codecs")
    @classmethod
    def _check_codecs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or len(set(value)) != len(value):
            raise ValueError("list alaw and/or ulaw, each once")
        return value

    @model_validator(mode="after")
    def _check_kind(self) -> TrunkSettings:
        if self.kind in ("register", "ip") and not self.host:
            raise ValueError(f"trunk {self.name}: a {self.kind} trunk needs the carrier's host")
        if self.kind == "register" and not self.username:
            raise ValueError(f"trunk {self.name}: a register trunk needs the username the carrier gave")
        if self.kind == "ip" and not self.addresses:
            raise ValueError(
                f"trunk {self.name}: the host is a name; list the carrier's signalling addresses in match"
            )
        if self.kind == "gateway" and self.host:
            raise ValueError(f"trunk {self.name}: a gateway registers to us; leave host empty")
        return self

    @property
    def endpoint(self) -> str:
        """PJSIP endpoint: trunk-<name>; a gateway's is its user name (Asterisk identifies a request by
        the digest user only when an endpoint has that name)."""
        return self.auth_user if self.kind == "gateway" else endpoint_name(self.name)

    @property
    def auth_user(self) -> str:
        """The digest user: the carrier's account, or the user a gateway registers as (its name)."""
        return self.username or (self.name if self.kind == "gateway" else "")

    @property
    def addresses(self) -> tuple[str, ...]:
        """Where calls on this trunk may come from: `match`, else the host when it is an address."""
        if self.match:
            return self.match
        try:
            return (_network(self.host),) if self.host else ()
        except ValueError:
            return ()

    @property
    def presented_number(self) -> str:
        return self.caller_id or self.numbers[0]


class NatSettings(BaseModel):
    """`ivr.asterisk.nat:` a server behind a router that forwards SIP and RTP to it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    external_address: str = ""  # public address the carrier sees (signalling and media); empty: no NAT
    local_networks: tuple[str, ...] = ()  # networks reached without NAT, e.g. [192.168.1.0/24]

    @field_validator("external_address")
    @classmethod
    def _check_address(cls, value: str) -> str:
        if value and not HOST.fullmatch(value):
            raise ValueError(f"{value!r} is not a host name or IP address")
        return value

    @field_validator("local_networks")
    @classmethod
    def _check_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_network(v) for v in value)


class DialOutSettings(BaseModel):
    """`ivr.asterisk.dial_out:` the only outside numbers the hotline may ever ring, and the trunk to use."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trunk: str = ""  # trunk that carries calls out (officers' mobiles); empty: no calls out at all
    allowlist: tuple[str, ...] = ()  # national numbers (0912345678); nothing else is ever dialled

    @field_validator("allowlist")
    @classmethod
    def _check_allowlist(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for number in value:
            if not NATIONAL.fullmatch(number):
                raise ValueError(f"{number!r}: write numbers in national form, digits only (e.g. 0912345678)")
        return value

    def allows(self, number: str) -> bool:
        return bool(self.trunk) and number in self.allowlist


def check_trunks(trunks: tuple[TrunkSettings, ...], dial_out: DialOutSettings) -> None:
    """Checks across trunks: unique names and numbers, no shared source address, a known dial-out trunk."""
    names: set[str] = set()
    for trunk in trunks:
        user = trunk.auth_user
        if trunk.kind == "gateway" and (user == "caller" or user.startswith(("operator", "trunk-"))):
            raise ValueError(f"trunk {trunk.name}: the user {user} is taken by the hotline's own phones")
    numbers: dict[str, str] = {}
    sources: dict[str, str] = {}
    for trunk in trunks:
        if trunk.name in names:
            raise ValueError(f"two trunks are named {trunk.name}")
        names.add(trunk.name)
        for number in trunk.numbers:
            for form in did_forms(number):
                if form in numbers:
                    raise ValueError(f"number {number} is on trunks {numbers[form]} and {trunk.name}")
                numbers[form] = trunk.name
        for net in trunk.addresses:
            mine = ipaddress.ip_network(net)
            other = next(
                (n for seen, n in sources.items() if ipaddress.ip_network(seen).overlaps(mine)), None
            )
            if other is not None:
                raise ValueError(
                    f"trunks {other} and {trunk.name} both take calls from {net}: calls would be mixed up"
                )
            sources[net] = trunk.name
    if dial_out.trunk and dial_out.trunk not in names:
        raise ValueError(
            f"ivr.asterisk.dial_out.trunk: {dial_out.trunk!r} is not one of the trunks "
            f"({', '.join(sorted(names)) or 'none configured'})"
        )
    if dial_out.allowlist and not dial_out.trunk:
        raise ValueError("ivr.asterisk.dial_out.trunk: name the trunk that carries calls to the allowlist")
