from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from viva.kit import clock
from viva.kit.types import JSONType, UTCDateTime
from viva.models.base import Base, WorkspaceMixin


def new_event_id() -> str:
    """An event id (`evt_` + 24 hex), also used for test deliveries that are not logged."""
    return "evt_" + secrets.token_hex(12)


class Event(WorkspaceMixin, Base):
    """Append-only log of what happened in a workspace (SPEC §3.8, §4)."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # evt_…
    type: Mapped[str] = mapped_column(String(60), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    participant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
