"""Evaluation templates and their stage pipeline: create, edit, archive; add, edit and reorder
stages; the pipeline drawn left to right."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from viva.agent_profiles import service as profiles
from viva.dashboard.web import (
    FormErrors,
    Viewer,
    attempt,
    choices,
    flatten,
    form_items,
    needs,
    page_request,
    pager,
    parse,
    redirect,
    render,
    render_form,
    unflatten,
)
from viva.db import DB
from viva.errors import NotFound
from viva.kit.pagination import PageRequest
from viva.templates import service
from viva.templates.schemas import (
    AutomationRule,
    Difficulty,
    SessionMode,
    StageCreate,
    StageType,
    StageUpdate,
    Status,
    SuccessOutcome,
    TemplateCreate,
    TemplateUpdate,
    UseCase,
    Visibility,
)
from viva.workspaces import service as workspaces

router = APIRouter(prefix="/{slug}/templates")
Reader = needs("evaluation_templates.read")
Writer = needs("evaluation_templates.write")
StageWriter = needs("evaluation_stages.write")
LISTS = ("skills", "soft_skills")
NULLABLE_TEXT = ("description", "objective", "requirements", "industry", "ai_context", "level")
OPTIONS = {
    "use_case": choices(UseCase),
    "success_outcome": choices(SuccessOutcome),
    "difficulty": choices(Difficulty),
    "session_mode": choices(SessionMode),
    "visibility": choices(Visibility),
    "status": choices(Status),
    "stage_type": choices(StageType),
    "automation_rule": choices(AutomationRule),
}
TEMPLATE_BLANK: dict[str, Any] = {
    "use_case": "hiring",
    "default_duration_minutes": 30,
    "default_difficulty": "intermediate",
    "session_mode": "live_ai_interview",
    "visibility": "team",
    "status": "active",
}


def _template_form(
    request: Request,
    viewer: Viewer,
    v: dict[str, Any],
    errors: FormErrors | None = None,
    template: Any = None,
) -> HTMLResponse:
    return render_form(
        request,
        viewer,
        "templates/form.html",
        v,
        errors,
        {
            "title": f"Edit {template.template_name}" if template else "New template",
            "section": "templates",
            "options": OPTIONS,
            "template": template,
        },
    )


@router.get("")
async def list_templates(db: DB, request: Request, viewer: Viewer = Reader) -> Response:
    status = request.query_params.get("status") or None
    status = status if status in OPTIONS["status"] else None
    q = request.query_params.get("q", "").strip()[:200] or None
    page = await service.list_templates(db, viewer.workspace_id, page_request(request), status, None, q)
    return render(
        request,
        viewer,
        "templates/list.html",
        {
            "title": "Templates",
            "section": "templates",
            "page": page,
            "pager": pager(request, page),
            "q": q or "",
            "status": status or "",
            "options": OPTIONS,
        },
    )


@router.get("/new")
async def new_template(db: DB, request: Request, viewer: Viewer = Writer) -> Response:
    # The form starts from the workspace's default language, which is what an empty field means too.
    workspace = await workspaces.get_workspace_by_id(db, viewer.workspace_id)
    return _template_form(request, viewer, {**TEMPLATE_BLANK, "language": workspace.default_language})


@router.post("/new")
async def create_template(db: DB, request: Request, viewer: Viewer = Writer) -> Response:
    items = await form_items(request)

    async def create() -> Any:
        body = parse(TemplateCreate, unflatten(items, lists=LISTS))
        return await service.create_template(db, viewer.workspace_id, body)

    template, errors = await attempt(db, create)
    if errors:
        return _template_form(request, viewer, dict(items), errors)
    return redirect(viewer.url("templates", template.id), f"Template “{template.template_name}” created")


async def _profiles(db: DB, viewer: Viewer) -> list[tuple[str, str]]:
    page = await profiles.list_profiles(
        db, viewer.workspace_id, PageRequest(page=1, page_size=100, sort="name")
    )
    return [(str(p.id), p.name) for p in page.items]


@router.get("/{template_id}")
async def show_template(
    db: DB, request: Request, template_id: uuid.UUID, viewer: Viewer = Reader
) -> Response:
    template = await service.get_template(db, viewer.workspace_id, template_id)
    detail = await service.template_detail(db, template)
    names = dict(await _profiles(db, viewer))
    return render(
        request,
        viewer,
        "templates/show.html",
        {
            "title": detail.template_name,
            "section": "templates",
            "t": detail,
            "profile_names": names,
        },
    )


@router.get("/{template_id}/edit")
async def edit_template(
    db: DB, request: Request, template_id: uuid.UUID, viewer: Viewer = Writer
) -> Response:
    template = service.template_to_read(await service.get_template(db, viewer.workspace_id, template_id))
    v = flatten(template.model_dump(mode="json"), lists=LISTS)
    return _template_form(request, viewer, v, template=template)


@router.post("/{template_id}/edit")
async def update_template(
    db: DB, request: Request, template_id: uuid.UUID, viewer: Viewer = Writer
) -> Response:
    template = service.template_to_read(await service.get_template(db, viewer.workspace_id, template_id))
    items = await form_items(request)

    async def update() -> Any:
        payload = unflatten(items, lists=LISTS, nullable=NULLABLE_TEXT)
        parse(TemplateCreate, payload)  # a cleared required field says "Required", as on create
        return await service.update_template(
            db, viewer.workspace_id, template_id, parse(TemplateUpdate, payload)
        )

    _, errors = await attempt(db, update)
    if errors:
        return _template_form(request, viewer, dict(items), errors, template)
    return redirect(viewer.url("templates", template_id), "Changes saved")


@router.post("/{template_id}/status")
async def set_status(db: DB, request: Request, template_id: uuid.UUID, viewer: Viewer = Writer) -> Response:
    """Archive (or restore) a template: archived ones accept no new sessions."""
    items = dict(await form_items(request))

    async def change() -> Any:
        patch = parse(TemplateUpdate, {"status": items.get("status")})
        return await service.update_template(db, viewer.workspace_id, template_id, patch)

    await service.get_template(db, viewer.workspace_id, template_id)
    template, errors = await attempt(db, change)
    return redirect(
        viewer.url("templates", template_id),
        errors.text if errors else f"Template is now {template.status}",
    )


# ------------------------------------------------------------------ stages


async def _stage_form(
    db: DB,
    request: Request,
    viewer: Viewer,
    template: Any,
    v: dict[str, Any],
    errors: FormErrors | None = None,
    stage: Any = None,
) -> HTMLResponse:
    return render_form(
        request,
        viewer,
        "templates/stage_form.html",
        v,
        errors,
        {
            "title": f"Edit stage {stage.stage_name}" if stage else "Add a stage",
            "section": "templates",
            "t": template,
            "stage": stage,
            "options": OPTIONS,
            "profile_options": await _profiles(db, viewer),
        },
    )


@router.get("/{template_id}/stages/new")
async def new_stage(
    db: DB, request: Request, template_id: uuid.UUID, viewer: Viewer = StageWriter
) -> Response:
    template = service.template_to_read(await service.get_template(db, viewer.workspace_id, template_id))
    stages = await service.stages_of_template(db, viewer.workspace_id, template_id)
    v = {
        "stage_type": "ai_interview",
        "automation_rule": "none",
        "status": "active",
        "stage_order": max([s.stage_order for s in stages], default=-1) + 1,
    }
    return await _stage_form(db, request, viewer, template, v)


@router.post("/{template_id}/stages/new")
async def create_stage(
    db: DB, request: Request, template_id: uuid.UUID, viewer: Viewer = StageWriter
) -> Response:
    template = service.template_to_read(await service.get_template(db, viewer.workspace_id, template_id))
    items = await form_items(request)

    async def create() -> Any:
        payload = {**unflatten(items), "evaluation_template_id": str(template_id)}
        return await service.create_stage(db, viewer.workspace_id, parse(StageCreate, payload))

    stage, errors = await attempt(db, create)
    if errors:
        return await _stage_form(db, request, viewer, template, dict(items), errors)
    return redirect(viewer.url("templates", template_id), f"Stage “{stage.stage_name}” added")


async def _stage_of(db: DB, viewer: Viewer, template_id: uuid.UUID, stage_id: uuid.UUID) -> Any:
    stage = await service.get_stage(db, viewer.workspace_id, stage_id)
    if stage.evaluation_template_id != template_id:
        raise NotFound("Evaluation stage")
    return service.stage_to_read(stage)


@router.get("/{template_id}/stages/{stage_id}/edit")
async def edit_stage(
    db: DB, request: Request, template_id: uuid.UUID, stage_id: uuid.UUID, viewer: Viewer = StageWriter
) -> Response:
    template = service.template_to_read(await service.get_template(db, viewer.workspace_id, template_id))
    stage = await _stage_of(db, viewer, template_id, stage_id)
    return await _stage_form(
        db, request, viewer, template, flatten(stage.model_dump(mode="json")), stage=stage
    )


@router.post("/{template_id}/stages/{stage_id}/edit")
async def update_stage(
    db: DB, request: Request, template_id: uuid.UUID, stage_id: uuid.UUID, viewer: Viewer = StageWriter
) -> Response:
    template = service.template_to_read(await service.get_template(db, viewer.workspace_id, template_id))
    stage = await _stage_of(db, viewer, template_id, stage_id)
    items = await form_items(request)

    async def update() -> Any:
        payload = unflatten(items, nullable=("agent_profile_id", "pass_threshold"))
        parse(StageCreate, {**payload, "evaluation_template_id": str(template_id)})
        return await service.update_stage(db, viewer.workspace_id, stage_id, parse(StageUpdate, payload))

    _, errors = await attempt(db, update)
    if errors:
        return await _stage_form(db, request, viewer, template, dict(items), errors, stage)
    return redirect(viewer.url("templates", template_id), "Stage saved")


@router.post("/{template_id}/stages/{stage_id}/move")
async def move_stage(
    db: DB, request: Request, template_id: uuid.UUID, stage_id: uuid.UUID, viewer: Viewer = StageWriter
) -> Response:
    """Move a stage one place earlier or later; the pipeline's stage_order is rewritten 0, 1, 2…"""
    await _stage_of(db, viewer, template_id, stage_id)
    direction = dict(await form_items(request)).get("direction")
    order = [s.id for s in await service.stages_of_template(db, viewer.workspace_id, template_id)]
    at = order.index(stage_id)
    to = at - 1 if direction == "up" else at + 1
    if 0 <= to < len(order):
        order[at], order[to] = order[to], order[at]
        for position, sid in enumerate(order):
            await service.update_stage(db, viewer.workspace_id, sid, StageUpdate(stage_order=position))
    return redirect(viewer.url("templates", template_id), "Pipeline reordered")
