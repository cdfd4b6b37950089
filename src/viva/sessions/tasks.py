"""Session jobs: reminders before scheduled_at, and the sweep that expires never-joined sessions."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from viva.interview.questions import TIME_UP_CLOSING
from viva.jobs.context import JobContext
from viva.jobs.registry import periodic, task
from viva.kit import clock
from viva.sessions import live, service
from viva.sessions.repository import due_for_expiry, session_by_id

SWEEP_BATCH = 200


def _deps(ctx: JobContext) -> service.Deps:
    return service.Deps(settings=ctx.settings, secrets=ctx.secrets)


@task("sessions.remind", max_attempts=5)
async def remind(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    session = await session_by_id(db, uuid.UUID(payload["session_id"]))
    if session is not None:
        await service.remind(db, session, payload["scheduled_at"], payload["when"], _deps(ctx))


@periodic(every_seconds=60)
@task("sessions.expire_sweep", max_attempts=3)
async def expire_sweep(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    for session in await due_for_expiry(db, clock.now(), SWEEP_BATCH):
        await service.expire(db, session, _deps(ctx))


@periodic(every_seconds=15)
@task("sessions.live_sweep", max_attempts=3)
async def live_sweep(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    # Interviews nobody is finishing: past the hard stop, or the candidate gone past the grace period.
    await live.sweep(db, _deps(ctx), TIME_UP_CLOSING)
