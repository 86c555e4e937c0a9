"""ivr: tickets as a workflow: category, agency, assignee, due date, when handled, and the reply history.

The single reply note of each ticket becomes its first entry in `ticket_replies`. Tickets received
before this revision keep no due date (nothing told their officers of one).

Revision ID: ivr_0005_ticket_workflow
Revises: ivr_0004_phone_attempts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ivr_0005_ticket_workflow"
down_revision = "ivr_0004_phone_attempts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The notes wait in a table of their own while `tickets` is rebuilt: on SQLite the rebuild drops the
    # old table, and with foreign keys on that would cascade into replies already pointing at it.
    op.execute(
        "CREATE TABLE ticket_notes_0005 AS SELECT id AS ticket_id, updated_at AS at, status, "
        "reply_note AS text FROM tickets WHERE reply_note != ''"
    )
    with op.batch_alter_table("tickets", recreate="auto") as batch:
        batch.add_column(sa.Column("category", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("agency", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("assignee", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("due_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("handled_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_tickets_category", ["category"])
        batch.create_index("ix_tickets_agency", ["agency"])
        batch.create_index("ix_tickets_assignee", ["assignee"])
        batch.create_index("ix_tickets_due_date", ["due_date"])
        batch.drop_column("reply_note")
    op.create_table(
        "ticket_replies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_ticket_replies_ticket_id", "ticket_replies", ["ticket_id"])
    op.execute(
        "INSERT INTO ticket_replies (ticket_id, at, author, status, text) "
        "SELECT ticket_id, at, '', status, text FROM ticket_notes_0005 ORDER BY ticket_id"
    )
    op.execute("DROP TABLE ticket_notes_0005")
    # Answered or closed before: handled when last touched (the best the old rows know).
    op.execute(
        "UPDATE tickets SET handled_at = COALESCE(closed_at, updated_at) "
        "WHERE status IN ('answered', 'closed')"
    )


def downgrade() -> None:
    with op.batch_alter_table("tickets", recreate="auto") as batch:
        batch.add_column(sa.Column("reply_note", sa.Text(), nullable=False, server_default=""))
    op.execute(
        "UPDATE tickets SET reply_note = COALESCE((SELECT text FROM ticket_replies r "
        "WHERE r.ticket_id = tickets.id AND r.text != '' ORDER BY r.id DESC LIMIT 1), '')"
    )
    with op.batch_alter_table("tickets", recreate="auto") as batch:
        for name in ("due_date", "assignee", "agency", "category"):
            batch.drop_index(f"ix_tickets_{name}")
        for name in ("handled_at", "due_date", "assignee", "agency", "category"):
            batch.drop_column(name)
    op.drop_index("ix_ticket_replies_ticket_id", table_name="ticket_replies")
    op.drop_table("ticket_replies")
