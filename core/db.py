"""Database base: SQLAlchemy 2 engine and sessions; SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event
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


# The largest row id SQLite stores (a signed 64-bit INTEGER). Ids taken from URLs are bounded by it: a
# larger one makes the driver raise OverflowError (a server error) instead of finding nothing.
MAX_ROW_ID = 2**63 - 1


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL + synchronous=NORMAL: a crash of the application loses no committed row,
    # and the call loop and the web console can read while another writes.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    # hide_parameters: a failed statement's message (logged, shown in a traceback) and the echo log
    # otherwise carry its bound values, callers' numbers and transcripts among them.
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if str(path) not in ("", ":memory:"):
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, hide_parameters=True, connect_args={"check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, echo=echo, hide_parameters=True, pool_pre_ping=True)


def engine_for(settings: DatabaseConfig) -> Engine:
    return make_engine(settings.database_url, echo=settings.database.echo)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with factory() as session, session.begin():
        yield session


def affected(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched (`Session.execute` is typed as returning a plain Result)."""
    return cast(CursorResult[Any], result).rowcount or 0
