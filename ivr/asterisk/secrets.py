"""Generated Asterisk credentials (ARI password, SIP passwords, prompt PIN), kept in the data dir."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from hotline.errors import ConfigError


@dataclass(frozen=True)
class AsteriskSecrets:
    ari_password: str
    caller_password: str  # SIP endpoint `caller` (test caller, softphones)
    operator_password: str  # SIP endpoint `operator` (transfer target)
    prompt_pin: str  # digits for the prompt re-recording extension


def _generate() -> AsteriskSecrets:
    return AsteriskSecrets(
        ari_password=secrets.token_urlsafe(24),
        caller_password=secrets.token_urlsafe(12),
        operator_password=secrets.token_urlsafe(12),
        prompt_pin="".join(secrets.choice("0123456789") for _ in range(6)),
    )


def load_or_create(path: Path) -> AsteriskSecrets:
    """Read the secrets file, creating it (mode 0600) with fresh random values the first time."""
    if path.exists():
        try:
            data = json.loads(path.read_text())
            return AsteriskSecrets(**{k: str(data[k]) for k in AsteriskSecrets.__dataclass_fields__})
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"{path}: unreadable Asterisk secrets file ({exc}); delete it to generate new credentials"
            ) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = _generate()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(asdict(fresh), fh, indent=2)
    os.replace(tmp, path)
    return fresh
