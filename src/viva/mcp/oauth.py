"""The OAuth authorization server for /api/mcp (MCP authorization spec, 2025-06-18), so remote
clients that only speak OAuth (Claude's and ChatGPT's connectors) can connect.

The protocol is the official MCP SDK's (`mcp.server.auth`): its handlers parse and validate
authorization, token, registration and revocation requests, check PKCE (S256 only) and
redirect URIs, and answer in RFC 6749 / 7591 / 7009 shapes. This module is the SDK's
storage provider over `viva.auth.oauth`, plus the metadata documents:

- `/.well-known/oauth-protected-resource[/api/mcp]` (RFC 9728): /api/mcp and its server;
- `/.well-known/oauth-authorization-server` (RFC 8414), the issuer being VIVA_PUBLIC_URL;
- `/oauth/register`, `/oauth/authorize`, `/oauth/token`, `/oauth/revoke`.

`/oauth/authorize` sends the person to the dashboard's consent page (`viva.dashboard.oauth`),
which signs them in if needed and issues the code. Each request runs in one transaction,
committed before the response leaves, so a token is usable the moment the client has it."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any
from urllib.parse import unquote, urlencode

from mcp.server.auth.handlers.authorize import AuthorizationHandler
from mcp.server.auth.handlers.metadata import MetadataHandler, ProtectedResourceMetadataHandler
from mcp.server.auth.handlers.register import RegistrationHandler
from mcp.server.auth.handlers.revoke import RevocationHandler
from mcp.server.auth.handlers.token import TokenHandler
from mcp.server.auth.middleware.client_auth import AuthenticationError, ClientAuthenticator
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    OAuthAuthorizationServerProvider,
    RefreshToken,
    RegistrationError,
    TokenError,
)
from mcp.server.auth.routes import build_metadata, cors_middleware
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from mcp.shared.auth import OAuthClientInformationFull, OAuthMetadata, OAuthToken, ProtectedResourceMetadata
from pydantic import AnyHttpUrl, AnyUrl
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message

from viva.auth import oauth
from viva.auth.scopes import ALL_SCOPES
from viva.config import Settings
from viva.kit.crypto import constant_time_equals, token_hash
from viva.kit.secretbox import SecretBox

MCP_PATH = "/api/mcp"
CONSENT_PATH = "/dashboard/oauth/consent"
PROTECTED_RESOURCE_PATH = "/.well-known/oauth-protected-resource"
# Public clients (no secret, PKCE) are what MCP clients register as; a secret goes in the form.
# The SDK's handlers read client_id from the form, so HTTP Basic auth is not offered.
AUTH_METHODS = ["none", "client_secret_post"]

_db: ContextVar[AsyncSession] = ContextVar("oauth_db")


def issuer(settings: Settings) -> str:
    return settings.public_url.rstrip("/")


def resource_url(settings: Settings) -> str:
    """The RFC 8707 resource indicator of /api/mcp: the URL clients call."""
    return issuer(settings) + MCP_PATH


def resource_metadata_url(settings: Settings) -> str:
    """Where /api/mcp's protected-resource metadata is, by RFC 9728 §3.1 (path appended)."""
    return issuer(settings) + PROTECTED_RESOURCE_PATH + MCP_PATH


def www_authenticate(settings: Settings, credential_sent: bool) -> str:
    """The 401's challenge, pointing OAuth clients at the metadata (MCP authorization §2.3.1)."""
    error = 'error="invalid_token", ' if credential_sent else ""
    return f'Bearer {error}resource_metadata="{resource_metadata_url(settings)}"'


def authorization_metadata(settings: Settings) -> OAuthMetadata:
    base = issuer(settings)
    metadata = build_metadata(
        AnyHttpUrl(base),
        None,
        ClientRegistrationOptions(enabled=True),
        RevocationOptions(enabled=True),
    )
    return metadata.model_copy(
        update={
            "authorization_endpoint": AnyHttpUrl(base + "/oauth/authorize"),
            "token_endpoint": AnyHttpUrl(base + "/oauth/token"),
            "registration_endpoint": AnyHttpUrl(base + "/oauth/register"),
            "revocation_endpoint": AnyHttpUrl(base + "/oauth/revoke"),
            "scopes_supported": list(ALL_SCOPES),
            "token_endpoint_auth_methods_supported": AUTH_METHODS,
            "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        }
    )


def resource_metadata(settings: Settings) -> ProtectedResourceMetadata:
    return ProtectedResourceMetadata(
        resource=AnyHttpUrl(resource_url(settings)),
        authorization_servers=[AnyHttpUrl(issuer(settings))],
        scopes_supported=list(ALL_SCOPES),
        resource_name="Viva MCP",
    )


# ------------------------------------------------------------------ the SDK's storage


def _client_info(client: Any) -> OAuthClientInformationFull:
    # The stored hash stands in for the secret: only `HashedSecretAuthenticator` reads it.
    return OAuthClientInformationFull.model_validate(
        {**client.info, "client_id": str(client.id), "client_secret": client.secret_hash}
    )


class Provider(OAuthAuthorizationServerProvider[AuthorizationCode, RefreshToken, AccessToken]):
    def __init__(self, settings: Settings, box: SecretBox) -> None:
        self.settings, self.box = settings, box

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        client = await oauth.get_client(_db.get(), client_id)
        return _client_info(client) if client else None

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        if client_info.token_endpoint_auth_method not in AUTH_METHODS:
            raise RegistrationError(
                "invalid_client_metadata",
                f"token_endpoint_auth_method must be one of: {', '.join(AUTH_METHODS)}",
            )
        info = client_info.model_dump(mode="json", exclude={"client_secret", "client_id"}, exclude_none=True)
        await oauth.register_client(_db.get(), client_info.client_id, info, client_info.client_secret)

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        if params.resource is not None and params.resource.rstrip("/") != resource_url(self.settings):
            raise AuthorizeError(
                "invalid_target", f"This server's only resource is {resource_url(self.settings)}"
            )
        if not re.fullmatch(r"[A-Za-z0-9_-]{43}", params.code_challenge):
            # What S256 always yields (RFC 7636 §4.2); anything else can't match a verifier.
            raise AuthorizeError(
                "invalid_request", "code_challenge must be the 43-character S256 of the verifier"
            )
        requested = params.scopes if params.scopes is not None else (client.scope or "").split()
        pending = oauth.PendingAuthorization(
            client_id=client.client_id,
            redirect_uri=str(params.redirect_uri),
            redirect_uri_explicit=params.redirect_uri_provided_explicitly,
            scopes=[s for s in ALL_SCOPES if s in requested],
            code_challenge=params.code_challenge,
            state=params.state,
            resource=params.resource,
        )
        # Relative: the person's browser stays on the host it reached us by, where its cookie is.
        return CONSENT_PATH + "?" + urlencode({"request": pending.seal(self.box)})

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        row = await oauth.load_code(_db.get(), client.client_id, authorization_code)
        if row is None:
            return None
        return AuthorizationCode(
            code=authorization_code,
            scopes=list(row.scopes),
            expires_at=row.expires_at.timestamp(),
            client_id=str(row.client_id),
            code_challenge=row.code_challenge,
            redirect_uri=AnyUrl(row.redirect_uri),
            redirect_uri_provided_explicitly=row.redirect_uri_explicit,
            resource=row.resource,
            subject=str(row.user_id),
        )

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        db = _db.get()
        row = await oauth.load_code(db, client.client_id, authorization_code.code)
        issued = await oauth.exchange_code(db, row) if row else None
        if issued is None:
            raise TokenError("invalid_grant", "authorization code was already used")
        return _token(issued)

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> RefreshToken | None:
        row = await oauth.load_refresh_token(_db.get(), client.client_id, refresh_token)
        if row is None:
            return None
        return RefreshToken(
            token=refresh_token,
            client_id=str(row.client_id),
            scopes=list(row.scopes),
            expires_at=int(row.refresh_expires_at.timestamp()),
            resource=row.resource,
            subject=str(row.user_id),
        )

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: RefreshToken, scopes: list[str]
    ) -> OAuthToken:
        db = _db.get()
        row = await oauth.load_refresh_token(db, client.client_id, refresh_token.token)
        issued = await oauth.rotate(db, row, scopes) if row else None
        if issued is None:
            raise TokenError("invalid_grant", "refresh token was already used")
        return _token(issued)

    async def load_access_token(self, token: str) -> AccessToken | None:
        row = await oauth.load_access_token(_db.get(), token)
        if row is None:
            return None
        return AccessToken(
            token=token,
            client_id=str(row.client_id),
            scopes=list(row.scopes),
            expires_at=int(row.access_expires_at.timestamp()),
            resource=row.resource,
            subject=str(row.user_id),
        )

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        db = _db.get()
        row = await oauth.load_access_token(db, token.token) if isinstance(token, AccessToken) else None
        if row is None and isinstance(token, RefreshToken):
            row = await oauth.load_refresh_token(db, token.client_id, token.token)
        if row is not None:
            await oauth.revoke_family(db, row)


def _token(issued: oauth.Issued) -> OAuthToken:
    return OAuthToken(
        access_token=issued.access_token,
        expires_in=int(oauth.ACCESS_TTL.total_seconds()),
        scope=" ".join(issued.row.scopes),
        refresh_token=issued.refresh_token,
    )


class HashedSecretAuthenticator(ClientAuthenticator):
    """The SDK's client authentication compares the stored secret with the one presented;
    Viva stores only the secret's SHA-256 (like API keys), so this compares hashes. Public
    clients (`none`) authenticate by their PKCE verifier alone, as in the SDK."""

    async def authenticate_request(self, request: Request) -> OAuthClientInformationFull:
        form = await request.form()
        client_id = form.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            raise AuthenticationError("Missing client_id")
        client = await self.provider.get_client(client_id)
        if client is None:
            raise AuthenticationError("Invalid client_id")
        if client.token_endpoint_auth_method == "none":
            return client
        presented = form.get("client_secret")
        if not isinstance(presented, str):
            presented = _basic_secret(request, client_id)
        if not presented or not client.client_secret:
            raise AuthenticationError("Client secret is required")
        if not constant_time_equals(token_hash(presented), client.client_secret):
            raise AuthenticationError("Invalid client_secret")
        return client


def _basic_secret(request: Request, client_id: str) -> str | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, secret = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return unquote(secret) if unquote(user) == client_id else None


# ------------------------------------------------------------------ routes

Handle = Callable[[Request], Awaitable[Response]]


def _in_transaction(handle: Handle) -> Handle:
    async def endpoint(request: Request) -> Response:
        async with request.app.state.sessionmaker() as db:
            bound = _db.set(db)
            try:
                response = await handle(request)
                # Also on 4xx: a reused code or refresh token revokes what it gave, and says no.
                await db.commit()
            except BaseException:
                await db.rollback()
                raise
            finally:
                _db.reset(bound)
        return response

    return endpoint


def _limited(handle: Handle) -> Handle:
    """Registration is open to anyone (RFC 7591), so it is rate-limited per address."""

    async def endpoint(request: Request) -> Response:
        host = request.client.host if request.client else "?"
        allowed, headers = await request.app.state.oauth_register_limiter.hit(f"register:{host}")
        if not allowed:
            return JSONResponse(
                {"error": "Too many client registrations from this address; retry later"},
                status_code=429,
                headers=headers,
            )
        return await handle(request)

    return endpoint


def _secret_optional(handle: Handle) -> Handle:
    """The SDK's revocation request model requires a `client_secret` member, which public
    clients (RFC 7009 §2.1: they send only client_id) have not: supply an empty one."""

    async def endpoint(request: Request) -> Response:
        form = await request.form()
        if "client_secret" in form:
            return await handle(request)
        items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        body = urlencode([*items, ("client_secret", "")]).encode()
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if sent:
                return await request.receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await handle(Request(request.scope, receive))

    return endpoint


def routes(settings: Settings, box: SecretBox) -> list[Route]:
    """The OAuth endpoints and metadata documents, for the app's router."""
    provider = Provider(settings, box)
    authenticator = HashedSecretAuthenticator(provider)
    registration = RegistrationHandler(
        provider,
        ClientRegistrationOptions(
            enabled=True, valid_scopes=list(ALL_SCOPES), default_scopes=list(ALL_SCOPES)
        ),
    )

    async def server_metadata(request: Request) -> Response:
        # Built per request from the settings: the issuer is VIVA_PUBLIC_URL, never the Host
        # header, which would let anyone make a cache store metadata pointing elsewhere.
        return await MetadataHandler(authorization_metadata(settings)).handle(request)

    async def protected_resource(request: Request) -> Response:
        return await ProtectedResourceMetadataHandler(resource_metadata(settings)).handle(request)

    def cors(handle: Handle, *methods: str) -> Any:
        return cors_middleware(handle, [*methods, "OPTIONS"])

    return [
        Route(
            "/.well-known/oauth-authorization-server",
            cors(server_metadata, "GET"),
            methods=["GET", "OPTIONS"],
        ),
        Route(PROTECTED_RESOURCE_PATH, cors(protected_resource, "GET"), methods=["GET", "OPTIONS"]),
        Route(
            PROTECTED_RESOURCE_PATH + MCP_PATH, cors(protected_resource, "GET"), methods=["GET", "OPTIONS"]
        ),
        Route(
            "/oauth/register",
            cors(_limited(_in_transaction(registration.handle)), "POST"),
            methods=["POST", "OPTIONS"],
        ),
        # No CORS: a browser navigates here, scripts don't call it.
        Route(
            "/oauth/authorize",
            _in_transaction(AuthorizationHandler(provider).handle),
            methods=["GET", "POST"],
        ),
        Route(
            "/oauth/token",
            cors(_in_transaction(TokenHandler(provider, authenticator).handle), "POST"),
            methods=["POST", "OPTIONS"],
        ),
        Route(
            "/oauth/revoke",
            cors(
                _in_transaction(_secret_optional(RevocationHandler(provider, authenticator).handle)), "POST"
            ),
            methods=["POST", "OPTIONS"],
        ),
    ]
