"""Signing in and out, choosing a workspace, and the overview page."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from viva.auth import service as auth_service
from viva.auth.dependencies import SESSION_COOKIE
from viva.auth.endpoints import CSRF_COOKIE, set_session_cookies
from viva.auth.throttle import client_address
from viva.dashboard.web import PREFIX, Viewer, ViewerDep, render
from viva.db import DB
from viva.errors import Forbidden, TooManyRequests, Unauthorized
from viva.kit.crypto import constant_time_equals
from viva.kit.pagination import PageRequest
from viva.sessions import service as sessions
from viva.workspaces import service as workspaces

router = APIRouter()


def _safe_next(target: str | None) -> str | None:
    # Only our own pages: never an open redirect to another site.
    if target and target.startswith(PREFIX + "/") and not target.startswith("//"):
        return target
    return None


async def _signed_in_home(db: DB, request: Request) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    session = await auth_service.session_for_cookie(db, token) if token else None
    if session is None:
        return None
    rows = await workspaces.memberships(db, session.user_id)
    return f"{PREFIX}/{rows[0][1].slug}" if rows else None


@router.get("/")
async def index(db: DB, request: Request) -> Response:
    home = await _signed_in_home(db, request)
    return RedirectResponse(home or f"{PREFIX}/sign-in", status_code=303)


@router.get("/sign-in")
async def sign_in_page(db: DB, request: Request, next: str | None = None) -> Response:
    home = await _signed_in_home(db, request)
    if home:
        return RedirectResponse(_safe_next(next) or home, status_code=303)
    return render(request, None, "sign_in.html", {"title": "Sign in", "next": next or "", "email": ""})


@router.post("/sign-in")
async def sign_in(
    db: DB,
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    settings = request.app.state.settings
    context = {"title": "Sign in", "next": next, "email": email}
    try:
        user, session, token = await request.app.state.sign_in_throttle.sign_in(
            db, client_address(request), email, password, timedelta(hours=settings.session_ttl_hours)
        )
    except TooManyRequests as error:
        page = render(request, None, "sign_in.html", {**context, "error": error.message}, 429)
        page.headers.update(error.headers)
        return page
    except Unauthorized as error:
        return render(request, None, "sign_in.html", {**context, "error": error.message}, 401)
    rows = await workspaces.memberships(db, user.id)
    if not rows:
        await db.rollback()
        return render(
            request,
            None,
            "sign_in.html",
            {**context, "error": "Your account is not in any workspace yet"},
            403,
        )
    response = RedirectResponse(_safe_next(next) or f"{PREFIX}/{rows[0][1].slug}", status_code=303)
    set_session_cookies(response, settings, token, session.csrf_token)
    return response


@router.post("/sign-out")
async def sign_out(
    db: DB, request: Request, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        session = await auth_service.session_for_cookie(db, token)
        if session is not None and not constant_time_equals(csrf_token, session.csrf_token):
            raise Forbidden("Missing or wrong CSRF token", code="csrf_failed")
        await auth_service.sign_out(db, token)
    response = RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/switch")
async def switch(to: str = "") -> Response:
    # The workspace switcher's form; the workspace page itself checks membership.
    slug = to if workspaces.SLUG_RE.match(to) else ""
    return RedirectResponse(f"{PREFIX}/{slug}" if slug else PREFIX, status_code=303)


@router.get("/{slug}")
async def home(db: DB, request: Request, viewer: ViewerDep) -> Response:
    return render(request, viewer, "home.html", await _overview(db, viewer))


async def _overview(db: DB, viewer: Viewer) -> dict[str, object]:
    one = PageRequest(page=1, page_size=5, sort="-created_at")
    pending = await sessions.list_sessions(db, viewer.workspace_id, one, review_status="pending")
    scheduled = await sessions.list_sessions(db, viewer.workspace_id, one, status="scheduled")
    recent = await sessions.list_sessions(db, viewer.workspace_id, one)
    return {
        "title": "Overview",
        "section": "home",
        "pending": pending,
        "scheduled_total": scheduled.total,
        "recent": recent,
    }
