"""Config section `ivr.asterisk:` where Asterisk runs, and the settings the Asterisk package reads."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from asterisk.trunks import DialOutSettings, NatSettings, TrunkSettings, check_trunks
from asterisk.workers import WorkersSettings
from voice.settings import VoiceConfig


class AsteriskSettings(BaseModel):
    """`asterisk:` where Asterisk runs, how it is provisioned and which loopback ports it uses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["chroot", "host", "external"] = "chroot"  # chroot: Debian root we build; host: installed
    rootfs_dir: Path = Path("~/.cache/nghean-hotline/asterisk-root")  # chroot mode: outside the repo, reused
    suite: str = "sid"  # Debian suite for the root (Asterisk 22 is in unstable)
    mirror: str = ""  # Debian mirror URL; empty: the one the host's apt uses, else deb.debian.org
    packages: tuple[str, ...] = ("asterisk", "asterisk-core-sounds-en-gsm")  # debootstrap --include
    binary: Path = Path("/usr/sbin/asterisk")  # inside the root (chroot) or on the host (host mode)
    bind_address: str = "127.0.0.1"  # SIP and RTP bind address (a carrier trunk may need a public one)
    http_bind_address: str = "127.0.0.1"  # HTTP/ARI: clear text only on loopback, any other address needs TLS
    http_tls_port: int = Field(8089, ge=1, le=65535)  # ARI over TLS, when the certificate and key are set
    http_tls_cert_file: Path | None = None  # PEM certificate: ARI over TLS on http_bind_address:http_tls_port
    http_tls_key_file: Path | None = None  # its PEM private key
    sip_port: int = Field(5060, ge=1, le=65535)  # PJSIP UDP transport
    sip_tcp_port: int = Field(0, ge=0, le=65535)  # PJSIP TCP transport; 0: none (trunks over TCP need one)
    sip_tls_port: int = Field(0, ge=0, le=65535)  # PJSIP TLS transport; 0: none
    sip_tls_cert_file: Path | None = None  # TLS transport: certificate (PEM), as Asterisk sees the path
    sip_tls_key_file: Path | None = None  # TLS transport: private key (PEM)
    rtp_port_start: int = Field(10000, ge=1024, le=65535)  # RTP range (even start)
    rtp_port_end: int = Field(10999, ge=1024, le=65535)
    http_port: int = Field(8088, ge=1, le=65535)  # HTTP server carrying ARI
    ari_url: str = ""  # empty: http://<http_address>:<http_port>; external mode: the remote ARI base URL
    ari_user: str = "hotline"
    ari_password: str = ""  # empty: generated once into <data_dir>/asterisk/secrets.json
    # asterisk.conf `systemname`: the prefix of every channel's unique id (`<name>-<epoch>.<seq>`). Two
    # Asterisks serving the same workers and database must have distinct names, or their channel ids can
    # collide (calls.channel_id is unique): one call would be refused its call log row.
    system_name: str = Field("hotline", pattern=r"^[A-Za-z0-9][A-Za-z0-9_]{0,31}$")
    extension: str = "1080"  # the hotline number: sent to Stasis(app_name)
    prompt_extension: str = "1089"  # prompt re-recording, operator seats only: Stasis(app_name, prompt-admin)
    operator_seats: int = Field(1, ge=1, le=50)  # operator SIP endpoints: operator, operator2, operator3, ...
    operator_ring_seconds: int = Field(20, ge=1, le=300)  # fallback: how long the operators' phones ring
    message_max_seconds: int = Field(120, ge=5, le=3600)  # fallback: longest message a caller may leave
    trunks: tuple[TrunkSettings, ...] = ()  # carrier trunks and GSM/FXO gateways (asterisk/trunks.py)
    nat: NatSettings = NatSettings()  # a server behind a router
    dial_out: DialOutSettings = DialOutSettings()  # the only outside numbers ever dialled
    start_timeout: float = Field(60.0, gt=0)  # seconds to wait for ARI to answer after start
    stop_timeout: float = Field(10.0, gt=0)  # seconds to wait for a clean stop before killing

    @model_validator(mode="after")
    def _check_ranges(self) -> AsteriskSettings:
        if self.rtp_port_end <= self.rtp_port_start:
            raise ValueError("rtp_port_end must be greater than rtp_port_start")
        for trunk in self.trunks:
            if trunk.transport == "tcp" and not self.sip_tcp_port:
                raise ValueError(f"ivr.asterisk.sip_tcp_port: trunk {trunk.name} uses TCP; set a port")
            if trunk.transport == "tls" and not self.sip_tls_port:
                raise ValueError(f"ivr.asterisk.sip_tls_port: trunk {trunk.name} uses TLS; set a port")
        if self.sip_tls_port and not (self.sip_tls_cert_file and self.sip_tls_key_file):
            raise ValueError("ivr.asterisk.sip_tls_cert_file: the TLS port needs a certificate and key file")
        check_trunks(self.trunks, self.dial_out)
        return self

    @model_validator(mode="after")
    def _check_ari_exposure(self) -> AsteriskSettings:
        if (self.http_tls_cert_file is None) != (self.http_tls_key_file is None):
            raise ValueError("http_tls_cert_file and http_tls_key_file go together: set both or neither")
        if not is_loopback(self.http_bind_address) and self.http_tls_cert_file is None:
            # ARI can originate calls and read every channel: its password must never cross a network
            # in clear text, even when bind_address opens SIP to a carrier.
            raise ValueError(
                f"http_bind_address {self.http_bind_address} is not loopback: ARI would listen there in "
                "clear text; keep it on 127.0.0.1 or set http_tls_cert_file and http_tls_key_file"
            )
        if self.http_tls and self.http_tls_port == self.http_port:
            raise ValueError("http_tls_port must differ from http_port (clear-text ARI stays on loopback)")
        return self

    @property
    def http_address(self) -> str:
        """Where ARI listens in clear text: http_bind_address if loopback, else loopback (TLS goes there)."""
        if is_loopback(self.http_bind_address):
            return self.http_bind_address
        return "::1" if ":" in self.http_bind_address else "127.0.0.1"

    @property
    def http_tls(self) -> bool:
        return self.http_tls_cert_file is not None

    @property
    def dial_out_endpoint(self) -> str:
        """The PJSIP endpoint calls out go through ("" when no trunk carries calls out)."""
        return next((t.endpoint for t in self.trunks if t.name == self.dial_out.trunk), "")


def is_loopback(address: str) -> bool:
    """True for a loopback IP address; a host name counts as not loopback (it may resolve anywhere)."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class _AsteriskOwner(Protocol):
    """The `ivr:` section as far as Asterisk is concerned."""

    @property
    def asterisk(self) -> AsteriskSettings: ...

    @property
    def app_name(self) -> str: ...

    @property
    def workers(self) -> WorkersSettings: ...


class AsteriskConfig(VoiceConfig, Protocol):
    """What provisioning and running Asterisk read from the product's settings."""

    @property
    def ivr(self) -> _AsteriskOwner: ...
