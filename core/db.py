"""Database base: SQLAlchemy 2 engine and sessions; SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event, func, select
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from core.config import DatabaseSettings


class Base(DeclarativeBase):
    """Declarative base shared by every area's models (ivr/models.py, broadcast/models.py, ...)."""


class DatabaseConfig(Protocol):
    """What opening the database needs from the product's settings."""

    @property
    def database_url(self) -> str: ...

    @property
    def database(self) -> DatabaseSettings: ...


# The largest row id the schema stores: ids are INTEGER columns, 64-bit in SQLite but 32-bit on PostgreSQL.
# Ids taken from URLs are bounded by it: a larger one makes the driver raise (a server error on
# PostgreSQL, OverflowError on SQLite past 2**63) instead of finding nothing.
MAX_ROW_ID = 2**31 - 1


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite:")


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL + synchronous=NORMAL: a crash of the application loses no committed row,
    # and the call loop and the web console can read while another writes.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def make_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 5,
    max_overflow: int = 10,
    pool_timeout: float = 10.0,
) -> Engine:
    """An engine for a SQLite file (pragmas per connection) or PostgreSQL through psycopg (a pool)."""
    # hide_parameters: a failed statement's message (logged, shown in a traceback) and the echo log
    # otherwise carry its bound values, callers' numbers and transcripts among them.
    if is_sqlite(url):
        path = Path(url.removeprefix("sqlite:///"))
        if str(path) not in ("", ":memory:"):
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, hide_parameters=True, connect_args={"check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        # A connection the server or a firewall closed (a restarted PostgreSQL, an idle timeout) is
        # replaced before use instead of failing a caller's write.
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_recycle=1800,
        connect_args={
            # Times are stored naive in UTC (`timestamp without time zone`): a session in UTC makes the
            # server's own now() and any aware value agree with them whatever the server's zone.
            # lock_timeout: like SQLite's busy_timeout, a write blocked by another's lock fails after 5 s
            # (the call log then keeps its rows in its journal) instead of waiting without end.
            "options": "-c timezone=UTC -c lock_timeout=5000",
            "connect_timeout": 10,
            "application_name": "hotline",
        },
    )


def engine_for(settings: DatabaseConfig) -> Engine:
    db = settings.database
    return make_engine(
        settings.database_url,
        echo=db.echo,
        pool_size=db.pool_size,
        max_overflow=db.max_overflow,
        pool_timeout=db.pool_timeout_seconds,
    )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with factory() as session, session.begin():
        yield session


def serialize(session: Session, key: str) -> None:
    """Makes the session's transactions on `key` run one after another, across processes and machines.

    SQLite does so for every writer (one write lock per file, taken by a transaction's first write);
    PostgreSQL lets writers overlap, so a count-then-decide written for SQLite (the login limiter) would
    see the same snapshot twice. There a transaction-scoped advisory lock on the key's hash does it; it
    is released at commit or rollback.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


def affected(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched (`Session.execute` is typed as returning a plain Result)."""
    return cast(CursorResult[Any], result).rowcount or 0
