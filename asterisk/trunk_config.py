"""What the pjsip.conf and extensions.conf templates need to know about the trunks, NAT and transports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asterisk.provision import AsteriskError
from asterisk.trunks import did_forms

if TYPE_CHECKING:
    from asterisk.secrets import AsteriskSecrets
    from asterisk.settings import AsteriskSettings


def trunk_values(cfg: AsteriskSettings, secrets: AsteriskSecrets) -> dict[str, Any]:
    """Template values: `trunks` (one dict per trunk, password included), `nat`, the TCP/TLS transports.

    A register trunk cannot work without the carrier's password: refuse to render rather than start an
    Asterisk that fails to register in silence.
    """
    trunks = []
    for t in cfg.trunks:
        password = secrets.trunk_passwords.get(t.name, "")
        if t.kind == "register" and not password:
            raise AsteriskError(
                f"trunk {t.name}: no password yet; type the carrier's with "
                f"`hotline asterisk trunk-password {t.name}`"
            )
        trunks.append(
            {
                "name": t.name,
                "kind": t.kind,
                "endpoint": t.endpoint,
                "host": t.host,
                "port": t.port,
                "transport": t.transport,
                "auth_user": t.auth_user,
                # An ip trunk authenticates calls out only when the carrier gave it an account.
                "password": password if (t.kind != "ip" or t.username) else "",
                "addresses": list(t.addresses),
                "numbers": list(t.numbers),
                "dids": [form for number in t.numbers for form in did_forms(number)],
                "codecs": list(t.codecs),
                "max_calls": t.max_calls,
                "registration_seconds": t.registration_seconds,
            }
        )
    return {
        "trunks": trunks,
        "nat": {"external_address": cfg.nat.external_address, "local_networks": list(cfg.nat.local_networks)},
        "tcp_port": cfg.sip_tcp_port,
        "tls_port": cfg.sip_tls_port,
        "tls_cert_file": str(cfg.sip_tls_cert_file or ""),
        "tls_key_file": str(cfg.sip_tls_key_file or ""),
    }
