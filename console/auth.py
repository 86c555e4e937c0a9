"""Login plumbing without the database: the signed cookie, the session key, CSRF tokens, rate limiting.

The session rows themselves are in console.data.sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
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


class LoginLimiter:
    """At most `limit` failed logins per (user name, address) and 4x that per address, within `window` s."""

    def __init__(
        self, limit: int = 5, window: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def blocked(self, username: str, ip: str) -> bool:
        now = self.clock()
        with self._lock:
            return (
                len(self._recent((username.strip().lower(), ip), now)) >= self.limit
                or len(self._recent(("", ip), now)) >= 4 * self.limit
            )

    def failed(self, username: str, ip: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) > 10_000:  # a flood of random names must not grow memory without bound
                self._failures = {k: q for k, q in self._failures.items() if q and now - q[-1] <= self.window}
            self._recent((username.strip().lower(), ip), now).append(now)
            self._recent(("", ip), now).append(now)

    def succeeded(self, username: str, ip: str) -> None:
        with self._lock:
            self._failures.pop((username.strip().lower(), ip), None)
