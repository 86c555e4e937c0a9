"""ivr: which call worker holds a call (several workers share one database).

A worker that starts again closes the calls its killed predecessor left open and recovers its interrupted
recordings, and only those: another worker's open calls are live.

Revision ID: ivr_0008_call_worker
Revises: ivr_0007_prompt_plays
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ivr_0008_call_worker"
down_revision = "ivr_0007_prompt_plays"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", recreate="auto") as batch:
        batch.add_column(sa.Column("worker", sa.String(64), nullable=True))
        batch.create_index("ix_calls_worker", ["worker"])


def downgrade() -> None:
    with op.batch_alter_table("calls", recreate="auto") as batch:
        batch.drop_index("ix_calls_worker")
        batch.drop_column("worker")
