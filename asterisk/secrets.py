"""Generated Asterisk credentials (ARI password, SIP passwords, prompt PIN), kept in the data dir.

The file is a flat JSON object: `ari_password`, `caller_password`, `prompt_pin`, `worker_password` and one
`<seat user>_password` per operator seat (`operator_password`, `operator2_password`, ...). A value
missing from an existing file (a seat added to `ivr.asterisk.operator_seats`) is generated and added;
values already there are never regenerated.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ConfigError

# Random bytes in a generated password (32 URL-safe characters): far beyond what guessing over SIP can
# reach, even for a carrier-facing Asterisk. Files written with shorter ones keep them (never regenerated).
PASSWORD_BYTES = 24
OPERATOR_USER = "operator"  # SIP user of operator seat 1 (the name the README and softphones use)


def operator_user(seat: int) -> str:
    """SIP user (and PJSIP endpoint) of operator seat `seat` (1-based): operator, operator2, operator3, ..."""
    if seat < 1:
        raise ValueError(f"operator seats are numbered from 1, not {seat}")
    return OPERATOR_USER if seat == 1 else f"{OPERATOR_USER}{seat}"


def operator_users(seats: int) -> tuple[str, ...]:
    return tuple(operator_user(n) for n in range(1, seats + 1))


def _password_key(user: str) -> str:
    return f"{user}_password"


@dataclass(frozen=True)
class AsteriskSecrets:
    ari_password: str
    caller_password: str  # SIP endpoint `caller` (test caller, softphones)
    prompt_pin: str  # digits for the prompt re-recording extension
    operator_passwords: tuple[str, ...]  # seat n (1-based) at index n - 1; its user is operator_user(n)
    trunk_passwords: dict[str, str] = field(default_factory=dict)  # trunk name -> digest password
    worker_password: str = ""  # Asterisk's password towards the call workers (outbound WebSockets)

    @property
    def operator_password(self) -> str:
        """Password of seat 1 (`operator`)."""
        return self.operator_passwords[0]

    def seat_password(self, seat: int) -> str:
        if not 1 <= seat <= len(self.operator_passwords):
            raise ValueError(f"no operator seat {seat} (there are {len(self.operator_passwords)})")
        return self.operator_passwords[seat - 1]


def _generators(seats: int) -> dict[str, Callable[[], str]]:
    out: dict[str, Callable[[], str]] = {
        "ari_password": lambda: secrets.token_urlsafe(PASSWORD_BYTES),
        "caller_password": lambda: secrets.token_urlsafe(PASSWORD_BYTES),
        "worker_password": lambda: secrets.token_urlsafe(PASSWORD_BYTES),
        "prompt_pin": lambda: "".join(secrets.choice("0123456789") for _ in range(6)),
    }
    for user in operator_users(seats):
        out[_password_key(user)] = lambda: secrets.token_urlsafe(PASSWORD_BYTES)
    return out


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process at a time reads, completes and writes the file (the service and an agent may race)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path}: unreadable Asterisk secrets file ({exc}); delete it to generate new credentials"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the Asterisk secrets file must hold a JSON object; delete it to renew it")
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)
    os.replace(tmp, path)


def _complete(path: Path, data: dict[str, Any], seats: int) -> bool:
    """Adds what is missing to `data` (True if anything was); checks what is there."""
    added = False
    for key, make in _generators(seats).items():
        value = data.get(key)
        if value is None:
            data[key] = make()
            added = True
        elif isinstance(value, int) and not isinstance(value, bool):
            data[key] = str(value)  # a PIN typed as a number
        elif not isinstance(value, str) or not value:
            raise ConfigError(f"{path}: {key} must be a non-empty string; delete the key to regenerate it")
    return added


def load_or_create(path: Path, operator_seats: int = 1) -> AsteriskSecrets:
    """Read the secrets file (mode 0600), generating what is missing: all of it the first time."""
    data = _read(path) if path.exists() else {}
    if _complete(path, data, operator_seats):
        with _locked(path):  # read again under the lock: another process may have just completed it
            data = _read(path) if path.exists() else {}
            if _complete(path, data, operator_seats):
                _write(path, data)
    return AsteriskSecrets(
        ari_password=data["ari_password"],
        caller_password=data["caller_password"],
        prompt_pin=data["prompt_pin"],
        worker_password=data["worker_password"],
        operator_passwords=tuple(data[_password_key(u)] for u in operator_users(operator_seats)),
        trunk_passwords={
            key[len(TRUNK_PREFIX) : -len("_password")]: value
            for key, value in data.items()
            if key.startswith(TRUNK_PREFIX) and key.endswith("_password") and isinstance(value, str)
        },
    )


# --- trunks ---------------------------------------------------------------------------------------

TRUNK_PREFIX = "trunk_"


def trunk_key(name: str) -> str:
    return f"{TRUNK_PREFIX}{name}_password"


def set_trunk_password(path: Path, name: str, password: str | None = None) -> str:
    """Store a trunk's password (the carrier's, or a new long one for a gateway when None); returns it.

    The carrier gives the password of a register/ip trunk: it is typed once into this file, never into
    the YAML. A gateway's password is ours to choose: generated, then typed into the gateway's web page.
    """
    if password is not None and (not password or any(c.isspace() for c in password)):
        raise ConfigError("a trunk password must not be empty or contain spaces")
    value = password if password is not None else secrets.token_urlsafe(24)
    with _locked(path):
        data = _read(path) if path.exists() else {}
        data[trunk_key(name)] = value
        _write(path, data)
    return value


def ensure_gateway_passwords(path: Path, names: tuple[str, ...]) -> None:
    """A gateway registering to us needs a password before pjsip.conf can name it: generate missing ones."""
    missing = [n for n in names if trunk_key(n) not in (_read(path) if path.exists() else {})]
    for name in missing:
        set_trunk_password(path, name)


def read_worker_password(path: Path) -> str:
    """`worker_password` from a copy of an Asterisk machine's secrets file (a worker on another machine)."""
    if not path.is_file():
        raise ConfigError(f"ivr.workers.secrets_file: {path} does not exist (copy the Asterisk machine's)")
    value = _read(path).get("worker_password")
    if not isinstance(value, str) or not value:
        raise ConfigError(
            f"{path}: no worker_password; start Asterisk once in ari_mode outbound and copy the file again"
        )
    return value
