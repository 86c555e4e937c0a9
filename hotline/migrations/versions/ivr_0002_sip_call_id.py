"""ivr: the SIP Call-ID of each call, so a caller can find its own call in the log.

Revision ID: ivr_0002_sip_call_id
Revises: ivr_0001_calls
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ivr_0002_sip_call_id"
down_revision = "ivr_0001_calls"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", recreate="auto") as batch:
        batch.add_column(sa.Column("sip_call_id", sa.String(255), nullable=False, server_default=""))
        batch.create_index("ix_calls_sip_call_id", ["sip_call_id"])


def downgrade() -> None:
    with op.batch_alter_table("calls", recreate="auto") as batch:
        batch.drop_index("ix_calls_sip_call_id")
        batch.drop_column("sip_call_id")
