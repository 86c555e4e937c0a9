"""console: login attempts shared by every web process (the login limiter).

Revision ID: console_0002_login_attempts
Revises: console_0001_operators
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "console_0002_login_attempts"
down_revision = "console_0001_operators"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_login_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
    )
    op.create_index("ix_console_login_attempts_at", "console_login_attempts", ["at"])
    op.create_index("ix_console_login_attempts_ip", "console_login_attempts", ["ip"])


def downgrade() -> None:
    op.drop_index("ix_console_login_attempts_ip", table_name="console_login_attempts")
    op.drop_index("ix_console_login_attempts_at", table_name="console_login_attempts")
    op.drop_table("console_login_attempts")
