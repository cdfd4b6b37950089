"""Agent profiles: list (own and the public library), create, edit, fork, delete, with the
dimension editor whose weight sum updates as you type (htmx) and is checked by the API's rule."""

from __future__ import annotations

import json
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
    unflatten,
)
from viva.db import DB
from viva.errors import ValidationFailed

router = APIRouter(prefix="/{slug}/agent-profiles")
Reader = needs("interviews.read")
Writer = needs("interviews.write")
LOGIC = "scoring.recommendationLogic"
OPTIONS = {
    "useCase": choices(UseCase),
    "tone": choices(Tone),
    "style": choices(Style),
    "difficulty": choices(Difficulty),
    "probingDepth": choices(Depth),
    "scale": choices(Scale),
    "scoringMethod": choices(ScoringMethod),
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


def _rows(values: dict[str, Any]) -> int:
    found = [k.split(".")[1] for k in values if k.startswith("evaluationDimensions.")]
    return max([int(i) + 1 for i in found if i.isdigit()], default=0)


def _weight_sum(values: dict[str, Any]) -> tuple[float, bool]:
    total = 0.0
    for key, value in values.items():
        if key.startswith("evaluationDimensions.") and key.endswith(".weight"):
            try:
                total += float(value)
            except (TypeError, ValueError):
                continue
    return round(total, 2), abs(total - 100) <= WEIGHT_TOLERANCE


def _payload(items: list[tuple[str, str]]) -> dict[str, Any]:
    payload = unflatten(items)
    logic = (payload.get("scoring") or {}).get("recommendationLogic")
    if isinstance(logic, str):
        try:
            payload["scoring"]["recommendationLogic"] = json.loads(logic)
        except json.JSONDecodeError as exc:
            raise ValidationFailed.at(
                ["scoring", "recommendationLogic"], f"Not valid JSON: {exc.msg}"
            ) from None
    return payload


def _form_values(profile_read: dict[str, Any]) -> dict[str, Any]:
    logic = profile_read["scoring"].pop("recommendationLogic", None)
    values = flatten(profile_read)
    values[LOGIC] = json.dumps(logic, indent=2) if logic else ""
    return values


def _collapse(errors: FormErrors) -> FormErrors:
    """Errors inside the JSON of the recommendation rules belong to that one text box."""
    for key in [k for k in errors.fields if k.startswith(LOGIC + ".")]:
        errors.fields.setdefault(LOGIC, f"{key[len(LOGIC) + 1 :]}: {errors.fields.pop(key)}")
    return errors


def _form(
    request: Request,
    viewer: Viewer,
    values: dict[str, Any],
    errors: FormErrors | None = None,
    profile: Any = None,
    extra_row: bool = False,
) -> HTMLResponse:
    rows = max(_rows(values) + (1 if extra_row else 0), 1)
    total, ok = _weight_sum(values)
    return render(
        request,
        viewer,
        "profiles/form.html",
        {
            "title": f"Edit {profile.name}" if profile else "New agent profile",
            "section": "profiles",
            "v": values,
            "e": errors.fields if errors else {},
            "errors": errors,
            "rows": rows,
            "total": total,
            "ok": ok,
            "options": OPTIONS,
            "profile": profile,
        },
        status_code=errors.status if errors else 200,
    )


def _edited_rows(items: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], bool]:
    """The no-script dimension editor: "Add dimension" and "Remove" buttons post the form back."""
    actions = dict(items)
    remove = actions.get("_remove")
    if remove is not None and remove.isdigit():
        prefix = f"evaluationDimensions.{remove}."
        return [(k, v) for k, v in items if not k.startswith(prefix)], True
    return items, actions.get("_action") == "add_dimension"


def _renumbered(values: dict[str, Any]) -> dict[str, Any]:
    payload = unflatten(values.items())
    return {
        **{k: v for k, v in values.items() if not k.startswith("evaluationDimensions.")},
        **flatten({"evaluationDimensions": payload.get("evaluationDimensions", [])}),
    }


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
    items, rerender = _edited_rows(await form_items(request))
    values = _renumbered({k: v for k, v in items if k != "csrf_token" and not k.startswith("_")})
    if rerender:
        return _form(request, viewer, values, extra_row=dict(items).get("_action") == "add_dimension")

    async def create() -> Any:
        return await service.create(db, viewer.workspace_id, parse(AgentProfileCreate, _payload(items)))

    profile, errors = await attempt(db, create)
    if errors:
        return _form(request, viewer, values, _collapse(errors))
    return redirect(viewer.url("agent-profiles", profile.id), f"Agent profile “{profile.name}” created")


@router.get("/weight-sum")
async def weight_sum(request: Request, viewer: Viewer = Reader) -> Response:
    total, ok = _weight_sum(dict(request.query_params))
    return render(request, viewer, "profiles/_weight_sum.html", {"total": total, "ok": ok, "oob": True})


@router.get("/dimension-row")
async def dimension_row(request: Request, viewer: Viewer = Writer) -> Response:
    index = _rows(dict(request.query_params))
    return render(request, viewer, "profiles/_dimension_row.html", {"i": index, "v": {}, "e": {}})


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
    return _form(request, viewer, _form_values(profile.model_dump(mode="json")), profile=profile)


@router.post("/{profile_id}/edit")
async def update_profile(
    db: DB, request: Request, profile_id: uuid.UUID, viewer: Viewer = Writer
) -> Response:
    profile = service.to_read(await service.get(db, viewer.workspace_id, profile_id))
    items, rerender = _edited_rows(await form_items(request))
    values = _renumbered({k: v for k, v in items if k != "csrf_token" and not k.startswith("_")})
    if rerender:
        extra = dict(items).get("_action") == "add_dimension"
        return _form(request, viewer, values, profile=profile, extra_row=extra)

    async def update() -> Any:
        payload = _payload(items)
        parse(AgentProfileCreate, payload)  # a cleared required field says "Required", as on create
        if LOGIC not in dict(items) or not dict(items)[LOGIC].strip():
            payload.setdefault("scoring", {})["recommendationLogic"] = None
        return await service.update(db, viewer.workspace_id, profile_id, parse(AgentProfileUpdate, payload))

    updated, errors = await attempt(db, update)
    if errors:
        return _form(request, viewer, values, _collapse(errors), profile=profile)
    return redirect(viewer.url("agent-profiles", updated.id), "Changes saved")


@router.post("/{profile_id}/delete")
async def delete_profile(
    db: DB, request: Request, profile_id: uuid.UUID, viewer: Viewer = Writer
) -> Response:
    async def delete() -> None:
        await service.delete(db, viewer.workspace_id, profile_id)

    await service.get(db, viewer.workspace_id, profile_id)  # 404 page when it isn't ours
    _, errors = await attempt(db, delete)
    if errors:
        return redirect(viewer.url("agent-profiles", profile_id), errors.text)
    return redirect(viewer.url("agent-profiles"), "Agent profile deleted")
