"""jobs: the in-process runner's jobs (SQLite, one machine), so a job survives a restart and is listed.

Revision ID: jobs_0002_in_process
Revises: jobs_0001_procrastinate

Created on PostgreSQL too (empty there: procrastinate stores its jobs), so both back-ends have one schema.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "jobs_0002_in_process"
down_revision = "jobs_0001_procrastinate"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs_in_process",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task", sa.String(64), nullable=False),
        sa.Column("args_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_jobs_in_process_status", "jobs_in_process", ["status"])


def downgrade() -> None:
    op.drop_table("jobs_in_process")
