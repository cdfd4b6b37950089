"""workspace default language

Revision ID: 0006_workspace_language
Revises: 0005_scorecards_review
Create Date: 2026-12-04 02:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_workspace_language"
down_revision = "0005_scorecards_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("default_language", sa.String(length=35), server_default="en", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("default_language")
