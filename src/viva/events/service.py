from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from viva.kit import clock
from viva.kit.pagination import Page, PageRequest
from viva.kit.repository import WorkspaceRepository
from viva.models import Event
from viva.models.event import new_event_id
from viva.webhooks import service as webhooks


async def emit(
    db: AsyncSession,
    workspace_id: uuid.UUID,
    type: str,
    data: dict[str, Any],
    *,
    participant_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
) -> Event:
    """Record that something happened, in the same transaction as the change itself."""
    event = Event(
        id=new_event_id(),
        workspace_id=workspace_id,
        type=type,
        occurred_at=clock.now(),
        participant_id=participant_id,
        session_id=session_id,
        data=data,
    )
    db.add(event)
    await db.flush()
    # Deliveries are rows in this same transaction: no event is committed without them.
    await webhooks.fan_out(db, event)
    return event


async def redact_participant(
    db: AsyncSession, workspace_id: uuid.UUID, participant_id: uuid.UUID, replacement: dict[str, Any]
) -> None:
    """Erasure: earlier events about a participant keep their type and time, but their
    payload is replaced by `replacement` so no personal data survives."""
    await db.execute(
        update(Event)
        .where(Event.workspace_id == workspace_id, Event.participant_id == participant_id)
        .values(data=replacement)
    )


class EventRepository(WorkspaceRepository[Event]):
    model = Event
    sortable = ("occurred_at",)


async def list_events(
    db: AsyncSession,
    workspace_id: uuid.UUID,
    request: PageRequest,
    *,
    type: str | None = None,
    since: datetime | None = None,
    session_id: uuid.UUID | None = None,
    participant_id: uuid.UUID | None = None,
) -> Page[Event]:
    """The workspace's events, oldest first by default, for catching up on missed webhooks."""
    repo = EventRepository(db, workspace_id)
    stmt = repo.select()
    if type:
        stmt = stmt.where(Event.type == type)
    if since:
        stmt = stmt.where(Event.occurred_at >= since)
    if session_id:
        stmt = stmt.where(Event.session_id == session_id)
    if participant_id:
        stmt = stmt.where(Event.participant_id == participant_id)
    return await repo.paginate(stmt, request)
