"""Alembic environment: runs migrations against the URL set by hotline.db.alembic_config."""

from __future__ import annotations

import importlib

from alembic import context
from sqlalchemy import func, select, text

from core.db import Base, make_engine

# Import every area's models so that autogenerate sees them (missing areas are skipped).
for _name in ("core.jobs", "ivr.models", "broadcast.models", "console.models"):
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as exc:
        if exc.name != _name:
            raise

config = context.config
MIGRATION_LOCK = 0x686F746C696E65  # any fixed 64-bit key ("hotline"): the lock every upgrade takes
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "hotline.db.alembic_config sets sqlalchemy.url"
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Workers on several machines upgrade at start: one migrates, the others wait here and
                # then find the schema current (SQLite's file lock does the same for one machine). The
                # wait and the DDL's own lock waits may be long: not the application's 5 s.
                connection.execute(text("SET LOCAL lock_timeout = '10min'"))
                connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
