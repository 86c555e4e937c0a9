"""Every area's migrations on both back-ends: up, matching the models, down to nothing, up again."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import broadcast.models
import console.models
import core.jobs  # noqa: F401 (the in-process runner's table)
import ivr.models  # noqa: F401 (every area's tables in Base.metadata)
from core.db import Base, make_engine
from hotline.db import alembic_config, upgrade


def _tables(engine: sa.Engine) -> set[str]:
    """Our tables; procrastinate's (the jobs branch, PostgreSQL only) are checked apart."""
    with engine.connect() as conn:
        return {t for t in sa.inspect(conn).get_table_names() if not t.startswith("procrastinate_")}


def _unmodelled(diff: tuple) -> bool:
    """A difference about a table no model describes: app_meta (the base revision's) or procrastinate's."""
    obj = diff[1]
    table = obj if isinstance(obj, sa.Table) else getattr(obj, "table", None)
    name = getattr(table, "name", "")
    return diff[0] in ("remove_table", "remove_index") and (
        name == "app_meta" or name.startswith("procrastinate_")
    )


def _job_tables(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return {t for t in sa.inspect(conn).get_table_names() if t.startswith("procrastinate_")}


def test_every_migration_goes_up_matches_the_models_goes_down_and_up_again(db_url):
    cfg = alembic_config(db_url)
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    assert {h.split("_")[0] for h in heads} >= {"ivr", "broadcast", "console", "jobs"}
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert set(MigrationContext.configure(conn).get_current_heads()) == heads
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        # app_meta (the base revision's key/value table) has no model: nothing else may differ.
        # procrastinate's tables and indexes have no models either (the job engine owns them).
        assert [d for d in diff if not _unmodelled(d)] == []
        postgres = engine.dialect.name == "postgresql"
        assert _job_tables(engine) == (
            {
                "procrastinate_jobs",
                "procrastinate_workers",
                "procrastinate_events",
                "procrastinate_periodic_defers",
            }
            if postgres
            else set()
        )
        assert set(Base.metadata.tables) | {"app_meta", "alembic_version"} == _tables(engine)
        assert broadcast.models.Segment.__tablename__ in _tables(engine)
        assert console.models.Operator.__tablename__ in _tables(engine)

        command.downgrade(cfg, "base")  # every branch, newest first, down to the empty schema
        assert _tables(engine) <= {"alembic_version"}
        assert _job_tables(engine) == set()

        upgrade(db_url)  # the downgrades left nothing behind that stops a fresh upgrade
        assert set(Base.metadata.tables) <= _tables(engine)
    finally:
        engine.dispose()


def test_machines_upgrading_at_once_one_migrates_and_the_others_find_it_done(db_url):
    """Three processes (alembic's context is one per process) upgrade an empty database together."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = "import sys; from hotline.db import upgrade; upgrade(sys.argv[1])"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, db_url], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    try:
        results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [rc for rc, _ in results] == [0, 0, 0], [err[-500:] for _, err in results]
    engine = make_engine(db_url)
    try:
        assert set(Base.metadata.tables) <= _tables(engine)
    finally:
        engine.dispose()
