from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from viva.kit import clock
from viva.models import Event


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


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
