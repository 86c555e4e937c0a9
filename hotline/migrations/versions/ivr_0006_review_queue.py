"""ivr: the review queue (utterances not understood, close matches, calls that fell back).

Revision ID: ivr_0006_review_queue
Revises: ivr_0005_ticket_workflow
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ivr_0006_review_queue"
down_revision = "ivr_0005_ticket_workflow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_id", sa.Integer(), sa.ForeignKey("calls.id", ondelete="SET NULL"), nullable=True),
        sa.Column("turn_seq", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=False, server_default=""),
        sa.Column("audio_path", sa.String(512), nullable=True),
        sa.Column("audio_ms", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("guesses", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("resolved_by", sa.String(64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_review_items_call_id", "review_items", ["call_id"])
    op.create_index("ix_review_items_at", "review_items", ["at"])
    op.create_index("ix_review_items_status", "review_items", ["status"])


def downgrade() -> None:
    op.drop_index("ix_review_items_status", table_name="review_items")
    op.drop_index("ix_review_items_at", table_name="review_items")
    op.drop_index("ix_review_items_call_id", table_name="review_items")
    op.drop_table("review_items")
