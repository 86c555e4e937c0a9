"""console: radio roles; a commune radio account is bound to one commune (unit code).

Revision ID: console_0003_radio_roles
Revises: console_0002_login_attempts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "console_0003_radio_roles"
down_revision = "console_0002_login_attempts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Roles are strings (admin | operator | editor | commune): only the commune binding is new.
    with op.batch_alter_table("operators", recreate="auto") as batch:
        batch.add_column(sa.Column("commune_code", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operators", recreate="auto") as batch:
        batch.drop_column("commune_code")
