from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from viva.auth.dependencies import require
from viva.auth.service import Principal
from viva.db import DB
from viva.kit.http import CREATED, listing
from viva.kit.pagination import PageRequest, page_params
from viva.kit.schemas import DataResponse, ListResponse, query_text
from viva.participants import service as participants
from viva.sessions import service as sessions
from viva.templates import service
from viva.templates.schemas import (
    StageCreate,
    StageRead,
    StageType,
    StageUpdate,
    Status,
    TemplateCreate,
    TemplateDetail,
    TemplateRead,
    TemplateUpdate,
    UseCase,
)

templates_router = APIRouter(prefix="/evaluation-templates", tags=["Evaluation templates"])
TReader = Annotated[Principal, Depends(require("evaluation_templates.read"))]
TWriter = Annotated[Principal, Depends(require("evaluation_templates.write"))]


@templates_router.post(
    "",
    status_code=201,
    responses=CREATED,
    response_model=DataResponse[TemplateDetail],
    summary="Create an evaluation template",
)
async def create_template(db: DB, principal: TWriter, body: TemplateCreate) -> dict[str, Any]:
    template = await service.create_template(db, principal.workspace_id, body)
    return {"data": await service.template_detail(db, template)}


@templates_router.get("", response_model=ListResponse[TemplateRead], summary="List evaluation templates")
async def list_templates(
    db: DB,
    principal: TReader,
    paging: Annotated[PageRequest, Depends(page_params("created_at", "updated_at", "template_name"))],
    status: Annotated[Status | None, Query()] = None,
    use_case: Annotated[UseCase | None, Query()] = None,
    q: Annotated[str | None, query_text(200, "Name contains")] = None,
) -> dict[str, Any]:
    page = await service.list_templates(db, principal.workspace_id, paging, status, use_case, q)
    return listing(page, service.template_to_read)


@templates_router.get(
    "/{template_id}", response_model=DataResponse[TemplateDetail], summary="Get a template with its stages"
)
async def get_template(db: DB, principal: TReader, template_id: uuid.UUID) -> dict[str, Any]:
    template = await service.get_template(db, principal.workspace_id, template_id)
    return {"data": await service.template_detail(db, template)}


@templates_router.patch(
    "/{template_id}", response_model=DataResponse[TemplateDetail], summary="Update a template"
)
async def update_template(
    db: DB, principal: TWriter, template_id: uuid.UUID, body: TemplateUpdate
) -> dict[str, Any]:
    template = await service.update_template(db, principal.workspace_id, template_id, body)
    return {"data": await service.template_detail(db, template)}


@templates_router.delete(
    "/{template_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a template (409 while participants use it)",
)
async def delete_template(db: DB, principal: TWriter, template_id: uuid.UUID) -> Response:
    await service.delete_template(db, principal.workspace_id, template_id, participants.count_for_template)
    return Response(status_code=204)


stages_router = APIRouter(prefix="/evaluation-stages", tags=["Evaluation stages"])
SReader = Annotated[Principal, Depends(require("evaluation_stages.read"))]
SWriter = Annotated[Principal, Depends(require("evaluation_stages.write"))]


@stages_router.post(
    "",
    status_code=201,
    responses=CREATED,
    response_model=DataResponse[StageRead],
    summary="Add a stage to a template",
)
async def create_stage(db: DB, principal: SWriter, body: StageCreate) -> dict[str, Any]:
    return {"data": service.stage_to_read(await service.create_stage(db, principal.workspace_id, body))}


@stages_router.get("", response_model=ListResponse[StageRead], summary="List stages")
async def list_stages(
    db: DB,
    principal: SReader,
    paging: Annotated[PageRequest, Depends(page_params("created_at", "updated_at", "stage_order"))],
    evaluation_template_id: Annotated[uuid.UUID | None, Query()] = None,
    status: Annotated[Status | None, Query()] = None,
    stage_type: Annotated[StageType | None, Query()] = None,
) -> dict[str, Any]:
    page = await service.list_stages(
        db, principal.workspace_id, paging, evaluation_template_id, status, stage_type
    )
    return listing(page, service.stage_to_read)


@stages_router.get("/{stage_id}", response_model=DataResponse[StageRead], summary="Get a stage")
async def get_stage(db: DB, principal: SReader, stage_id: uuid.UUID) -> dict[str, Any]:
    return {"data": service.stage_to_read(await service.get_stage(db, principal.workspace_id, stage_id))}


@stages_router.patch("/{stage_id}", response_model=DataResponse[StageRead], summary="Update a stage")
async def update_stage(db: DB, principal: SWriter, stage_id: uuid.UUID, body: StageUpdate) -> dict[str, Any]:
    stage = await service.update_stage(db, principal.workspace_id, stage_id, body)
    return {"data": service.stage_to_read(stage)}


@stages_router.delete("/{stage_id}", status_code=204, response_class=Response, summary="Delete a stage")
async def delete_stage(db: DB, principal: SWriter, stage_id: uuid.UUID) -> Response:
    await service.delete_stage(db, principal.workspace_id, stage_id, sessions.count_for_stage)
    return Response(status_code=204)
