"""Finding sessions by what recordings know of them. Jobs and signed links carry an id or a key,
not a workspace: the row names its workspace (as `sessions.repository.session_by_id` does)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from viva.models import InterviewSession, SessionRecording


async def session_by_id(
    db: AsyncSession, session_id: uuid.UUID, *, lock: bool = False
) -> InterviewSession | None:
    stmt = select(InterviewSession).where(InterviewSession.id == session_id)
    return await db.scalar(stmt.with_for_update() if lock else stmt)


async def session_by_recording_key(db: AsyncSession, key: str) -> InterviewSession | None:
    return await db.scalar(
        select(InterviewSession)
        .join(SessionRecording, SessionRecording.session_id == InterviewSession.id)
        .where(SessionRecording.key == key)
    )


async def past_retention(db: AsyncSession, ended_before: datetime, limit: int) -> list[InterviewSession]:
    """Sessions with audio kept (a recording, or parts never assembled) whose interview ended
    before `ended_before`, oldest first."""
    rows = await db.execute(
        select(InterviewSession)
        .join(SessionRecording, SessionRecording.session_id == InterviewSession.id)
        .where(
            SessionRecording.status.in_(("ready", "capturing", "failed")),
            InterviewSession.ended_at < ended_before,
        )
        .order_by(InterviewSession.ended_at)
        .limit(limit)
    )
    return list(rows.scalars())
