"""The `broadcast` migration branch creates exactly what the models declare, and downgrades cleanly."""

from __future__ import annotations

import sqlalchemy as sa

from broadcast.models import RenderJob, Segment
from core.db import make_engine
from hotline.db import alembic_config, upgrade

TABLES = {"broadcast_segments", "broadcast_jobs"}
AIRING_TABLES = {"broadcast_device_tokens", "broadcast_downloads", "broadcast_airings"}  # broadcast_0002
JOB_COLUMNS = {"title", "bulletin", "options_json", "held", "each", "parent_id", "attempts"}  # broadcast_0003


def test_migration_matches_models_and_downgrades(tmp_path):
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = f"sqlite:///{tmp_path / 'h.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert TABLES | AIRING_TABLES <= set(sa.inspect(conn).get_table_names())
        diff = compare_metadata(MigrationContext.configure(conn), Segment.metadata)
    ours = [d for d in diff if any(t in repr(d) for t in TABLES | AIRING_TABLES)]
    assert ours == []
    command.downgrade(alembic_config(url), "broadcast@-1")
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("broadcast_jobs")}
        assert not JOB_COLUMNS & columns and {"id", "status"} <= columns
        assert AIRING_TABLES <= set(sa.inspect(conn).get_table_names())
    command.downgrade(alembic_config(url), "broadcast@-1")
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        assert TABLES <= tables and not AIRING_TABLES & tables
        columns = {c["name"] for c in sa.inspect(conn).get_columns("broadcast_segments")}
        assert not {"held", "deadline_at"} & columns
    command.downgrade(alembic_config(url), "broadcast@-1")
    with engine.connect() as conn:
        assert not TABLES & set(sa.inspect(conn).get_table_names())
        assert "app_meta" in sa.inspect(conn).get_table_names()  # the base and other branches stay
    engine.dispose()
    assert RenderJob.__tablename__ == "broadcast_jobs"
