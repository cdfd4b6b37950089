"""Recording jobs: assemble an ended interview's parts, erase a participant's audio, retention."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from viva.jobs.context import JobContext
from viva.jobs.registry import periodic, task
from viva.recordings import service

log = structlog.get_logger(__name__)


@task("recordings.assemble", max_attempts=8)
async def assemble(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    # The work uses its own short transactions; none is held while audio is encoded.
    outcome = await service.assemble_session(ctx.sessionmaker, ctx.blobs, uuid.UUID(payload["session_id"]))
    log.info("recording_assembled", session_id=payload["session_id"], outcome=outcome)


@task("recordings.erase", max_attempts=20)
async def erase(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    removed = await ctx.blobs.delete_prefix(payload["folder"])
    log.info("recordings_erased", blobs=removed)


@periodic(every_seconds=3600)
@task("recordings.expire", max_attempts=3)
async def expire(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    removed = await service.expire(ctx.sessionmaker, ctx.blobs, ctx.settings.recording_retention_days)
    if removed:
        log.info("recordings_expired", count=removed)
