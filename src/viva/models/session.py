from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from viva.kit.types import JSONType, UTCDateTime
from viva.models.base import Base, IdMixin, TimestampMixin, WorkspaceMixin


class InterviewSession(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """One interview of one participant in one stage (the API's "session")."""

    __tablename__ = "interview_sessions"
    __table_args__ = (
        Index("ix_interview_sessions_workspace_created", "workspace_id", "created_at", "id"),
        Index("ix_interview_sessions_open", "participant_id", "evaluation_stage_id", "status"),
    )

    participant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    evaluation_template_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("evaluation_templates.id", ondelete="RESTRICT"), index=True
    )
    evaluation_stage_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("evaluation_stages.id", ondelete="RESTRICT"), index=True
    )
    stage: Mapped[str] = mapped_column(String(100))  # the label the caller asked for
    stage_name: Mapped[str] = mapped_column(String(200))  # snapshot at scheduling
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    join_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The join link is shown to the company again (GET /sessions/{id}), so the token is
    # also kept encrypted; lookups use the hash.
    join_token_encrypted: Mapped[str] = mapped_column(Text)
    invite_status: Mapped[str] = mapped_column(String(20), default="queued")
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    language: Mapped[str] = mapped_column(String(35), default="en")
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    duration_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    credit_debited: Mapped[bool] = mapped_column(Boolean, default=False)
    # Scoring and review (filled by the scoring issue).
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    scale: Mapped[str | None] = mapped_column(String(10), nullable=True)
    score_percent: Mapped[float | None] = mapped_column(Float, nullable=True)
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True, index=True)
    recommendation: Mapped[str | None] = mapped_column(String(50), nullable=True)
    evaluation_breakdown: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType, nullable=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    improvement_feedback: Mapped[str | None] = mapped_column(Text, nullable=True)
    authenticity_signals: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    review_status: Mapped[str] = mapped_column(String(20), default="not_required", index=True)
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IdempotencyKey(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """A POST /sessions idempotency key: the request's fingerprint and what it produced."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("interview_sessions.id", ondelete="CASCADE"), nullable=True
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
