from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from viva.kit.types import JSONType
from viva.models.base import Base, IdMixin, TimestampMixin, WorkspaceMixin


class AgentProfile(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    __tablename__ = "agent_profiles"
    # Lists page through a workspace in created_at order; without this SQLite sorts them all.
    __table_args__ = (Index("ix_agent_profiles_workspace_created", "workspace_id", "created_at", "id"),)

    name: Mapped[str] = mapped_column(String(200))
    persona: Mapped[str] = mapped_column(Text)
    use_case: Mapped[str] = mapped_column(String(20))
    evaluation_dimensions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    interaction: Mapped[dict[str, Any]] = mapped_column(JSONType)
    scoring: Mapped[dict[str, Any]] = mapped_column(JSONType)
    context: Mapped[dict[str, Any]] = mapped_column(JSONType)
    output: Mapped[dict[str, Any]] = mapped_column(JSONType)
    additional_instructions: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    forked_from_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("agent_profiles.id", ondelete="SET NULL"), nullable=True
    )
