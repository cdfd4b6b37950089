"""one open session per participant and stage, in the database

Revision ID: 0008b_open_session_unique
Revises: 0007_session_recordings
Create Date: 2026-12-08 01:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008b_open_session_unique"
down_revision = "0007_session_recordings"
branch_labels = None
depends_on = None

# As viva.models.session.ONE_OPEN_WHERE (a migration does not import the models: they move on).
ONE_OPEN_WHERE = "status IN ('scheduled', 'in_progress') AND NOT forced AND NOT manual"


def upgrade() -> None:
    with op.batch_alter_table("interview_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forced", sa.Boolean(), server_default=sa.false(), nullable=False))
    # Duplicates made before the index existed (by `force: true`, or by the race the index
    # closes) stay open, as they were: the oldest of each participant and stage keeps the
    # slot and the others are marked forced, which is what `force: true` makes today.
    op.execute(
        sa.text(
            """
            UPDATE interview_sessions SET forced = :yes
            WHERE status IN ('scheduled', 'in_progress') AND manual = :no
              AND EXISTS (
                SELECT 1 FROM interview_sessions AS older
                WHERE older.participant_id = interview_sessions.participant_id
                  AND older.evaluation_stage_id = interview_sessions.evaluation_stage_id
                  AND older.status IN ('scheduled', 'in_progress') AND older.manual = :no
                  AND (older.created_at < interview_sessions.created_at
                       OR (older.created_at = interview_sessions.created_at
                           AND older.id < interview_sessions.id))
              )
            """
        ).bindparams(yes=True, no=False)
    )
    op.create_index(
        "uq_interview_sessions_one_open",
        "interview_sessions",
        ["participant_id", "evaluation_stage_id"],
        unique=True,
        sqlite_where=sa.text(ONE_OPEN_WHERE),
        postgresql_where=sa.text(ONE_OPEN_WHERE),
    )


def downgrade() -> None:
    op.drop_index("uq_interview_sessions_one_open", table_name="interview_sessions")
    with op.batch_alter_table("interview_sessions", schema=None) as batch_op:
        batch_op.drop_column("forced")
