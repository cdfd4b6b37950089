"""OAuth for MCP, the service: registered clients, a person's consent (workspace and scopes)
turned into a single-use code, codes and refresh tokens exchanged for tokens, and the
tokens checked on /api/mcp.

The HTTP side (metadata, registration, the authorize and token endpoints, PKCE) is the MCP
SDK's (`viva.mcp.oauth`); this module owns the state. Tokens are opaque random strings
stored as SHA-256 like API keys, scoped to one workspace and the scopes the person chose,
and never more than the person's role in that workspace allows today."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from viva.auth import repository
from viva.auth.scopes import ALL_SCOPES, ROLE_SCOPES
from viva.auth.service import LAST_USED_RESOLUTION, Principal
from viva.errors import ApiError, NotFound, Unauthorized, ValidationFailed
from viva.kit import clock
from viva.kit.crypto import random_token, token_hash
from viva.kit.secretbox import SecretBox
from viva.models import OAuthAuthorizationCode, OAuthClient, OAuthToken
from viva.workspaces import service as workspaces

# Distinct from API keys (iv_live_), so each endpoint can tell them apart and say which it takes.
TOKEN_PREFIX = "iv_mcp_"
ACCESS_PREFIX = TOKEN_PREFIX + "at_"
REFRESH_PREFIX = TOKEN_PREFIX + "rt_"
ACCESS_TTL = timedelta(hours=1)
REFRESH_TTL = timedelta(days=30)
CODE_TTL = timedelta(minutes=5)
# From the client's redirect to the consent page until the person decides.
CONSENT_TTL = timedelta(minutes=15)
# How long dead codes and tokens stay before the hourly purge deletes them (a grace for clock skew).
KEEP_DEAD = timedelta(days=1)


class ConsentExpired(ApiError):
    status = 400
    message = "This authorization request has expired or is not valid; start connecting again from your app"


def is_oauth_token(secret: str) -> bool:
    return secret.startswith(TOKEN_PREFIX)


# ------------------------------------------------------------------ clients


async def register_client(
    db: AsyncSession, client_id: str, info: dict[str, Any], secret: str | None
) -> OAuthClient:
    """Store a dynamically registered client; only its secret's hash is kept."""
    client = OAuthClient(
        id=uuid.UUID(client_id),
        name=str(info.get("client_name") or "")[:200],
        info=info,
        secret_hash=token_hash(secret) if secret else None,
    )
    db.add(client)
    await db.flush()
    return client


async def get_client(db: AsyncSession, client_id: str) -> OAuthClient | None:
    try:
        return await repository.oauth_client(db, uuid.UUID(client_id))
    except ValueError:
        return None


# ------------------------------------------------------------------ consent


@dataclass(frozen=True)
class PendingAuthorization:
    """An authorization request the SDK validated, waiting for the person's consent. It
    travels sealed (encrypted and authenticated) in the consent page's URL, so nothing is
    stored for requests nobody finishes."""

    client_id: str
    redirect_uri: str
    redirect_uri_explicit: bool
    scopes: list[str]
    code_challenge: str
    state: str | None = None
    resource: str | None = None
    expires: float = field(default=0.0)

    def seal(self, box: SecretBox) -> str:
        expires = (clock.now() + CONSENT_TTL).timestamp()
        return box.seal(json.dumps({"oauth_consent": {**asdict(self), "expires": expires}}))

    @classmethod
    def open(cls, box: SecretBox, sealed: str) -> PendingAuthorization:
        try:
            pending = cls(**json.loads(box.open(sealed))["oauth_consent"])
        except (ValueError, KeyError, TypeError):
            raise ConsentExpired() from None
        if pending.expires < clock.now().timestamp():
            raise ConsentExpired()
        return pending


@dataclass(frozen=True)
class WorkspaceChoice:
    slug: str
    name: str
    role: str
    scopes: frozenset[str]  # what this person's role there may grant


async def workspace_choices(db: AsyncSession, user_id: uuid.UUID) -> list[WorkspaceChoice]:
    """The workspaces a person may connect an app to, with what their role there allows."""
    return [
        WorkspaceChoice(slug=w.slug, name=w.name, role=m.role, scopes=ROLE_SCOPES[m.role])
        for m, w in await workspaces.memberships(db, user_id)
    ]


async def grant(
    db: AsyncSession, pending: PendingAuthorization, user_id: uuid.UUID, slug: str, scopes: list[str]
) -> str:
    """The person's consent: a single-use authorization code for `scopes` in workspace `slug`.
    400 (on the field) if they chose nothing, something not asked for, or more than their role has."""
    choices = {c.slug: c for c in await workspace_choices(db, user_id)}
    choice = choices.get(slug)
    if choice is None:
        raise ValidationFailed.at(["workspace"], "Choose one of your workspaces")
    chosen = [s for s in ALL_SCOPES if s in set(scopes)]
    if not chosen:
        raise ValidationFailed.at(["scopes"], "Choose at least one scope")
    if any(s not in pending.scopes for s in chosen) or len(chosen) != len(set(scopes)):
        raise ValidationFailed.at(["scopes"], "Choose among the scopes the app asked for")
    beyond = [s for s in chosen if s not in choice.scopes]
    if beyond:
        raise ValidationFailed.at(
            ["scopes"],
            f"Your role in {choice.name} ({choice.role}) can't grant {', '.join(beyond)}",
        )
    client = await get_client(db, pending.client_id)
    workspace = await workspaces.get_workspace(db, slug)
    if client is None:
        raise ConsentExpired()
    code = random_token(32)
    db.add(
        OAuthAuthorizationCode(
            workspace_id=workspace.id,
            client_id=client.id,
            user_id=user_id,
            code_hash=token_hash(code),
            scopes=chosen,
            code_challenge=pending.code_challenge,
            redirect_uri=pending.redirect_uri,
            redirect_uri_explicit=pending.redirect_uri_explicit,
            resource=pending.resource,
            expires_at=clock.now() + CODE_TTL,
        )
    )
    await db.flush()
    return code


# ------------------------------------------------------------------ codes and tokens


@dataclass(frozen=True)
class Issued:
    access_token: str
    refresh_token: str
    row: OAuthToken


async def _issue(db: AsyncSession, source: OAuthAuthorizationCode | OAuthToken, **fields: Any) -> Issued:
    now = clock.now()
    access, refresh = ACCESS_PREFIX + random_token(32), REFRESH_PREFIX + random_token(32)
    row = OAuthToken(
        workspace_id=source.workspace_id,
        client_id=source.client_id,
        user_id=source.user_id,
        resource=source.resource,
        access_hash=token_hash(access),
        access_expires_at=now + ACCESS_TTL,
        refresh_hash=token_hash(refresh),
        refresh_expires_at=now + REFRESH_TTL,
        **fields,
    )
    db.add(row)
    await db.flush()
    return Issued(access, refresh, row)


async def load_code(db: AsyncSession, client_id: str, code: str) -> OAuthAuthorizationCode | None:
    """The live code `code` of this client, or None. A code presented again after its use
    means it leaked: the tokens it gave are revoked (RFC 6749 §4.1.2)."""
    row = await repository.oauth_code_by_hash(db, token_hash(code))
    if row is None or str(row.client_id) != client_id:
        return None
    if row.used_at is not None:
        await repository.revoke_oauth_family(db, row.id, clock.now())
        return None
    if row.expires_at <= clock.now():
        return None
    return row


async def exchange_code(db: AsyncSession, code: OAuthAuthorizationCode) -> Issued | None:
    """Tokens for a code (None if a concurrent request used it first)."""
    if not await repository.claim_oauth_code(db, code.id, clock.now()):
        await repository.revoke_oauth_family(db, code.id, clock.now())
        return None
    return await _issue(db, code, family_id=code.id, scopes=list(code.scopes), granted_at=clock.now())


async def load_refresh_token(db: AsyncSession, client_id: str, token: str) -> OAuthToken | None:
    """The live refresh token `token` of this client, or None. A rotated one presented again
    means a copy exists: its whole family is revoked (OAuth 2.1 §4.3.1)."""
    if not token.startswith(REFRESH_PREFIX):
        return None
    row = await repository.oauth_token_by_refresh_hash(db, token_hash(token))
    if row is None or str(row.client_id) != client_id:
        return None
    if row.revoked_at is not None:
        await repository.revoke_oauth_family(db, row.family_id, clock.now())
        return None
    if row.refresh_expires_at <= clock.now():
        return None
    return row


async def rotate(db: AsyncSession, row: OAuthToken, scopes: list[str]) -> Issued | None:
    """New access and refresh tokens for a refresh token, which stops working (None if a
    concurrent refresh of the same token won: then the family is revoked as a reuse)."""
    now = clock.now()
    if not await repository.retire_oauth_token(db, row.id, now):
        await repository.revoke_oauth_family(db, row.family_id, now)
        return None
    return await _issue(
        db,
        row,
        family_id=row.family_id,
        scopes=[s for s in row.scopes if s in scopes],
        granted_at=row.granted_at,
        last_used_at=now,
    )


async def load_access_token(db: AsyncSession, token: str) -> OAuthToken | None:
    """A live (unrevoked, unexpired) access token, or None."""
    if not token.startswith(ACCESS_PREFIX):
        return None
    row = await repository.oauth_token_by_access_hash(db, token_hash(token))
    if row is None or row.revoked_at is not None or row.access_expires_at <= clock.now():
        return None
    return row


async def revoke_family(db: AsyncSession, row: OAuthToken) -> None:
    """Revoke a token, its refresh token and every token of the same consent (RFC 7009 §2.1)."""
    await repository.revoke_oauth_family(db, row.family_id, clock.now())


async def authenticate_access_token(db: AsyncSession, secret: str) -> Principal:
    """The caller behind an OAuth access token on /api/mcp: its workspace, and its scopes as
    far as the person's role there still allows (a demoted or removed member's apps lose them)."""
    row = await repository.oauth_token_by_access_hash(db, token_hash(secret))
    if row is None or not secret.startswith(ACCESS_PREFIX):
        raise Unauthorized("Invalid OAuth access token")
    if row.revoked_at is not None:
        raise Unauthorized("This OAuth access token has been revoked")
    now = clock.now()
    if row.access_expires_at <= now:
        raise Unauthorized("This OAuth access token has expired; refresh it")
    member = next(
        ((m, w) for m, w in await workspaces.memberships(db, row.user_id) if w.id == row.workspace_id), None
    )
    if member is None:
        raise Unauthorized("Whoever connected this app is no longer a member of its workspace")
    membership, workspace = member
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        row.last_used_at = now
    return Principal(
        workspace_id=workspace.id,
        workspace_slug=workspace.slug,
        scopes=frozenset(row.scopes) & ROLE_SCOPES[membership.role],
        user_id=row.user_id,
    )


# ------------------------------------------------------------------ connected apps


@dataclass(frozen=True)
class ConnectedApp:
    client_id: uuid.UUID
    name: str
    people: list[str]
    scopes: list[str]
    connected_at: datetime
    last_used_at: datetime | None


async def connected_apps(db: AsyncSession, workspace_id: uuid.UUID) -> list[ConnectedApp]:
    """The clients holding live tokens for this workspace, oldest consent first."""
    found: dict[uuid.UUID, list[tuple[OAuthToken, str, str]]] = {}
    for token, name, email in await repository.OAuthTokenRepository(db, workspace_id).active_with_names(
        clock.now()
    ):
        found.setdefault(token.client_id, []).append((token, name, email))
    apps = []
    for client_id, rows in found.items():
        used = [t.last_used_at for t, _, _ in rows if t.last_used_at]
        held = {s for t, _, _ in rows for s in t.scopes}
        apps.append(
            ConnectedApp(
                client_id=client_id,
                name=rows[0][1] or "Unnamed app",
                people=sorted({email for _, _, email in rows}),
                scopes=[s for s in ALL_SCOPES if s in held],
                connected_at=min(t.granted_at for t, _, _ in rows),
                last_used_at=max(used) if used else None,
            )
        )
    return apps


async def revoke_client(db: AsyncSession, workspace_id: uuid.UUID, client_id: uuid.UUID) -> str:
    """Disconnect an app from a workspace: every token it holds there stops working, and a
    code not yet exchanged can no longer be. Returns the app's name."""
    tokens = repository.OAuthTokenRepository(db, workspace_id)
    rows = await tokens.of_client(client_id)
    client = await repository.oauth_client(db, client_id)
    if not rows or client is None:
        raise NotFound("Connected app")
    now = clock.now()
    for row in rows:
        if row.revoked_at is None:
            row.revoked_at = now
    await tokens.retire_unused_codes(client_id, now)
    return client.name or "Unnamed app"


async def purge_expired(db: AsyncSession) -> None:
    """Forget codes and tokens a day after they stopped being usable (the `auth.oauth_purge` job)."""
    await repository.purge_dead_oauth(db, clock.now() - KEEP_DEAD)
