"""Housekeeping of the job table itself."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from viva.jobs.context import JobContext
from viva.jobs.registry import periodic, task
from viva.kit import clock
from viva.models import Job

KEEP_FINISHED = timedelta(days=7)


@periodic(every_seconds=3600)
@task("jobs.cleanup", max_attempts=3)
async def cleanup(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    """Forget succeeded jobs after a week (dead ones stay for a person to look at)."""
    await db.execute(
        delete(Job).where(Job.status == "succeeded", Job.finished_at < clock.now() - KEEP_FINISHED)
    )
