"""Auth jobs: the hourly purge of dead OAuth codes and tokens."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from viva.auth import oauth
from viva.jobs.context import JobContext
from viva.jobs.registry import periodic, task


@periodic(every_seconds=3600)
@task("auth.oauth_purge", max_attempts=3)
async def oauth_purge(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    await oauth.purge_expired(db)
