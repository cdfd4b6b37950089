"""The consent page of OAuth for MCP (`viva.mcp.oauth` sends people here from /oauth/authorize):
sign in if needed, then choose the workspace and the scopes the app gets, or deny it. On
"Allow" the app's redirect URI receives a single-use code (RFC 6749 §4.1.2)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from mcp.server.auth.provider import construct_redirect_uri

from viva.auth import oauth
from viva.auth import service as auth_service
from viva.auth.dependencies import SESSION_COOKIE
from viva.dashboard.web import PREFIX, FormErrors, form_items, render
from viva.db import DB
from viva.errors import ApiError, Forbidden
from viva.kit.crypto import constant_time_equals
from viva.models import UserSession

router = APIRouter()
CONSENT = "/oauth/consent"
NO_STORE = {"Cache-Control": "no-store"}


def _form_action(redirect_uri: str) -> str:
    # CSP form-action also governs where the form's redirect may go, so the app's callback
    # origin is allowed on this page (a custom-scheme callback, e.g. cursor://, by scheme).
    parts = urlsplit(redirect_uri)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else f"{parts.scheme}:"
    return f"form-action 'self' {origin}"


async def _session(db: DB, request: Request) -> UserSession | None:
    token = request.cookies.get(SESSION_COOKIE)
    return await auth_service.session_for_cookie(db, token) if token else None


async def _page(
    db: DB,
    request: Request,
    session: UserSession,
    sealed: str,
    pending: oauth.PendingAuthorization,
    v: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
) -> Response:
    client = await oauth.get_client(db, pending.client_id)
    user = await auth_service.user_of(db, session)
    choices = await oauth.workspace_choices(db, session.user_id)
    response = render(
        request,
        None,
        "oauth_consent.html",
        {
            "title": "Connect an app",
            "app_name": (client.name if client else "") or "An unnamed app",
            "redirect_host": urlsplit(pending.redirect_uri).netloc or pending.redirect_uri,
            "user": user,
            "choices": choices,
            "scopes": pending.scopes,
            "sealed": sealed,
            "csrf": session.csrf_token,
            "v": v or {"workspace": choices[0].slug if choices else "", "scopes": pending.scopes},
            "e": errors.fields if errors else {},
            "errors": errors,
        },
        errors.status if errors else 200,
    )
    csp = response.headers["Content-Security-Policy"].replace(
        "form-action 'self'", _form_action(pending.redirect_uri)
    )
    response.headers["Content-Security-Policy"] = csp
    response.headers.update(NO_STORE)
    return response


@router.get(CONSENT)
async def consent_page(db: DB, request: Request) -> Response:
    sealed = request.query_params.get("request", "")
    pending = oauth.PendingAuthorization.open(request.app.state.secrets, sealed)
    session = await _session(db, request)
    if session is None:
        back = f"{PREFIX}{CONSENT}?" + urlencode({"request": sealed})
        return RedirectResponse(f"{PREFIX}/sign-in?" + urlencode({"next": back}), status_code=303)
    return await _page(db, request, session, sealed, pending)


@router.post(CONSENT)
async def consent(db: DB, request: Request) -> Response:
    items = await form_items(request)
    form = dict(items)
    session = await _session(db, request)
    if session is None:
        raise Forbidden(
            "Your sign-in has expired; sign in again and reconnect from your app", code="signed_out"
        )
    if not constant_time_equals(form.get("csrf_token", ""), session.csrf_token):
        raise Forbidden("Missing or wrong CSRF token", code="csrf_failed")
    sealed = form.get("request", "")
    pending = oauth.PendingAuthorization.open(request.app.state.secrets, sealed)
    if form.get("decision") != "allow":
        target = construct_redirect_uri(
            pending.redirect_uri,
            error="access_denied",
            error_description="The person declined",
            state=pending.state,
        )
        return RedirectResponse(target, status_code=303)
    scopes = [value for key, value in items if key == "scopes"]
    try:
        async with db.begin_nested():
            code = await oauth.grant(db, pending, session.user_id, form.get("workspace", ""), scopes)
    except ApiError as error:
        v = {"workspace": form.get("workspace", ""), "scopes": scopes}
        return await _page(db, request, session, sealed, pending, v, FormErrors.of(error))
    return RedirectResponse(construct_redirect_uri(pending.redirect_uri, code=code, state=pending.state), 303)
