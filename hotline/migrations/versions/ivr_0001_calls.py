"""ivr: calls, call turns, tickets and dossiers.

Revision ID: ivr_0001_calls
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ivr_0001_calls"
down_revision = "0001_base"
branch_labels = ("ivr",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel_id", sa.String(128), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False, server_default=""),
        sa.Column("caller_masked", sa.String(64), nullable=False, server_default=""),
        sa.Column("caller_hash", sa.String(64), nullable=False, server_default=""),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False, server_default="in_progress"),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("degraded", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_calls_channel_id", "calls", ["channel_id"], unique=True)
    op.create_index("ix_calls_caller_hash", "calls", ["caller_hash"])
    op.create_index("ix_calls_started_at", "calls", ["started_at"])
    op.create_table(
        "call_turns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_id", sa.Integer(), sa.ForeignKey("calls.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=False, server_default=""),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("dtmf", sa.String(64), nullable=False, server_default=""),
        sa.Column("action", sa.String(64), nullable=True),
        sa.Column("asr_ms", sa.Integer(), nullable=True),
        sa.Column("response_ms", sa.Integer(), nullable=True),
    )
    op.create_index("ix_call_turns_call_id", "call_turns", ["call_id"])
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("call_id", sa.Integer(), sa.ForeignKey("calls.id", ondelete="SET NULL"), nullable=True),
        sa.Column("caller", sa.String(64), nullable=False, server_default=""),
        sa.Column("caller_masked", sa.String(64), nullable=False, server_default=""),
        sa.Column("reason", sa.String(16), nullable=False, server_default="feedback"),
        sa.Column("audio_path", sa.String(512), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("transcript", sa.Text(), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False, server_default="new"),
        sa.Column("reply_note", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_tickets_number", "tickets", ["number"], unique=True)
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])
    op.create_table(
        "dossiers",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dossiers")
    op.drop_index("ix_tickets_created_at", table_name="tickets")
    op.drop_index("ix_tickets_number", table_name="tickets")
    op.drop_table("tickets")
    op.drop_index("ix_call_turns_call_id", table_name="call_turns")
    op.drop_table("call_turns")
    op.drop_index("ix_calls_started_at", table_name="calls")
    op.drop_index("ix_calls_caller_hash", table_name="calls")
    op.drop_index("ix_calls_channel_id", table_name="calls")
    op.drop_table("calls")
