from __future__ import annotations

import uuid

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from viva.kit.types import JSONType
from viva.models.base import Base, IdMixin, TimestampMixin, WorkspaceMixin


class EvaluationTemplate(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    __tablename__ = "evaluation_templates"
    __table_args__ = (Index("ix_evaluation_templates_workspace_created", "workspace_id", "created_at", "id"),)

    template_name: Mapped[str] = mapped_column(String(200))
    use_case: Mapped[str] = mapped_column(String(20))
    success_outcome: Mapped[str] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    objective: Mapped[str | None] = mapped_column(Text, nullable=True)
    requirements: Mapped[str | None] = mapped_column(Text, nullable=True)
    industry: Mapped[str | None] = mapped_column(Text, nullable=True)
    ai_context: Mapped[str | None] = mapped_column(Text, nullable=True)
    level: Mapped[str | None] = mapped_column(Text, nullable=True)
    skills: Mapped[list[str]] = mapped_column(JSONType)
    soft_skills: Mapped[list[str]] = mapped_column(JSONType)
    default_duration_minutes: Mapped[int] = mapped_column(Integer)
    default_difficulty: Mapped[str] = mapped_column(String(20))
    session_mode: Mapped[str] = mapped_column(String(30))
    visibility: Mapped[str] = mapped_column(String(30))
    language: Mapped[str] = mapped_column(String(35))
    status: Mapped[str] = mapped_column(String(20), index=True)


class EvaluationStage(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    __tablename__ = "evaluation_stages"
    __table_args__ = (Index("ix_evaluation_stages_workspace_created", "workspace_id", "created_at", "id"),)

    evaluation_template_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("evaluation_templates.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(100))
    stage_name: Mapped[str] = mapped_column(String(200))
    stage_type: Mapped[str] = mapped_column(String(30))
    agent_profile_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("agent_profiles.id", ondelete="SET NULL"), nullable=True, index=True
    )
    stage_order: Mapped[int] = mapped_column(Integer)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    difficulty: Mapped[str] = mapped_column(String(20))
    pass_threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    allow_retake: Mapped[bool] = mapped_column(Boolean)
    max_attempts: Mapped[int] = mapped_column(Integer)
    automation_rule: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
