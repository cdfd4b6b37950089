"""FastAPI dependencies that authenticate a request and check its scope.

Every API route declares its scope with `Depends(require("x.read"))`; the route walker
tests find it on the route (`Authenticate.scope`) to try each route without it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader
from sqlalchemy.ext.asyncio import AsyncSession

from viva.auth import oauth, service
from viva.auth.service import Principal
from viva.db import DB
from viva.errors import TooManyRequests, Unauthorized

SESSION_COOKIE = "viva_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Declared so OpenAPI shows the x-api-key security scheme; we read the header ourselves.
api_key_scheme = APIKeyHeader(name="x-api-key", auto_error=False, description="iv_live_… API key")


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def authenticate(
    request: Request,
    db: AsyncSession,
    api_key: str | None,
    *,
    allow_cookie: bool = True,
    allow_oauth: bool = False,
) -> Principal:
    """Who is calling (API key, the dashboard cookie when allowed, or an OAuth access token
    when allowed: on /api/mcp only), counted against the caller's rate limit. Shared by the
    REST routes and the MCP endpoint."""
    account_slug = request.query_params.get("accountSlug") or None
    secret = api_key or _bearer(request)
    cookie = request.cookies.get(SESSION_COOKIE) if allow_cookie else None
    if secret and oauth.is_oauth_token(secret):
        if not allow_oauth:
            raise Unauthorized(
                "OAuth tokens work only on /api/mcp; send an API key in the x-api-key header here"
            )
        principal = await oauth.authenticate_access_token(db, secret)
    elif secret:
        principal = await service.authenticate_api_key(db, secret, account_slug)
    elif cookie:
        principal = await service.authenticate_cookie(
            db,
            cookie,
            account_slug,
            request.headers.get(CSRF_HEADER),
            unsafe_method=request.method not in SAFE_METHODS,
        )
    else:
        raise Unauthorized("Missing API key: send it in the x-api-key header")
    allowed, headers = await request.app.state.rate_limiter.hit(principal.rate_limit_key)
    # The response middleware copies these onto whatever response goes out.
    request.state.rate_limit_headers = headers
    if not allowed:
        raise TooManyRequests(
            "Rate limit exceeded; retry after the number of seconds in Retry-After",
            headers=headers,
        )
    return principal


class Authenticate:
    def __init__(self, scope: str | None) -> None:
        self.scope = scope

    async def __call__(
        self,
        request: Request,
        db: DB,
        api_key: Annotated[str | None, Depends(api_key_scheme)] = None,
    ) -> Principal:
        principal = await authenticate(request, db, api_key)
        if self.scope:
            service.require_scope(principal, self.scope)
        request.state.principal = principal
        return principal


def require(scope: str | None) -> Authenticate:
    """Dependency: an authenticated caller holding `scope` (None: any authenticated caller)."""
    return Authenticate(scope)
