from __future__ import annotations

import uuid

from sqlalchemy import Float, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from viva.models.base import Base, WorkspaceMixin


class SessionRecording(WorkspaceMixin, Base):
    """The interview's audio when the candidate answered by voice; written only by viva.recordings.

    One row per session that started recording. `status` is `capturing` while the room uploads
    parts, then `ready` (one Ogg Opus file at `key`), `failed`, `expired` (removed by the
    retention setting) or null (takes began but no part arrived: no recording)."""

    __tablename__ = "session_recordings"

    session_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("interview_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    key: Mapped[str | None] = mapped_column(String(300), nullable=True, unique=True, index=True)
    # While `capturing`, the bytes uploaded so far (the upload budget); once `ready`, the file's size.
    bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    takes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
