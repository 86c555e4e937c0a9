"""ivr: prompts played in calls and their share of human voice (the dashboard's coverage).

Revision ID: ivr_0007_prompt_plays
Revises: ivr_0006_review_queue
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ivr_0007_prompt_plays"
down_revision = "ivr_0006_review_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prompt_plays",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_id", sa.Integer(), sa.ForeignKey("calls.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("prompt", sa.String(80), nullable=False),
        sa.Column("audio_ms", sa.Integer(), nullable=False),
        sa.Column("human_ms", sa.Integer(), nullable=False),
    )
    op.create_index("ix_prompt_plays_call_id", "prompt_plays", ["call_id"])
    op.create_index("ix_prompt_plays_at", "prompt_plays", ["at"])


def downgrade() -> None:
    op.drop_index("ix_prompt_plays_at", table_name="prompt_plays")
    op.drop_index("ix_prompt_plays_call_id", table_name="prompt_plays")
    op.drop_table("prompt_plays")
