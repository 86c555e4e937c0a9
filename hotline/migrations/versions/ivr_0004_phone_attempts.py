"""ivr: guesses by phone (ticket numbers, the prompt PIN), counted across calls.

Revision ID: ivr_0004_phone_attempts
Revises: ivr_0003_ticket_commune
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ivr_0004_phone_attempts"
down_revision = "ivr_0003_ticket_commune"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "phone_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("who", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_phone_attempts_kind_who_at", "phone_attempts", ["kind", "who", "at"])


def downgrade() -> None:
    op.drop_index("ix_phone_attempts_kind_who_at", table_name="phone_attempts")
    op.drop_table("phone_attempts")
