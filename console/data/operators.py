"""Operator accounts (table `operators`): scrypt password hashes, creation, password changes, disabling.

Shared by the console pages and the `hotline operators` commands (blocking DB calls)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import threading
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from console.data.sessions import close_all
from console.data.times import utcnow
from console.models import ROLES, Operator, OperatorInfo
from core.db import serialize, transaction
from core.errors import HotlineError

logger = logging.getLogger(__name__)

# scrypt cost, OWASP's recommendation: N=2^17, r=8, p=1 takes 128 MiB and about 0.6 s per check on the
# 2-core machine we measure on: slow for guessing, bearable once per login. Hashes made with other values
# are replaced at the account's next successful login. Read at each hash, so the test suite can lower N for
# the accounts it makes by the hundred (tests/conftest.py); nothing in the product changes it.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
# Checks running at once (one per core): a burst of logins waits its turn instead of taking 128 MiB each.
HASH_SLOTS = 2
MAX_SCRYPT_BYTES = 1 << 30  # stored parameters asking for more memory than this are refused, not computed
_hash_slots = threading.BoundedSemaphore(HASH_SLOTS)
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 256
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class AccountError(HotlineError):
    """A refused account change; `code` (console.account.*) lets the console word it in Vietnamese."""

    code = "console.account"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    memory = 128 * r * (n + p + 2)  # what OpenSSL allocates for these parameters
    if memory > MAX_SCRYPT_BYTES:
        raise ValueError(f"scrypt parameters need {memory} bytes")
    with _hash_slots:
        return hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=memory + (1 << 20)
        )


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash` with a random salt (base64 fields)."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, 32)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash was made with other scrypt parameters than today's."""
    return stored.split("$")[:4] != ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P)]


def _dummy_hash() -> str:
    """Checked when the user name is unknown, so that the answer takes as long as for a real account
    (made on first use: importing this module must not cost a hash)."""
    return _dummy_hash_at(SCRYPT_N, SCRYPT_R, SCRYPT_P)


@cache
def _dummy_hash_at(n: int, r: int, p: int) -> str:
    """One dummy hash per cost, so that it always costs what a real account's check costs."""
    return hash_password(secrets.token_hex(8))


def check_new_password(password: str, repeated: str | None = None) -> str:
    """The password if acceptable; `repeated` is the second typing of a form, when there is one."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(
            f"the password must have at least {MIN_PASSWORD_CHARS} characters",
            code="console.account.password_short",
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(
            f"the password must have at most {MAX_PASSWORD_CHARS} characters",
            code="console.account.password_long",
        )
    if repeated is not None and not hmac.compare_digest(password.encode(), repeated.encode()):
        raise AccountError("the two passwords differ", code="console.account.password_mismatch")
    return password


def normalize_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise AccountError(
            f"invalid user name {username!r}: 2-64 characters, lower-case letters, digits, '.', '_' or '-'",
            code="console.account.bad_username",
        )
    return name


def add_operator(
    factory: sessionmaker[Session],
    username: str,
    password: str,
    role: str = "operator",
    *,
    repeated: str | None = None,
    commune_code: int | None = None,
) -> OperatorInfo:
    """Create an active account; `repeated` is the form's second typing of the password, if any;
    a commune radio account (role `commune`) is bound to `commune_code`, other roles to none."""
    name = normalize_username(username)
    if role not in ROLES:
        raise AccountError(
            f"unknown role {role!r} (one of {', '.join(ROLES)})", code="console.account.bad_role"
        )
    if role == "commune" and commune_code is None:
        raise AccountError("a commune account needs its commune", code="console.account.no_commune")
    if role != "commune":
        commune_code = None
    check_new_password(password, repeated)
    with transaction(factory) as s:
        if s.scalar(select(Operator.id).where(Operator.username == name)) is not None:
            raise AccountError(f"operator {name!r} already exists", code="console.account.exists")
        op = Operator(
            username=name,
            password_hash=hash_password(password),
            role=role,
            active=True,
            created_at=utcnow(),
            commune_code=commune_code,
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
        raise AccountError(f"no operator {username!r}", code="console.account.unknown")
    return op


def set_password(
    factory: sessionmaker[Session], username: str, password: str, *, repeated: str | None = None
) -> int:
    """New password; every open session of the account is closed (returns how many)."""
    check_new_password(password, repeated)
    with transaction(factory) as s:
        op = _get(s, username)
        op.password_hash = hash_password(password)
        return close_all(s, op.id)


def set_active(
    factory: sessionmaker[Session], username: str, active: bool, *, actor: OperatorInfo | None = None
) -> int:
    """Disable (sessions closed at once, returns how many) or re-enable an account.

    With `actor` (an administrator in the console) an account cannot disable itself nor the last enabled
    administrator, so the console always keeps someone who can manage it; the `hotline operators` CLI
    (run by whoever administers the machine) passes no actor and can undo anything it does.
    """
    with transaction(factory) as s:
        if not active and actor is not None:
            # Two administrators disabling each other at once must not both pass the count below.
            serialize(s, "console.admins")
        op = _get(s, username)
        if not active and actor is not None:
            if op.id == actor.id:
                raise AccountError("you cannot disable your own account", code="console.account.self")
            if op.role == "admin" and op.active:
                admins = s.scalar(
                    select(func.count())
                    .select_from(Operator)
                    .where(Operator.role == "admin", Operator.active.is_(True))
                )
                if (admins or 0) <= 1:
                    raise AccountError(
                        "the last enabled administrator cannot be disabled", code="console.account.last_admin"
                    )
        op.active = active
        return 0 if active else close_all(s, op.id)


def authenticate(factory: sessionmaker[Session], username: str, password: str) -> OperatorInfo | None:
    """The active account for these credentials, or None (same work whether the name exists or not)."""
    name = username.strip().lower()[:64]
    with factory() as s:
        op = s.scalar(select(Operator).where(Operator.username == name))
        if op is None:
            verify_password(password, _dummy_hash())
            return None
        if not verify_password(password, op.password_hash) or not op.active:
            return None
        if needs_rehash(op.password_hash):
            # Only now is the password known: the hash is brought to today's cost.
            op.password_hash = hash_password(password)
            s.commit()
            logger.info("password hash of %s updated to the current scrypt cost", op.username)
        return OperatorInfo.of(op)
