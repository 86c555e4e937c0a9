"""The database engine on SQLite and PostgreSQL: what a failed statement lets out, per-back-end settings."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.exc import IntegrityError

from core.db import make_engine


def test_a_failed_insert_does_not_carry_the_callers_number_in_its_message(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    meta = MetaData()
    calls = Table("calls", meta, Column("id", Integer, primary_key=True), Column("caller", String))
    meta.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(insert(calls).values(id=1, caller="0912345678"))
        with pytest.raises(IntegrityError) as err, engine.begin() as conn:
            conn.execute(insert(calls).values(id=1, caller="0987654321"))
        # The message (logged, or printed in a traceback) names the statement, not its values.
        assert "0987654321" not in str(err.value)
        assert "hidden due to hide_parameters" in str(err.value)
    finally:
        engine.dispose()


def test_each_back_end_gets_its_own_connection_settings(db_url):
    """SQLite: WAL and a busy timeout per connection. PostgreSQL: a pool, sessions in UTC (times are stored
    naive in UTC), a bounded lock wait (the counterpart of the busy timeout)."""
    from sqlalchemy import text

    engine = make_engine(db_url, pool_size=3, max_overflow=1)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
                assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            else:
                assert engine.dialect.driver == "psycopg"
                assert conn.execute(text("SHOW timezone")).scalar() == "UTC"
                assert conn.execute(text("SHOW lock_timeout")).scalar() == "5s"
                assert engine.pool.size() == 3 and engine.pool._max_overflow == 1
    finally:
        engine.dispose()
