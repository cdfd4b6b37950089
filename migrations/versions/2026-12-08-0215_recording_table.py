"""recordings get their own table (session_recordings), owned by viva.recordings

Revision ID: 0008a_recording_table
Revises: 0008d_api_compat
Create Date: 2026-12-08 02:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008a_recording_table"
down_revision = "0008d_api_compat"
branch_labels = None
depends_on = None

COLUMNS = ("status", "key", "bytes", "seconds", "takes")


def upgrade() -> None:
    op.create_table(
        "session_recordings",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("key", sa.String(length=300), nullable=True),
        sa.Column("bytes", sa.Integer(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("takes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["interview_sessions.id"],
            name=op.f("fk_session_recordings_session_id_interview_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_session_recordings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_session_recordings")),
    )
    op.create_index(op.f("ix_session_recordings_key"), "session_recordings", ["key"], unique=True)
    op.create_index(op.f("ix_session_recordings_status"), "session_recordings", ["status"])
    op.create_index(op.f("ix_session_recordings_workspace_id"), "session_recordings", ["workspace_id"])
    # Every session that ever started recording keeps its row (a take with no part included).
    op.execute(
        "INSERT INTO session_recordings (session_id, workspace_id, status, key, bytes, seconds, takes) "
        "SELECT id, workspace_id, recording_status, recording_key, recording_bytes, recording_seconds, "
        "recording_takes FROM interview_sessions "
        "WHERE recording_status IS NOT NULL OR recording_takes > 0"
    )
    with op.batch_alter_table("interview_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_interview_sessions_recording_key")
        batch_op.drop_index("ix_interview_sessions_recording_status")
        for column in COLUMNS:
            batch_op.drop_column(f"recording_{column}")


def downgrade() -> None:
    with op.batch_alter_table("interview_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recording_status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("recording_key", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("recording_bytes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("recording_seconds", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("recording_takes", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index("ix_interview_sessions_recording_status", ["recording_status"])
        batch_op.create_index("ix_interview_sessions_recording_key", ["recording_key"], unique=True)
    # Correlated subqueries: the one UPDATE-from-another-table form SQLite and PostgreSQL share.
    sets = ", ".join(
        f"recording_{c} = (SELECT r.{c} FROM session_recordings r WHERE r.session_id = interview_sessions.id)"
        for c in COLUMNS[:-1]
    )
    op.execute(
        f"UPDATE interview_sessions SET {sets}, recording_takes = COALESCE((SELECT r.takes FROM "
        "session_recordings r WHERE r.session_id = interview_sessions.id), 0)"
    )
    op.drop_index(op.f("ix_session_recordings_workspace_id"), table_name="session_recordings")
    op.drop_index(op.f("ix_session_recordings_status"), table_name="session_recordings")
    op.drop_index(op.f("ix_session_recordings_key"), table_name="session_recordings")
    op.drop_table("session_recordings")
