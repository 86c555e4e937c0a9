"""broadcast: held (not yet released) segments, airing deadlines, device tokens, downloads and airings.

Revision ID: broadcast_0002_airing
Revises: broadcast_0001_segments
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "broadcast_0002_airing"
down_revision = "broadcast_0001_segments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("broadcast_segments") as batch:
        batch.add_column(sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("deadline_at", sa.DateTime(), nullable=True))
    op.create_table(
        "broadcast_device_tokens",
        sa.Column("commune_code", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False, server_default=""),
    )
    op.create_index(
        "ix_broadcast_device_tokens_token_hash", "broadcast_device_tokens", ["token_hash"], unique=True
    )
    op.create_table(
        "broadcast_downloads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("bulletin_key", sa.String(200), nullable=False),
        sa.Column("commune_code", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_broadcast_downloads_segment_id", "broadcast_downloads", ["segment_id"])
    op.create_index("ix_broadcast_downloads_bulletin_key", "broadcast_downloads", ["bulletin_key"])
    op.create_index("ix_broadcast_downloads_commune_code", "broadcast_downloads", ["commune_code"])
    op.create_table(
        "broadcast_airings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("bulletin_key", sa.String(200), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("commune_code", sa.Integer(), nullable=False),
        sa.Column("aired_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_by", sa.String(64), nullable=False, server_default=""),
    )
    op.create_index("ix_broadcast_airings_bulletin_key", "broadcast_airings", ["bulletin_key"])
    op.create_index("ix_broadcast_airings_commune_code", "broadcast_airings", ["commune_code"])


def downgrade() -> None:
    op.drop_table("broadcast_airings")
    op.drop_table("broadcast_downloads")
    op.drop_table("broadcast_device_tokens")
    with op.batch_alter_table("broadcast_segments") as batch:
        batch.drop_column("deadline_at")
        batch.drop_column("held")
