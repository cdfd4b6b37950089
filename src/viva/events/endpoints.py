from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from viva.auth.dependencies import require
from viva.auth.service import Principal
from viva.db import DB
from viva.events import service
from viva.kit.http import listing
from viva.kit.pagination import PageRequest, page_params
from viva.kit.schemas import ListResponse, QueryDateTime
from viva.webhooks.schemas import EventName
from viva.webhooks.service import envelope

router = APIRouter(prefix="/events", tags=["Events"])


class EventRead(BaseModel):
    id: str
    event: str
    occurred_at: str
    data: dict[str, Any]


@router.get(
    "",
    response_model=ListResponse[EventRead],
    summary="The event log, in the same envelope as webhooks (oldest first)",
)
async def list_events(
    db: DB,
    principal: Annotated[Principal, Depends(require("events.read"))],
    paging: Annotated[PageRequest, Depends(page_params("occurred_at"))],
    type: Annotated[EventName | None, Query(description="One event type, e.g. session.created")] = None,
    since: Annotated[QueryDateTime | None, Query(description="ISO 8601; events at or after it")] = None,
    session_id: Annotated[uuid.UUID | None, Query()] = None,
    participant_id: Annotated[uuid.UUID | None, Query()] = None,
) -> dict[str, Any]:
    if since is not None and since.tzinfo is None:
        from viva.errors import ValidationFailed

        raise ValidationFailed.at(["since"], "Include a timezone, e.g. 2026-06-02T07:48:31Z")
    page = await service.list_events(
        db,
        principal.workspace_id,
        paging,
        type=type,
        since=since,
        session_id=session_id,
        participant_id=participant_id,
    )
    return listing(page, envelope)
