"""jobs: procrastinate's own schema (job queue, workers, periodic defers) on PostgreSQL; nothing on SQLite.

Revision ID: jobs_0001_procrastinate
Revises: 0001_base

Applied here rather than by procrastinate's schema applier so `hotline db upgrade` (one command, under the
upgrade lock processes take turns on) creates everything a worker needs. The text is the installed
procrastinate's schema.sql: pyproject pins the major version, and a procrastinate upgrade that changes the
schema comes with a revision running its migration files.
"""

from __future__ import annotations

from alembic import op

revision = "jobs_0001_procrastinate"
down_revision = "0001_base"
branch_labels = ("jobs",)
depends_on = None

_DROP = r"""
DO $$
DECLARE r record;
BEGIN
    DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
        procrastinate_workers CASCADE;
    FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p
             WHERE p.proname LIKE 'procrastinate\_%' AND p.pronamespace = current_schema()::regnamespace
    LOOP
        EXECUTE 'DROP FUNCTION IF EXISTS ' || r.f || ' CASCADE';
    END LOOP;
    FOR r IN SELECT t.typname FROM pg_type t
             WHERE t.typname LIKE 'procrastinate\_%' AND t.typtype IN ('e', 'c')
               AND t.typnamespace = current_schema()::regnamespace
    LOOP
        EXECUTE 'DROP TYPE IF EXISTS ' || quote_ident(r.typname) || ' CASCADE';
    END LOOP;
END
$$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: jobs run in-process, nothing is stored
    from procrastinate.schema import SchemaManager

    # exec_driver_sql: the script as psycopg receives it (several statements); %% because the driver
    # still reads placeholders in it, as procrastinate's own applier does.
    op.get_bind().exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.get_bind().exec_driver_sql(_DROP.replace("%", "%%"))
