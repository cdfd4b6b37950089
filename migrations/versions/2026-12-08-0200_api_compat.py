"""invite_status says not_configured and none

Sessions scheduled before this revision kept `invite_status: queued` forever when no SMTP
server was configured (the invite only ever reached the outbox) and for reviewer-only
sessions (which send no invite). Data only: the column is a String(20) either way.

Revision ID: 0008d_api_compat
Revises: 0008f_mcp_oauth
Create Date: 2026-12-08 02:00:00
"""
from __future__ import annotations

from alembic import op

revision = "0008d_api_compat"
down_revision = "0008f_mcp_oauth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE interview_sessions SET invite_status = 'none' WHERE manual = TRUE")
    # Queued, and its newest invite (or reschedule) email was kept in the outbox.
    op.execute(
        """
        UPDATE interview_sessions SET invite_status = 'not_configured'
        WHERE invite_status = 'queued' AND manual = FALSE
          AND (
            SELECT m.status FROM email_messages m
            WHERE m.session_id = interview_sessions.id AND m.kind IN ('invite', 'reschedule')
            ORDER BY m.created_at DESC LIMIT 1
          ) = 'outbox'
        """
    )


def downgrade() -> None:
    # The earlier code knows only queued, sent and failed.
    op.execute(
        "UPDATE interview_sessions SET invite_status = 'queued' WHERE invite_status IN ('none', 'not_configured')"
    )
