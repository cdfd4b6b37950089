"""Agent profiles: list (own and the public library), create, edit, fork, delete, with the
dimension editor whose weight sum updates as you type (htmx) and is checked by the API's rule."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from viva.agent_profiles import service
from viva.agent_profiles.schemas import (
    WEIGHT_TOLERANCE,
    AgentProfileCreate,
    AgentProfileFork,
    AgentProfileUpdate,
    Depth,
    Difficulty,
    Op,
    Scale,
    ScoringMethod,
    Style,
    Tone,
    UseCase,
)
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
from viva.templates import service as templates

router = APIRouter(prefix="/{slug}/agent-profiles")
Reader = needs("interviews.read")
Writer = needs("interviews.write")
OPTIONS = {
    "useCase": choices(UseCase),
    "tone": choices(Tone),
    "style": choices(Style),
    "difficulty": choices(Difficulty),
    "probingDepth": choices(Depth),
    "scale": choices(Scale),
    "scoringMethod": choices(ScoringMethod),
    "op": choices(Op),
}
BLANK: dict[str, Any] = {
    "useCase": "hiring",
    "interaction.tone": "professional",
    "interaction.style": "structured",
    "interaction.difficulty": "medium",
    "interaction.probingDepth": "medium",
    "scoring.scale": "0-10",
    "scoring.scoringMethod": "weighted_average",
    "output.includeTranscript": True,
    "output.includeScoreBreakdown": True,
    "output.includeRecommendation": True,
    "output.includeImprovementFeedback": True,
    "isPublic": False,
}


DIMENSIONS = "evaluationDimensions"
RULES = "scoring.recommendationLogic.rules"
GROUPS = {"dimension": DIMENSIONS, "rule": RULES}  # the editor's two kinds of numbered rows


def _count(values: dict[str, Any], prefix: str) -> int:
    """How many rows of `prefix.N.…` the values hold."""
    found = [k[len(prefix) + 1 :].split(".")[0] for k in values if k.startswith(prefix + ".")]
    return max([int(i) + 1 for i in found if i.isdigit()], default=0)


def _weight_sum(values: dict[str, Any]) -> tuple[float, bool]:
    total = 0.0
    for key, value in values.items():
        if key.startswith(DIMENSIONS + ".") and key.endswith(".weight"):
            try:
                total += float(value)
            except (TypeError, ValueError):
                continue
    return round(total, 2), abs(total - 100) <= WEIGHT_TOLERANCE


def _form(
    request: Request,
    viewer: Viewer,
    values: dict[str, Any],
    errors: FormErrors | None = None,
    profile: Any = None,
    add: str | None = None,
) -> HTMLResponse:
    total, ok = _weight_sum(values)
    names = [v for k, v in values.items() if k.startswith(DIMENSIONS + ".") and k.endswith(".name") and v]
    return render_form(
        request,
        viewer,
        "profiles/form.html",
        values,
        errors,
        {
            "title": f"Edit {profile.name}" if profile else "New agent profile",
            "section": "profiles",
            "rows": max(_count(values, DIMENSIONS) + (add == "dimension"), 1),
            "rules": _count(values, RULES) + (add == "rule"),
            "dimension_names": names,
            "total": total,
            "ok": ok,
            "options": OPTIONS,
            "profile": profile,
        },
    )


def _edited_rows(items: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], str | None, bool]:
    """The editor without script: "Add …" and "Remove" buttons post the form back to be shown
    again with a row more or less. Returns the items, the kind of row to add, and whether
    the form is only being edited (not saved)."""
    actions = dict(items)
    for kind, prefix in GROUPS.items():
        remove = actions.get(f"_remove_{kind}")
        if remove is not None and remove.isdigit():
            return [(k, v) for k, v in items if not k.startswith(f"{prefix}.{remove}.")], None, True
        if actions.get("_action") == f"add_{kind}":
            return items, kind, True
    return items, None, False


def _values(items: list[tuple[str, str]]) -> dict[str, Any]:
    """What the form shows again: the posted values, each row group renumbered from 0."""
    values = {k: v for k, v in items if k != "csrf_token" and not k.startswith("_")}
    payload = unflatten(values.items())
    for prefix in GROUPS.values():
        node: Any = payload
        for part in prefix.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        values = {k: v for k, v in values.items() if not k.startswith(prefix + ".")}
        values.update(flatten(node if isinstance(node, list) else [], prefix=prefix))
    return values


CLEARABLE = (
    "context.organizationContext",
    "context.domainContext",
    "context.scenarioContext",
    "additionalInstructions",
)


def _payload(items: list[tuple[str, str]]) -> dict[str, Any]:
    """The form as the API's body. No rules and no default: no recommendationLogic (null on edit).
    A blank text field is null, clearing it (PATCH merges `context` key by key)."""
    payload = unflatten(items, nullable=CLEARABLE)
    scoring = payload.setdefault("scoring", {})
    if not scoring.get("recommendationLogic"):
        scoring["recommendationLogic"] = None
    return payload


@router.get("")
async def list_profiles(db: DB, request: Request, viewer: Viewer = Reader) -> Response:
    library = request.query_params.get("library") == "1"
    q = request.query_params.get("q", "").strip()[:200] or None
    page = await service.list_profiles(
        db, viewer.workspace_id, page_request(request, "-created_at"), public=library, q=q
    )
    return render(
        request,
        viewer,
        "profiles/list.html",
        {
            "title": "Public library" if library else "Agent profiles",
            "section": "profiles",
            "library": library,
            "q": q or "",
            "page": page,
            "pager": pager(request, page),
        },
    )


@router.get("/new")
async def new_profile(request: Request, viewer: Viewer = Writer) -> Response:
    return _form(request, viewer, dict(BLANK))


@router.post("/new")
async def create_profile(db: DB, request: Request, viewer: Viewer = Writer) -> Response:
    items, add, editing = _edited_rows(await form_items(request))
    values = _values(items)
    if editing:
        return _form(request, viewer, values, add=add)

    async def create() -> Any:
        return await service.create(db, viewer.workspace_id, parse(AgentProfileCreate, _payload(items)))

    profile, errors = await attempt(db, create)
    if errors:
        return _form(request, viewer, values, errors)
    return redirect(viewer.url("agent-profiles", profile.id), f"Agent profile “{profile.name}” created")


@router.get("/weight-sum")
async def weight_sum(request: Request, viewer: Viewer = Reader) -> Response:
    total, ok = _weight_sum(dict(request.query_params))
    return render(request, viewer, "profiles/_weight_sum.html", {"total": total, "ok": ok, "oob": True})


@router.get("/dimension-row")
async def dimension_row(request: Request, viewer: Viewer = Writer) -> Response:
    index = _count(dict(request.query_params), DIMENSIONS)
    return render(request, viewer, "profiles/_dimension_row.html", {"i": index, "v": {}, "e": {}})


@router.get("/rule-row")
async def rule_row(request: Request, viewer: Viewer = Writer) -> Response:
    index = _count(dict(request.query_params), RULES)
    context = {"i": index, "v": {}, "e": {}, "options": OPTIONS}
    return render(request, viewer, "profiles/_rule_row.html", context)


@router.post("/fork")
async def fork_profile(db: DB, request: Request, viewer: Viewer = Writer) -> Response:
    payload = unflatten(await form_items(request))

    async def fork() -> Any:
        return await service.fork(db, viewer.workspace_id, parse(AgentProfileFork, payload).sourceId)

    profile, errors = await attempt(db, fork)
    if errors:
        return redirect(viewer.url("agent-profiles", library=1), errors.text)
    return redirect(
        viewer.url("agent-profiles", profile.id, "edit"), f"Forked into your workspace as “{profile.name}”"
    )


@router.get("/{profile_id}")
async def show_profile(db: DB, request: Request, profile_id: uuid.UUID, viewer: Viewer = Reader) -> Response:
    profile = service.to_read(await service.get(db, viewer.workspace_id, profile_id))
    return render(
        request,
        viewer,
        "profiles/show.html",
        {"title": profile.name, "section": "profiles", "p": profile},
    )


@router.get("/{profile_id}/edit")
async def edit_profile(db: DB, request: Request, profile_id: uuid.UUID, viewer: Viewer = Writer) -> Response:
    profile = service.to_read(await service.get(db, viewer.workspace_id, profile_id))
    return _form(request, viewer, flatten(profile.model_dump(mode="json")), profile=profile)


@router.post("/{profile_id}/edit")
async def update_profile(
    db: DB, request: Request, profile_id: uuid.UUID, viewer: Viewer = Writer
) -> Response:
    profile = service.to_read(await service.get(db, viewer.workspace_id, profile_id))
    items, add, editing = _edited_rows(await form_items(request))
    values = _values(items)
    if editing:
        return _form(request, viewer, values, profile=profile, add=add)

    async def update() -> Any:
        payload = _payload(items)
        parse(AgentProfileCreate, payload)  # a cleared required field says "Required", as on create
        return await service.update(db, viewer.workspace_id, profile_id, parse(AgentProfileUpdate, payload))

    updated, errors = await attempt(db, update)
    if errors:
        return _form(request, viewer, values, errors, profile=profile)
    return redirect(viewer.url("agent-profiles", updated.id), "Changes saved")


@router.post("/{profile_id}/delete")
async def delete_profile(
    db: DB, request: Request, profile_id: uuid.UUID, viewer: Viewer = Writer
) -> Response:
    async def delete() -> None:
        await service.delete(db, viewer.workspace_id, profile_id, templates.active_stages_using_profile)

    await service.get(db, viewer.workspace_id, profile_id)  # 404 page when it isn't ours
    _, errors = await attempt(db, delete)
    if errors:
        return redirect(viewer.url("agent-profiles", profile_id), errors.text)
    return redirect(viewer.url("agent-profiles"), "Agent profile deleted")
