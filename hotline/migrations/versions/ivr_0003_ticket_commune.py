"""ivr: the commune a ticket is for (a message or call-back for a commune's digital technology team).

Revision ID: ivr_0003_ticket_commune
Revises: ivr_0002_sip_call_id
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ivr_0003_ticket_commune"
down_revision = "ivr_0002_sip_call_id"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", recreate="auto") as batch:
        batch.add_column(sa.Column("commune", sa.String(16), nullable=True))
        batch.create_index("ix_tickets_commune", ["commune"])


def downgrade() -> None:
    with op.batch_alter_table("tickets", recreate="auto") as batch:
        batch.drop_index("ix_tickets_commune")
        batch.drop_column("commune")
