"""broadcast: catalog of rendered segments and render jobs.

Revision ID: broadcast_0001_segments
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "broadcast_0001_segments"
down_revision = "0001_base"
branch_labels = ("broadcast",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broadcast_segments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("bulletin_date", sa.Date(), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False, server_default=""),
        sa.Column("priority", sa.String(16), nullable=False, server_default="normal"),
        sa.Column("commune_code", sa.Integer(), nullable=True),
        sa.Column("communes_json", sa.Text(), nullable=False, server_default='"all"'),
        sa.Column("template", sa.String(64), nullable=False, server_default=""),
        sa.Column("engine", sa.String(32), nullable=False, server_default=""),
        sa.Column("voice", sa.String(200), nullable=False, server_default=""),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("loudness_lufs", sa.Float(), nullable=False),
        sa.Column("true_peak_dbtp", sa.Float(), nullable=False),
        sa.Column("file", sa.String(300), nullable=False),
        sa.Column("sidecar", sa.String(300), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("publish_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_broadcast_segments_key", "broadcast_segments", ["key"], unique=True)
    op.create_index("ix_broadcast_segments_bulletin_date", "broadcast_segments", ["bulletin_date"])
    op.create_index("ix_broadcast_segments_created_at", "broadcast_segments", ["created_at"])
    op.create_index("ix_broadcast_segments_expires_at", "broadcast_segments", ["expires_at"])
    op.create_table(
        "broadcast_jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="queued"),
        sa.Column("stage", sa.String(32), nullable=False, server_default=""),
        sa.Column("done", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("total", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("message", sa.Text(), nullable=False, server_default=""),
        sa.Column("source", sa.String(200), nullable=False, server_default=""),
        sa.Column("commune", sa.String(100), nullable=True),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_broadcast_jobs_created_at", "broadcast_jobs", ["created_at"])


def downgrade() -> None:
    op.drop_table("broadcast_jobs")
    op.drop_index("ix_broadcast_segments_expires_at", "broadcast_segments")
    op.drop_index("ix_broadcast_segments_created_at", "broadcast_segments")
    op.drop_index("ix_broadcast_segments_bulletin_date", "broadcast_segments")
    op.drop_index("ix_broadcast_segments_key", "broadcast_segments")
    op.drop_table("broadcast_segments")
