"""Workspace settings: members and their roles, the plan and its credits, the default language."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from viva.auth.scopes import ROLES
from viva.dashboard.web import (
    FormErrors,
    Viewer,
    attempt,
    form_items,
    needs,
    page_of,
    pager,
    redirect,
    render,
)
from viva.db import DB
from viva.workspaces import service as workspaces

router = APIRouter(prefix="/{slug}/settings")
Anyone = needs()
Admin = needs(roles=("owner", "admin"))


async def _page(
    db: DB,
    request: Request,
    viewer: Viewer,
    errors: FormErrors | None = None,
    added: Any = None,
    v: dict[str, Any] | None = None,
    language_errors: FormErrors | None = None,
) -> Response:
    shown = errors or language_errors
    workspace = await workspaces.get_workspace_by_id(db, viewer.workspace_id)
    people = page_of(request, await workspaces.members(db, viewer.workspace_id), page_size=25)
    response = render(
        request,
        viewer,
        "settings.html",
        {
            "title": "Workspace settings",
            "section": "settings",
            "plan": workspace.plan,
            "credits": workspace.credits,
            "members": [(m.role, u.id, u.email, u.name) for m, u in people.items],
            "pager": pager(request, people),
            "language": workspace.default_language,
            "language_errors": language_errors,
            "roles": ROLES,
            "errors": errors,
            "e": errors.fields if errors else {},
            "v": v or {"role": "recruiter"},
            "added": added,
        },
        status_code=shown.status if shown else 200,
    )
    response.headers["Cache-Control"] = "no-store"  # may show a generated password once
    return response


@router.get("")
async def settings_page(db: DB, request: Request, viewer: Viewer = Anyone) -> Response:
    return await _page(db, request, viewer)


@router.post("/members")
async def add_member(db: DB, request: Request, viewer: Viewer = Admin) -> Response:
    form = dict(await form_items(request))
    email, role, name = form.get("email", ""), form.get("role", ""), form.get("name", "").strip()[:200]
    if role == "owner" and viewer.role != "owner":
        return await _page(
            db, request, viewer, FormErrors({"role": "Only an owner can add an owner"}, None, 403), v=form
        )

    async def add() -> Any:
        workspace = await workspaces.get_workspace_by_id(db, viewer.workspace_id)
        return await workspaces.create_user(db, workspace, email, role=role, name=name)

    added, errors = await attempt(db, add)
    if errors:
        return await _page(db, request, viewer, errors, v=form)
    return await _page(db, request, viewer, added=added)


@router.post("/members/{user_id}/role")
async def change_role(db: DB, request: Request, user_id: uuid.UUID, viewer: Viewer = Admin) -> Response:
    role = dict(await form_items(request)).get("role", "")
    if "owner" in (role,) and viewer.role != "owner":
        return redirect(viewer.url("settings"), "Only an owner can make someone an owner")

    async def change() -> Any:
        return await workspaces.set_role(db, viewer.workspace_id, user_id, role)

    _, errors = await attempt(db, change)
    return redirect(viewer.url("settings"), errors.text if errors else f"Role changed to {role}")


@router.post("/language")
async def set_language(db: DB, request: Request, viewer: Viewer = Admin) -> Response:
    language = dict(await form_items(request)).get("default_language", "")

    async def change() -> Any:
        return await workspaces.set_default_language(db, viewer.workspace_id, language)

    workspace, errors = await attempt(db, change)
    if errors:
        return await _page(db, request, viewer, language_errors=errors)
    return redirect(viewer.url("settings"), f"New templates now interview in {workspace.default_language}")
