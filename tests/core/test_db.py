"""The database engine on a real SQLite file: what a failed statement lets out."""

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
