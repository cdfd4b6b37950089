"""session recordings and voice metrics

Revision ID: 0007_session_recordings
Revises: 0006_workspace_language
Create Date: 2026-12-04 18:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_session_recordings"
down_revision = "0006_workspace_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interview_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recording_status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("recording_key", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("recording_bytes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("recording_seconds", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("recording_takes", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("voice_metrics", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True))
        batch_op.create_index("ix_interview_sessions_recording_status", ["recording_status"])
        batch_op.create_index("ix_interview_sessions_recording_key", ["recording_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("interview_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_interview_sessions_recording_key")
        batch_op.drop_index("ix_interview_sessions_recording_status")
        for column in (
            "voice_metrics",
            "recording_takes",
            "recording_seconds",
            "recording_bytes",
            "recording_key",
            "recording_status",
        ):
            batch_op.drop_column(column)
