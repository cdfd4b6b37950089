"""API keys, sign-in sessions and OAuth (for MCP) clients, codes and tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from viva.kit.repository import WorkspaceRepository
from viva.models import ApiKey, OAuthAuthorizationCode, OAuthClient, OAuthToken, User, UserSession


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


# ------------------------------------------------------------------ OAuth for MCP


class OAuthTokenRepository(WorkspaceRepository[OAuthToken]):
    model = OAuthToken

    async def active_with_names(self, now: datetime) -> list[tuple[OAuthToken, str, str]]:
        """Live tokens (not revoked, refreshable) with their client's name and their user's email."""
        stmt = (
            self.select()
            .add_columns(OAuthClient.name, User.email)
            .join(OAuthClient, OAuthClient.id == OAuthToken.client_id)
            .join(User, User.id == OAuthToken.user_id)
            .where(OAuthToken.revoked_at.is_(None), OAuthToken.refresh_expires_at > now)
            .order_by(OAuthToken.granted_at)
        )
        return [(token, name, email) for token, name, email in (await self.db.execute(stmt)).all()]

    async def of_client(self, client_id: uuid.UUID) -> list[OAuthToken]:
        rows = await self.db.execute(self.select().where(OAuthToken.client_id == client_id))
        return list(rows.scalars())

    async def retire_unused_codes(self, client_id: uuid.UUID, now: datetime) -> None:
        await self.db.execute(
            update(OAuthAuthorizationCode)
            .where(
                OAuthAuthorizationCode.workspace_id == self.workspace_id,
                OAuthAuthorizationCode.client_id == client_id,
                OAuthAuthorizationCode.used_at.is_(None),
            )
            .values(used_at=now)
        )


# The lookups below precede knowing the workspace: the secret itself names it.


async def oauth_client(db: AsyncSession, client_id: uuid.UUID) -> OAuthClient | None:
    return await db.get(OAuthClient, client_id)


async def oauth_code_by_hash(db: AsyncSession, code_hash: str) -> OAuthAuthorizationCode | None:
    return await db.scalar(
        select(OAuthAuthorizationCode).where(OAuthAuthorizationCode.code_hash == code_hash)
    )


async def oauth_token_by_access_hash(db: AsyncSession, access_hash: str) -> OAuthToken | None:
    return await db.scalar(select(OAuthToken).where(OAuthToken.access_hash == access_hash))


async def oauth_token_by_refresh_hash(db: AsyncSession, refresh_hash: str) -> OAuthToken | None:
    return await db.scalar(select(OAuthToken).where(OAuthToken.refresh_hash == refresh_hash))


async def claim_oauth_code(db: AsyncSession, code_id: uuid.UUID, now: datetime) -> bool:
    """Mark a code used; False if another request used it first (one UPDATE, so two
    concurrent exchanges of one code cannot both win)."""
    result = await db.execute(
        update(OAuthAuthorizationCode)
        .where(OAuthAuthorizationCode.id == code_id, OAuthAuthorizationCode.used_at.is_(None))
        .values(used_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def retire_oauth_token(db: AsyncSession, token_id: uuid.UUID, now: datetime) -> bool:
    """Revoke one token row; False if it already was (a concurrent refresh won)."""
    result = await db.execute(
        update(OAuthToken)
        .where(OAuthToken.id == token_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def revoke_oauth_family(db: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await db.execute(
        update(OAuthToken)
        .where(OAuthToken.family_id == family_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def purge_dead_oauth(db: AsyncSession, before: datetime) -> None:
    """Delete codes that expired and tokens whose refresh token expired before `before`: nothing
    can be exchanged for them any more, and a rotated refresh token is kept until then so that
    presenting it again still revokes its family."""
    await db.execute(delete(OAuthAuthorizationCode).where(OAuthAuthorizationCode.expires_at < before))
    await db.execute(delete(OAuthToken).where(OAuthToken.refresh_expires_at < before))
