"""Login plumbing without the database: the signed cookie, the session key, CSRF tokens.

The session rows are in console.data.sessions, the login limiter in console.data.login_attempts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)

COOKIE = "hotline_console"
LOGIN_CSRF_COOKIE = "hotline_console_login"


def load_secret(settings: IvrConfig) -> bytes:
    """`web.session_secret`, or a random key generated once into <data_dir>/session.key (mode 0600)."""
    if settings.web.session_secret:
        return settings.web.session_secret.encode("utf-8")
    path = Path(settings.data_dir) / "session.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes().strip()
        if len(key) >= 32:
            return key
        raise RuntimeError(f"{path}: session key is too short; delete it to generate a new one") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_hex(32).encode("ascii"))
    logger.info("generated a new console session key in %s", path)
    return path.read_bytes().strip()


class CookieSigner:
    """`value.signature` with HMAC-SHA256 (no extra dependency)."""

    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.sha256(b"hotline-console-cookie\x00" + secret).digest()

    def _mac(self, value: str) -> str:
        mac = hmac.new(self._key, value.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")

    def sign(self, value: str) -> str:
        return f"{value}.{self._mac(value)}"

    def unsign(self, signed: str | None) -> str | None:
        if not signed or "." not in signed:
            return None
        value, _, mac = signed.rpartition(".")
        try:
            good = hmac.compare_digest(mac, self._mac(value))
        except (TypeError, UnicodeEncodeError):
            return None
        return value if good else None


def same_token(expected: str, given: str | None) -> bool:
    return (
        bool(expected) and isinstance(given, str) and hmac.compare_digest(expected.encode(), given.encode())
    )
