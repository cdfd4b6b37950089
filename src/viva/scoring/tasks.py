"""The scoring job, queued in the transaction that completes an interview (SPEC §5)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from viva.interview.runner import interviewer_model
from viva.jobs.context import JobContext
from viva.jobs.registry import task
from viva.scoring import service
from viva.sessions import service as sessions


@task("scoring.score_session", max_attempts=5)
async def score_session(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    session_id = uuid.UUID(payload["session_id"])
    # Read in a short transaction of its own and grade with none open: a language model may
    # take many seconds, and on SQLite an open transaction holds the only write lock.
    async with ctx.sessionmaker() as read:
        session = await sessions.for_job(read, session_id)
        if session is None or session.scored_at is not None:
            return  # erased, or already scored by an earlier attempt of this job
        inputs = await service.grading_inputs(read, session)
    model = interviewer_model(ctx.settings)
    try:
        card = await service.grade(session, inputs, model)
    finally:
        if model is not None:
            await model.aclose()
    session = await sessions.for_job(db, session_id)
    if session is not None and session.scored_at is None:
        await service.store(db, session, card, sessions.Deps(ctx.settings, ctx.secrets), "completed")
