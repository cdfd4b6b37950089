from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from viva.auth.dependencies import require
from viva.auth.service import Principal, check_account_slug
from viva.db import DB
from viva.errors import refuse_method
from viva.kit.http import CREATED, CREATED_AS_200, allow_private_urls, listing
from viva.kit.pagination import PageRequest, page_params
from viva.kit.schemas import DataResponse, ListResponse, query_text
from viva.participants import service
from viva.participants.schemas import (
    BulkCreate,
    BulkResult,
    ParticipantCreate,
    ParticipantRead,
    ParticipantUpdate,
    Status,
)

router = APIRouter(prefix="/participants", tags=["Participants"])
Reader = Annotated[Principal, Depends(require("candidates.read"))]
Writer = Annotated[Principal, Depends(require("candidates.write"))]
Deleter = Annotated[Principal, Depends(require("candidates.delete"))]


@router.post(
    "",
    status_code=201,
    responses=CREATED,
    response_model=DataResponse[ParticipantRead],
    summary="Add a participant",
)
async def create_participant(
    db: DB, request: Request, principal: Writer, body: ParticipantCreate
) -> dict[str, Any]:
    participant = await service.create(
        db, principal.workspace_id, body, allow_private=allow_private_urls(request)
    )
    return {"data": service.to_read(participant)}


@router.post(
    "/bulk",
    responses=CREATED_AS_200,
    response_model=DataResponse[BulkResult],
    summary="Add up to 500 participants; invalid or duplicate rows are skipped with a reason",
)
async def bulk_create_participants(
    db: DB, request: Request, principal: Writer, body: BulkCreate
) -> dict[str, Any]:
    check_account_slug(principal, body.accountSlug)
    return {
        "data": await service.create_many(
            db, principal.workspace_id, body.participants, allow_private=allow_private_urls(request)
        )
    }


@router.get("", response_model=ListResponse[ParticipantRead], summary="List participants")
async def list_participants(
    db: DB,
    principal: Reader,
    paging: Annotated[PageRequest, Depends(page_params("created_at", "updated_at", "name", "email"))],
    evaluation_template_id: Annotated[uuid.UUID | None, Query()] = None,
    status: Annotated[Status | None, Query()] = None,
    email: Annotated[str | None, query_text(320)] = None,
    external_id: Annotated[str | None, query_text(255)] = None,
    tag: Annotated[str | None, query_text(100)] = None,
    q: Annotated[str | None, query_text(200, "Name or email contains")] = None,
) -> dict[str, Any]:
    page = await service.list_participants(
        db,
        principal.workspace_id,
        paging,
        template_id=evaluation_template_id,
        status=status,
        email=email,
        external_id=external_id,
        tag=tag,
        q=q,
    )
    return listing(page, service.to_read)


router.add_api_route("/bulk", refuse_method, methods=["GET", "PATCH", "DELETE"], include_in_schema=False)


@router.get("/{participant_id}", response_model=DataResponse[ParticipantRead], summary="Get a participant")
async def get_participant(db: DB, principal: Reader, participant_id: uuid.UUID) -> dict[str, Any]:
    return {"data": service.to_read(await service.get(db, principal.workspace_id, participant_id))}


@router.patch(
    "/{participant_id}", response_model=DataResponse[ParticipantRead], summary="Update a participant"
)
async def update_participant(
    db: DB, request: Request, principal: Writer, participant_id: uuid.UUID, body: ParticipantUpdate
) -> dict[str, Any]:
    participant = await service.update(
        db, principal.workspace_id, participant_id, body, allow_private=allow_private_urls(request)
    )
    return {"data": service.to_read(participant)}


@router.delete(
    "/{participant_id}",
    status_code=204,
    response_class=Response,
    summary="Erase a participant and everything about them",
)
async def delete_participant(db: DB, principal: Deleter, participant_id: uuid.UUID) -> Response:
    await service.erase(db, principal.workspace_id, participant_id)
    return Response(status_code=204)
