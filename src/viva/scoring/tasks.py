"""The scoring job, queued when an interview completes (SPEC §5).

The evaluator itself is the next milestone; until it lands the job records that the
session is waiting for it, so completed sessions keep `score: null` honestly instead of
getting an invented scorecard.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from viva.jobs.context import JobContext
from viva.jobs.registry import task

log = structlog.get_logger(__name__)


@task("scoring.score_session", max_attempts=5)
async def score_session(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    log.info("scoring not available yet; session left unscored", session_id=payload["session_id"])
