"""Dashboard sign-in with a cookie. API keys need none of this."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from viva.auth import service
from viva.auth.dependencies import CSRF_HEADER, SESSION_COOKIE
from viva.auth.throttle import client_address
from viva.db import DB
from viva.errors import Forbidden, Unauthorized
from viva.kit.schemas import DataResponse, Email, Secret, StrictModel
from viva.workspaces import service as workspaces

router = APIRouter(prefix="/auth", tags=["Dashboard sign-in"])
CSRF_COOKIE = "viva_csrf"


class SignIn(StrictModel):
    email: Email
    password: Secret


class WorkspaceRef(BaseModel):
    slug: str
    name: str
    role: str


class Me(BaseModel):
    email: str
    name: str
    workspaces: list[WorkspaceRef]
    csrf_token: str


async def _me(db: AsyncSession, user_id: Any, email: str, name: str, csrf: str) -> Me:
    rows = await workspaces.memberships(db, user_id)
    return Me(
        email=email,
        name=name,
        csrf_token=csrf,
        workspaces=[WorkspaceRef(slug=w.slug, name=w.name, role=m.role) for m, w in rows],
    )


def set_session_cookies(response: Response, settings: Any, token: str, csrf_token: str) -> None:
    """The sign-in cookies, for this endpoint and the dashboard's sign-in page alike."""
    max_age = settings.session_ttl_hours * 3600
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    # Readable by the page's script, which echoes it in the x-csrf-token header.
    response.set_cookie(
        CSRF_COOKIE,
        csrf_token,
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/",
    )


@router.post(
    "/sign-in",
    response_model=DataResponse[Me],
    summary="Sign in with email and password; sets the session cookie",
)
async def sign_in(db: DB, request: Request, response: Response, body: SignIn) -> dict[str, Any]:
    settings = request.app.state.settings
    user, session, token = await request.app.state.sign_in_throttle.sign_in(
        db, client_address(request), body.email, body.password, timedelta(hours=settings.session_ttl_hours)
    )
    set_session_cookies(response, settings, token, session.csrf_token)
    return {"data": await _me(db, user.id, user.email, user.name, session.csrf_token)}


@router.get("/me", response_model=DataResponse[Me], summary="Who is signed in, and their workspaces")
async def me(db: DB, request: Request) -> dict[str, Any]:
    token = request.cookies.get(SESSION_COOKIE)
    session = await service.session_for_cookie(db, token) if token else None
    if session is None:
        raise Unauthorized("Not signed in")
    user = await service.user_of(db, session)
    return {"data": await _me(db, user.id, user.email, user.name, session.csrf_token)}


@router.post("/sign-out", status_code=204, response_class=Response, summary="Sign out")
async def sign_out(db: DB, request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        session = await service.session_for_cookie(db, token)
        if session is not None and request.headers.get(CSRF_HEADER) != session.csrf_token:
            raise Forbidden("Missing or wrong CSRF token", code="csrf_failed")
        await service.sign_out(db, token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response
