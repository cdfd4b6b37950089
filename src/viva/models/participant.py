from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from viva.kit.types import JSONType
from viva.models.base import Base, IdMixin, TimestampMixin, WorkspaceMixin


class Participant(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    __tablename__ = "participants"
    # Email is unique per (workspace, template). A plain unique index would let any number
    # of template-less rows share an email (NULLs are distinct), so uniqueness lives in
    # one derived key: "<template id or ->:<lower-cased email>".
    __table_args__ = (
        UniqueConstraint("workspace_id", "dedupe_key"),
        # Lists page through a workspace in created_at order; without this SQLite sorts them all.
        Index("ix_participants_workspace_created", "workspace_id", "created_at", "id"),
    )

    evaluation_template_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("evaluation_templates.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(400))
    external_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    phone: Mapped[str | None] = mapped_column(String(50), nullable=True)
    tags: Mapped[list[str]] = mapped_column(JSONType)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONType)
    background: Mapped[dict[str, Any]] = mapped_column(JSONType)
    resume_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    resume_status: Mapped[str] = mapped_column(String(20))
    resume_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType)
    status: Mapped[str] = mapped_column(String(20), index=True)
    # Where the person stands in the hiring pipeline (SPEC §6.1), moved by scoring and review.
    pipeline_status: Mapped[str] = mapped_column(
        String(20), default="in_progress", server_default="in_progress"
    )


class ResumeChunk(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """A passage of a participant's resume, for the interviewer to ground questions in.
    Erased with the participant."""

    __tablename__ = "resume_chunks"

    participant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # float32 little-endian vector from the offline embedding model; null until embedded.
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
