"""broadcast: a render job row holds what it renders (the job's argument is its id), for a job runner.

Revision ID: broadcast_0003_render_jobs
Revises: broadcast_0002_airing
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "broadcast_0003_render_jobs"
down_revision = "broadcast_0002_airing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("broadcast_jobs") as batch:
        batch.add_column(sa.Column("title", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("bulletin", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("options_json", sa.Text(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("each", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("parent_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.create_index("ix_broadcast_jobs_parent_id", ["parent_id"])


def downgrade() -> None:
    with op.batch_alter_table("broadcast_jobs") as batch:
        batch.drop_index("ix_broadcast_jobs_parent_id")
        for column in ("attempts", "parent_id", "each", "held", "options_json", "bulletin", "title"):
            batch.drop_column(column)
