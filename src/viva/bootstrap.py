"""First start: a `default` workspace, its owner and an all-scopes API key, created once;
and on every start, any missing profile of the built-in public library."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from viva.agent_profiles import library
from viva.auth import service as auth_service
from viva.workspaces import service as workspaces_service

DEFAULT_SLUG = "default"
OWNER_EMAIL = "owner@viva.local"


@dataclass
class FirstStart:
    email: str
    password: str
    api_key: str


async def first_start(db: AsyncSession) -> FirstStart | None:
    """Create the default workspace, owner and key when the database has no workspace yet.
    Returns what to print once, or None on every later start."""
    if await workspaces_service.workspace_exists(db, DEFAULT_SLUG):
        return None
    workspace = await workspaces_service.create_workspace(db, DEFAULT_SLUG, "Default workspace")
    owner = await workspaces_service.create_user(db, workspace, OWNER_EMAIL, role="owner")
    assert owner.password is not None
    _, secret = await auth_service.create_api_key(db, workspace, name="first start key")
    return FirstStart(email=OWNER_EMAIL, password=owner.password, api_key=secret)


async def on_start(db: AsyncSession) -> FirstStart | None:
    """Everything `viva serve` does to the data before serving."""
    first = await first_start(db)
    await library.ensure_library(db)
    return first
