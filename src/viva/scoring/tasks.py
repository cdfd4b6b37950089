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
    session = await sessions.for_job(db, uuid.UUID(payload["session_id"]))
    if session is None or session.scored_at is not None and payload.get("reason") != "rescore":
        return  # erased, or already scored by an earlier attempt of this job
    model = interviewer_model(ctx.settings)
    try:
        await service.score(
            db, session, sessions.Deps(ctx.settings, ctx.secrets), model, payload.get("reason", "completed")
        )
    finally:
        if model is not None:
            await model.aclose()
