from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from viva.kit.types import UTCDateTime
from viva.models.base import Base, IdMixin, TimestampMixin, WorkspaceMixin


class EmailMessage(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """Every email Viva sends. With SMTP configured it is also delivered; without, this
    table is the local outbox."""

    __tablename__ = "email_messages"

    session_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("interview_sessions.id", ondelete="CASCADE"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(40))  # invite | reschedule | cancellation | reminder
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # queued → sent (SMTP accepted it) | outbox (kept locally, no SMTP) | failed
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
