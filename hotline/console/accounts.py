"""Operator accounts: scrypt password hashes, creation, password changes, disabling (blocking DB calls)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.db import transaction
from hotline.errors import HotlineError
from hotline.models import ROLES, ConsoleSession, Operator

logger = logging.getLogger(__name__)

# scrypt cost: 2^14 x 8 = 16 MiB and about 50 ms per check: slow for guessing, fine for a login form.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 256
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class AccountError(HotlineError):
    code = "console.account"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash` with a random salt (base64 fields)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


# Checked when the user name is unknown, so that the answer takes as long as for a real account.
_DUMMY_HASH = hash_password(secrets.token_hex(8))


def check_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(f"the password must have at most {MAX_PASSWORD_CHARS} characters")
    return password


def normalize_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise AccountError(
            f"invalid user name {username!r}: 2-64 characters, lower-case letters, digits, '.', '_' or '-'"
        )
    return name


@dataclass(frozen=True)
class OperatorInfo:
    """What pages and the CLI need to know about an account (never the hash)."""

    id: int
    username: str
    role: str
    active: bool
    created_at: datetime
    last_login: datetime | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @classmethod
    def of(cls, op: Operator) -> OperatorInfo:
        return cls(op.id, op.username, op.role, op.active, op.created_at, op.last_login)


def add_operator(
    factory: sessionmaker[Session], username: str, password: str, role: str = "operator"
) -> OperatorInfo:
    name = normalize_username(username)
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    check_new_password(password)
    with transaction(factory) as s:
        if s.scalar(select(Operator.id).where(Operator.username == name)) is not None:
            raise AccountError(f"operator {name!r} already exists")
        op = Operator(
            username=name, password_hash=hash_password(password), role=role, active=True, created_at=utcnow()
        )
        s.add(op)
        s.flush()
        return OperatorInfo.of(op)


def list_operators(factory: sessionmaker[Session]) -> list[OperatorInfo]:
    with factory() as s:
        return [OperatorInfo.of(op) for op in s.scalars(select(Operator).order_by(Operator.username))]


def _get(s: Session, username: str) -> Operator:
    op = s.scalar(select(Operator).where(Operator.username == username.strip().lower()))
    if op is None:
        raise AccountError(f"no operator {username!r}")
    return op


def set_password(factory: sessionmaker[Session], username: str, password: str) -> None:
    """New password; every open session of the account is closed."""
    check_new_password(password)
    with transaction(factory) as s:
        op = _get(s, username)
        op.password_hash = hash_password(password)
        s.execute(delete(ConsoleSession).where(ConsoleSession.operator_id == op.id))


def set_active(factory: sessionmaker[Session], username: str, active: bool) -> None:
    """Disable (sessions closed at once) or re-enable an account."""
    with transaction(factory) as s:
        op = _get(s, username)
        op.active = active
        if not active:
            s.execute(delete(ConsoleSession).where(ConsoleSession.operator_id == op.id))


def authenticate(factory: sessionmaker[Session], username: str, password: str) -> OperatorInfo | None:
    """The active account for these credentials, or None (same work whether the name exists or not)."""
    name = username.strip().lower()[:64]
    with factory() as s:
        op = s.scalar(select(Operator).where(Operator.username == name))
        if op is None:
            verify_password(password, _DUMMY_HASH)
            return None
        if not verify_password(password, op.password_hash) or not op.active:
            return None
        return OperatorInfo.of(op)
