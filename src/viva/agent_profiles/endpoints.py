from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Response

from viva.agent_profiles import service
from viva.agent_profiles.schemas import (
    AgentProfileCreate,
    AgentProfileFork,
    AgentProfileRead,
    AgentProfileUpdate,
    UseCase,
)
from viva.auth.dependencies import require
from viva.auth.service import Principal
from viva.db import DB
from viva.kit.http import CREATED, listing, one_of_body, parse_body
from viva.kit.pagination import PageRequest, page_params
from viva.kit.schemas import DataResponse, ListResponse, query_text
from viva.templates import service as templates

router = APIRouter(prefix="/agent-profiles", tags=["Agent profiles"])

Reader = Annotated[Principal, Depends(require("interviews.read"))]
Writer = Annotated[Principal, Depends(require("interviews.write"))]
Paging = Annotated[PageRequest, Depends(page_params("created_at", "updated_at", "name"))]


@router.post(
    "",
    status_code=201,
    responses=CREATED,
    response_model=DataResponse[AgentProfileRead],
    summary="Create an agent profile, or fork one with ?action=fork",
    openapi_extra=one_of_body(AgentProfileCreate, AgentProfileFork),
)
async def create_agent_profile(
    db: DB,
    principal: Writer,
    payload: Annotated[dict[str, Any], Body(include_in_schema=False)],
    action: Annotated[Literal["fork"] | None, Query(description="`fork` copies `sourceId`")] = None,
) -> dict[str, Any]:
    normalized = False
    if action == "fork":
        fork = parse_body(AgentProfileFork, payload)
        profile = await service.fork(db, principal.workspace_id, fork.sourceId)
    else:
        body = parse_body(AgentProfileCreate, payload)
        normalized = body.weights_normalized
        profile = await service.create(db, principal.workspace_id, body)
    return {"data": service.to_read(profile, weights_normalized=normalized)}


@router.get("", response_model=ListResponse[AgentProfileRead], summary="List agent profiles")
async def list_agent_profiles(
    db: DB,
    principal: Reader,
    paging: Paging,
    public: Annotated[bool, Query(description="true: the public library of every workspace")] = False,
    useCase: Annotated[UseCase | None, Query()] = None,  # noqa: N803
    q: Annotated[str | None, query_text(200, "Name contains")] = None,
) -> dict[str, Any]:
    page = await service.list_profiles(
        db, principal.workspace_id, paging, public=public, use_case=useCase, q=q
    )
    return listing(page, service.to_read)


@router.get(
    "/{profile_id}",
    response_model=DataResponse[AgentProfileRead],
    summary="Get an agent profile: the workspace's own, or any in the public library (read-only)",
)
async def get_agent_profile(db: DB, principal: Reader, profile_id: uuid.UUID) -> dict[str, Any]:
    return {"data": service.to_read(await service.get_readable(db, principal.workspace_id, profile_id))}


@router.patch(
    "/{profile_id}", response_model=DataResponse[AgentProfileRead], summary="Update an agent profile"
)
async def update_agent_profile(
    db: DB, principal: Writer, profile_id: uuid.UUID, patch: AgentProfileUpdate
) -> dict[str, Any]:
    profile = await service.update(db, principal.workspace_id, profile_id, patch)
    return {"data": service.to_read(profile, weights_normalized=patch.weights_normalized)}


@router.delete("/{profile_id}", status_code=204, response_class=Response, summary="Delete an agent profile")
async def delete_agent_profile(db: DB, principal: Writer, profile_id: uuid.UUID) -> Response:
    await service.delete(db, principal.workspace_id, profile_id, templates.active_stages_using_profile)
    return Response(status_code=204)
