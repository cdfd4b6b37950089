"""Creating workspaces, users and memberships; the first-start bootstrap."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from viva.auth.passwords import hash_password
from viva.auth.scopes import ROLES
from viva.errors import Conflict, NotFound, PaymentRequired, ValidationFailed
from viva.kit.crypto import random_token
from viva.kit.schemas import Language
from viva.models import Membership, User, Workspace
from viva.workspaces import repository

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


async def create_workspace(db: AsyncSession, slug: str, name: str) -> Workspace:
    """Create a workspace; the slug is its stable, URL-safe handle."""
    if not SLUG_RE.match(slug):
        raise ValidationFailed.at(
            ["slug"], "Use 1-63 lower-case letters, digits and hyphens, not starting or ending with a hyphen"
        )
    if await repository.workspace_by_slug(db, slug):
        raise Conflict(f"Workspace '{slug}' already exists", code="duplicate_workspace")
    workspace = Workspace(slug=slug, name=name or slug)
    db.add(workspace)
    await db.flush()
    return workspace


async def get_workspace(db: AsyncSession, slug: str) -> Workspace:
    workspace = await repository.workspace_by_slug(db, slug)
    if workspace is None:
        raise NotFound("Workspace")
    return workspace


async def get_workspace_by_id(db: AsyncSession, workspace_id: uuid.UUID) -> Workspace:
    workspace = await repository.workspace_by_id(db, workspace_id)
    if workspace is None:
        raise NotFound("Workspace")
    return workspace


@dataclass
class NewUser:
    user: User
    membership: Membership
    password: str | None  # set only when we generated it, to show once


async def create_user(
    db: AsyncSession,
    workspace: Workspace,
    email: str,
    role: str = "owner",
    password: str | None = None,
    name: str = "",
) -> NewUser:
    """Add a user to a workspace (creating the user if the email is new). When no password
    is given for a new user, one is generated and returned once."""
    if role not in ROLES:
        raise ValidationFailed.at(["role"], f"Invalid role. Expected one of {', '.join(ROLES)}")
    email = email.strip().lower()
    if "@" not in email:
        raise ValidationFailed.at(["email"], "Invalid email")
    generated = None
    user = await repository.user_by_email(db, email)
    if user is None:
        if password is None:
            generated = password = random_token(12)
        user = User(email=email, name=name, password_hash=hash_password(password))
        db.add(user)
        await db.flush()
    elif password is not None:
        user.password_hash = hash_password(password)
    existing = await repository.membership(db, user.id, workspace.id)
    if existing is not None:
        raise Conflict(f"{email} is already a member of '{workspace.slug}'", code="duplicate_member")
    member = Membership(user_id=user.id, workspace_id=workspace.id, role=role)
    db.add(member)
    await db.flush()
    return NewUser(user=user, membership=member, password=generated)


async def workspace_exists(db: AsyncSession, slug: str) -> bool:
    return await repository.workspace_by_slug(db, slug) is not None


async def find_user(db: AsyncSession, email: str) -> User | None:
    """The user with this email (case-insensitive), if any."""
    return await repository.user_by_email(db, email)


async def memberships(db: AsyncSession, user_id: uuid.UUID) -> list[tuple[Membership, Workspace]]:
    """A user's memberships with their workspaces, ordered by slug."""
    return await repository.memberships_of(db, user_id)


async def debit_credit(db: AsyncSession, workspace_id: uuid.UUID) -> bool:
    """Take one session credit. Unlimited plans pay nothing (False); a credits plan with
    none left, or no plan, is a 402. Atomic against concurrent debits."""
    workspace = await get_workspace_by_id(db, workspace_id)
    if workspace.plan == "unlimited":
        return False
    if workspace.plan != "credits":
        raise PaymentRequired("This workspace has no active plan", code="no_active_plan")
    if not await repository.take_credit(db, workspace_id):
        raise PaymentRequired("This workspace has no session credits left", code="no_credits")
    return True


async def refund_credit(db: AsyncSession, workspace_id: uuid.UUID) -> None:
    await repository.give_credit(db, workspace_id)


async def set_plan(db: AsyncSession, slug: str, plan: str, credits: int | None = None) -> Workspace:
    """Set a workspace's plan: unlimited, credits (with a balance) or none."""
    if plan not in ("unlimited", "credits", "none"):
        raise ValidationFailed.at(["plan"], "Plan must be unlimited, credits or none")
    if credits is not None and credits < 0:
        raise ValidationFailed.at(["credits"], "Credits cannot be negative")
    workspace = await get_workspace(db, slug)
    workspace.plan = plan
    if credits is not None:
        workspace.credits = credits
    await db.flush()
    return workspace


async def set_default_language(db: AsyncSession, workspace_id: uuid.UUID, language: str) -> Workspace:
    """The language new templates interview in unless they name their own (a BCP 47 tag)."""
    try:
        tag = TypeAdapter(Language).validate_python(language.strip())
    except ValidationError:
        raise ValidationFailed.at(
            ["default_language"], "Use a BCP 47 language tag, such as en, en-GB, pt-BR or zh-Hant-TW"
        ) from None
    workspace = await get_workspace_by_id(db, workspace_id)
    workspace.default_language = tag
    await db.flush()
    return workspace


async def members(db: AsyncSession, workspace_id: uuid.UUID) -> list[tuple[Membership, User]]:
    """A workspace's members with their users, ordered by email."""
    return await repository.members_of(db, workspace_id)


async def set_role(db: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID, role: str) -> Membership:
    """Change a member's role. The last owner stays an owner, so a workspace is never orphaned."""
    member = await repository.membership(db, user_id, workspace_id)
    if member is None:
        raise NotFound("Member")
    if role not in ROLES:
        raise ValidationFailed.at(["role"], f"Invalid role. Expected one of {', '.join(ROLES)}")
    if member.role == "owner" and role != "owner":
        owners = [m for m, _ in await repository.members_of(db, workspace_id) if m.role == "owner"]
        if len(owners) == 1:
            raise Conflict(
                "A workspace needs at least one owner; make someone else owner first", code="last_owner"
            )
    member.role = role
    await db.flush()
    return member
