"""Writing jobs. Always inside the caller's transaction, so a rolled-back request
enqueues nothing and a committed one can't lose its side effects."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from viva.kit import clock
from viva.models import Job


async def enqueue(
    db: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime | None = None,
    workspace_id: uuid.UUID | None = None,
    max_attempts: int | None = None,
) -> Job:
    """Add a job to the caller's transaction; it becomes visible to workers on commit."""
    from viva.jobs.registry import TASKS

    task = TASKS.get(kind)
    job = Job(
        kind=kind,
        payload=payload,
        run_at=run_at or clock.now(),
        workspace_id=workspace_id,
        max_attempts=max_attempts or (task.max_attempts if task else 10),
        status="queued",
        attempts=0,
    )
    db.add(job)
    return job


async def enqueue_once(
    db: AsyncSession,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any],
    run_at: datetime | None = None,
    workspace_id: uuid.UUID | None = None,
) -> bool:
    """Enqueue unless a job with `dedupe_key` already exists (periodic sweeps use a key per
    time bucket, so many workers schedule each sweep once). Returns whether it was added."""
    exists = await db.scalar(select(Job.id).where(Job.dedupe_key == dedupe_key))
    if exists:
        return False
    job = await enqueue(db, kind, payload, run_at=run_at, workspace_id=workspace_id)
    job.dedupe_key = dedupe_key
    return True
