"""API keys (create, authenticate, revoke) and dashboard sign-in."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from viva.auth import repository
from viva.auth.passwords import verify_password
from viva.auth.scopes import ALL_SCOPES, ROLE_SCOPES
from viva.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from viva.kit import clock
from viva.kit.crypto import constant_time_equals, random_token, token_hash
from viva.models import ApiKey, User, UserSession, Workspace
from viva.workspaces import service as workspaces

KEY_PREFIX = "iv_live_"
# last_used_at is written at most this often per key, so reads don't all become writes.
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    workspace_id: uuid.UUID
    workspace_slug: str
    scopes: frozenset[str]
    api_key_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    role: str | None = None

    @property
    def rate_limit_key(self) -> str:
        return f"key:{self.api_key_id}" if self.api_key_id else f"user:{self.user_id}"

    @property
    def actor(self) -> str:
        return f"api_key:{self.api_key_id}" if self.api_key_id else f"user:{self.user_id}"


def require_scope(principal: Principal, scope: str) -> None:
    """403 `missing_scope`, naming the scope, unless the caller holds it."""
    if scope not in principal.scopes:
        raise Forbidden(
            f"This key lacks the '{scope}' scope required here",
            code="missing_scope",
            scope=scope,
        )


def validate_scopes(scopes: Iterable[str]) -> list[str]:
    scopes = list(dict.fromkeys(scopes))
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown:
        raise ValidationFailed.at(
            ["scopes"], f"Unknown scope(s) {', '.join(unknown)}. Valid: {', '.join(ALL_SCOPES)}"
        )
    return scopes


async def create_api_key(
    db: AsyncSession, workspace: Workspace, name: str = "", scopes: Iterable[str] | None = None
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the secret, which is shown once and never stored."""
    chosen = validate_scopes(ALL_SCOPES if scopes is None else scopes)
    secret = KEY_PREFIX + random_token(32)
    key = ApiKey(
        workspace_id=workspace.id,
        name=name,
        prefix=secret[: len(KEY_PREFIX) + 6],
        key_hash=token_hash(secret),
        scopes=chosen,
    )
    db.add(key)
    await db.flush()
    return key, secret


async def revoke_api_key(db: AsyncSession, ref: str, workspace_id: uuid.UUID | None = None) -> ApiKey:
    """Revoke a key by id or display prefix (within one workspace when given)."""
    keys = [
        k
        for k in await repository.api_key_by_id_or_prefix(db, ref)
        if workspace_id is None or k.workspace_id == workspace_id
    ]
    if not keys:
        raise NotFound("API key")
    if len(keys) > 1:
        raise ValidationFailed.at(["key"], "Several keys share that prefix; use the key id")
    key = keys[0]
    if key.revoked_at is None:
        key.revoked_at = clock.now()
    return key


async def list_api_keys(db: AsyncSession, workspace_id: uuid.UUID) -> list[ApiKey]:
    return await repository.ApiKeyRepository(db, workspace_id).list_all()


async def authenticate_api_key(db: AsyncSession, secret: str, account_slug: str | None) -> Principal:
    if not secret.startswith(KEY_PREFIX):
        raise Unauthorized("Invalid API key: keys start with iv_live_")
    key = await repository.api_key_by_hash(db, token_hash(secret))
    if key is None:
        raise Unauthorized("Invalid API key")
    if key.revoked_at is not None:
        raise Unauthorized("This API key has been revoked")
    workspace = await workspaces.get_workspace_by_id(db, key.workspace_id)
    principal = Principal(
        workspace_id=workspace.id,
        workspace_slug=workspace.slug,
        scopes=frozenset(key.scopes),
        api_key_id=key.id,
    )
    check_account_slug(principal, account_slug)
    now = clock.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        key.last_used_at = now
    return principal


def check_account_slug(principal: Principal, account_slug: str | None) -> None:
    """`accountSlug` (query, or body where documented) is accepted and ignored when it names
    the caller's workspace; naming another is a 403 `wrong_account`, never a write elsewhere."""
    if account_slug and account_slug != principal.workspace_slug:
        whose = "This API key belongs to" if principal.api_key_id else "You are signed in to"
        raise Forbidden(
            f"{whose} workspace '{principal.workspace_slug}', not '{account_slug}'",
            code="wrong_account",
        )


async def sign_in(
    db: AsyncSession, email: str, password: str, ttl: timedelta
) -> tuple[User, UserSession, str]:
    """Check a password; on success open a sign-in session. Returns its cookie token."""
    user = await workspaces.find_user(db, email)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthorized("Wrong email or password")
    token = random_token(32)
    session = UserSession(
        user_id=user.id,
        token_hash=token_hash(token),
        csrf_token=random_token(24),
        expires_at=clock.now() + ttl,
    )
    db.add(session)
    await db.flush()
    return user, session, token


async def session_for_cookie(db: AsyncSession, token: str) -> UserSession | None:
    session = await repository.user_session_by_hash(db, token_hash(token))
    if session is None or session.expires_at <= clock.now():
        return None
    return session


async def sign_out(db: AsyncSession, token: str) -> None:
    session = await repository.user_session_by_hash(db, token_hash(token))
    if session is not None:
        await db.delete(session)


async def authenticate_cookie(
    db: AsyncSession,
    token: str,
    account_slug: str | None,
    csrf_header: str | None,
    unsafe_method: bool,
) -> Principal:
    session = await session_for_cookie(db, token)
    if session is None:
        raise Unauthorized("Your sign-in has expired; sign in again")
    if unsafe_method and not (csrf_header and constant_time_equals(csrf_header, session.csrf_token)):
        raise Forbidden(
            "Missing or wrong CSRF token: send the x-csrf-token header with cookie-authenticated writes",
            code="csrf_failed",
        )
    memberships = await workspaces.memberships(db, session.user_id)
    if account_slug:
        chosen = [(m, w) for m, w in memberships if w.slug == account_slug]
        if not chosen:
            raise Forbidden(f"You are not a member of workspace '{account_slug}'", code="wrong_account")
    elif len(memberships) == 1:
        chosen = memberships
    else:
        raise ValidationFailed.at(["accountSlug"], "Required: name the workspace with ?accountSlug=<slug>")
    member, workspace = chosen[0]
    return Principal(
        workspace_id=workspace.id,
        workspace_slug=workspace.slug,
        scopes=ROLE_SCOPES[member.role],
        user_id=session.user_id,
        role=member.role,
    )


async def user_of(db: AsyncSession, session: UserSession) -> User:
    user = await db.get(User, session.user_id)
    assert user is not None  # sessions cascade-delete with their user
    return user
