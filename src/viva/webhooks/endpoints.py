from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from viva.auth.dependencies import require
from viva.auth.service import Principal
from viva.db import DB
from viva.kit.http import CREATED, allow_private_urls
from viva.kit.pagination import PageRequest, page_params
from viva.kit.schemas import DataResponse, ListResponse
from viva.webhooks import service
from viva.webhooks.schemas import (
    DeliveryRead,
    EndpointCreate,
    EndpointRead,
    EndpointUpdate,
    EndpointWithSecret,
)

router = APIRouter(prefix="/webhook-endpoints", tags=["Webhooks"])
deliveries_router = APIRouter(prefix="/webhook-deliveries", tags=["Webhooks"])
Reader = Annotated[Principal, Depends(require("webhooks.read"))]
Writer = Annotated[Principal, Depends(require("webhooks.write"))]


@router.post(
    "",
    status_code=201,
    responses=CREATED,
    response_model=DataResponse[EndpointWithSecret],
    summary="Add an endpoint; the response holds its signing secret",
)
async def create_endpoint(
    db: DB, principal: Writer, request: Request, body: EndpointCreate
) -> dict[str, Any]:
    box = request.app.state.secrets
    endpoint = await service.create(db, principal.workspace_id, body, box, allow_private_urls(request))
    return {"data": service.with_secret(endpoint, box)}


@router.get("", response_model=ListResponse[EndpointRead], summary="List endpoints")
async def list_endpoints(
    db: DB,
    principal: Reader,
    paging: Annotated[PageRequest, Depends(page_params("created_at", "updated_at"))],
) -> dict[str, Any]:
    page = await service.list_endpoints(db, principal.workspace_id, paging)
    return {"data": [service.to_read(e) for e in page.items], "meta": page.meta()}


@router.get("/{endpoint_id}", response_model=DataResponse[EndpointRead], summary="Get an endpoint")
async def get_endpoint(db: DB, principal: Reader, endpoint_id: uuid.UUID) -> dict[str, Any]:
    return {"data": service.to_read(await service.get(db, principal.workspace_id, endpoint_id))}


@router.patch(
    "/{endpoint_id}",
    response_model=DataResponse[EndpointRead],
    summary="Change an endpoint (enabled: true re-enables a disabled one)",
)
async def update_endpoint(
    db: DB, principal: Writer, request: Request, endpoint_id: uuid.UUID, body: EndpointUpdate
) -> dict[str, Any]:
    endpoint = await service.update(
        db, principal.workspace_id, endpoint_id, body, allow_private_urls(request)
    )
    return {"data": service.to_read(endpoint)}


@router.delete("/{endpoint_id}", status_code=204, response_class=Response, summary="Delete an endpoint")
async def delete_endpoint(db: DB, principal: Writer, endpoint_id: uuid.UUID) -> Response:
    await service.delete(db, principal.workspace_id, endpoint_id)
    return Response(status_code=204)


@router.get(
    "/{endpoint_id}/secret",
    response_model=DataResponse[EndpointWithSecret],
    summary="Reveal the signing secret (needs webhooks.write)",
)
async def reveal_secret(
    db: DB, principal: Writer, request: Request, endpoint_id: uuid.UUID
) -> dict[str, Any]:
    endpoint = await service.get(db, principal.workspace_id, endpoint_id)
    return {"data": service.with_secret(endpoint, request.app.state.secrets)}


@router.post(
    "/{endpoint_id}/rotate-secret",
    response_model=DataResponse[EndpointWithSecret],
    summary="New signing secret; the old one stays valid (both signatures sent) for 24 h",
)
async def rotate_secret(
    db: DB, principal: Writer, request: Request, endpoint_id: uuid.UUID
) -> dict[str, Any]:
    box = request.app.state.secrets
    endpoint = await service.rotate_secret(db, principal.workspace_id, endpoint_id, box)
    return {"data": service.with_secret(endpoint, box)}


@router.post(
    "/{endpoint_id}/test",
    response_model=DataResponse[DeliveryRead],
    summary="Send a webhook.test event to this endpoint",
)
async def test_endpoint(db: DB, principal: Writer, endpoint_id: uuid.UUID) -> dict[str, Any]:
    delivery = await service.send_test(db, principal.workspace_id, endpoint_id)
    return {"data": service.delivery_to_read(delivery, [])}


@router.get(
    "/{endpoint_id}/deliveries",
    response_model=ListResponse[DeliveryRead],
    summary="Deliveries to this endpoint, each with its attempts",
)
async def list_deliveries(
    db: DB,
    principal: Reader,
    endpoint_id: uuid.UUID,
    paging: Annotated[PageRequest, Depends(page_params("created_at", "updated_at"))],
    status: Annotated[Literal["pending", "succeeded", "failed"] | None, Query()] = None,
) -> dict[str, Any]:
    page, attempts = await service.deliveries(db, principal.workspace_id, endpoint_id, paging, status)
    return {"data": [service.delivery_to_read(d, attempts[d.id]) for d in page.items], "meta": page.meta()}


@deliveries_router.get("/{delivery_id}", response_model=DataResponse[DeliveryRead], summary="Get a delivery")
async def get_delivery(db: DB, principal: Reader, delivery_id: uuid.UUID) -> dict[str, Any]:
    delivery, attempts = await service.get_delivery(db, principal.workspace_id, delivery_id)
    return {"data": service.delivery_to_read(delivery, attempts)}


@deliveries_router.post(
    "/{delivery_id}/retry", response_model=DataResponse[DeliveryRead], summary="Send a delivery again now"
)
async def retry_delivery(db: DB, principal: Writer, delivery_id: uuid.UUID) -> dict[str, Any]:
    delivery, attempts = await service.retry(db, principal.workspace_id, delivery_id)
    return {"data": service.delivery_to_read(delivery, attempts)}
