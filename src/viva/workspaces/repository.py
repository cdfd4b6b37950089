"""Workspaces and users sit above tenancy: these lookups are by slug, email or id."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from viva.models import Membership, User, Workspace


async def workspace_by_slug(db: AsyncSession, slug: str) -> Workspace | None:
    return await db.scalar(select(Workspace).where(Workspace.slug == slug))


async def workspace_by_id(db: AsyncSession, workspace_id: uuid.UUID) -> Workspace | None:
    return await db.get(Workspace, workspace_id)


async def user_by_email(db: AsyncSession, email: str) -> User | None:
    return await db.scalar(select(User).where(User.email == email.lower()))


async def membership(db: AsyncSession, user_id: uuid.UUID, workspace_id: uuid.UUID) -> Membership | None:
    return await db.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.workspace_id == workspace_id)
    )


async def memberships_of(db: AsyncSession, user_id: uuid.UUID) -> list[tuple[Membership, Workspace]]:
    rows = await db.execute(
        select(Membership, Workspace)
        .join(Workspace, Workspace.id == Membership.workspace_id)
        .where(Membership.user_id == user_id)
        .order_by(Workspace.slug)
    )
    return [(m, w) for m, w in rows.tuples()]


async def take_credit(db: AsyncSession, workspace_id: uuid.UUID) -> bool:
    result = await db.execute(
        update(Workspace)
        .where(Workspace.id == workspace_id, Workspace.credits > 0)
        .values(credits=Workspace.credits - 1)
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def give_credit(db: AsyncSession, workspace_id: uuid.UUID) -> None:
    await db.execute(
        update(Workspace)
        .where(Workspace.id == workspace_id)
        .values(credits=Workspace.credits + 1)
        .execution_options(synchronize_session="fetch")
    )


async def members_of(db: AsyncSession, workspace_id: uuid.UUID) -> list[tuple[Membership, User]]:
    rows = await db.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == workspace_id)
        .order_by(User.email)
    )
    return [(m, u) for m, u in rows.tuples()]
