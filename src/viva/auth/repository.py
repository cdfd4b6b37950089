"""API keys and sign-in sessions."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from viva.kit.repository import WorkspaceRepository
from viva.models import ApiKey, UserSession


class ApiKeyRepository(WorkspaceRepository[ApiKey]):
    model = ApiKey

    async def list_all(self) -> list[ApiKey]:
        rows = await self.db.execute(self.select().order_by(ApiKey.created_at))
        return list(rows.scalars())


async def api_key_by_hash(db: AsyncSession, key_hash: str) -> ApiKey | None:
    """The one lookup that precedes knowing the workspace: the key itself names it."""
    return await db.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))


async def api_key_by_id_or_prefix(db: AsyncSession, ref: str) -> list[ApiKey]:
    try:
        return [k for k in [await db.get(ApiKey, uuid.UUID(ref))] if k is not None]
    except ValueError:
        rows = await db.execute(select(ApiKey).where(ApiKey.prefix == ref))
        return list(rows.scalars())


async def user_session_by_hash(db: AsyncSession, token_hash: str) -> UserSession | None:
    return await db.scalar(select(UserSession).where(UserSession.token_hash == token_hash))
