from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select

from viva.kit.repository import WorkspaceRepository
from viva.kit.sql import escape_like
from viva.models import EvaluationStage, EvaluationTemplate


class TemplateRepository(WorkspaceRepository[EvaluationTemplate]):
    model = EvaluationTemplate

    def filtered(self, status: str | None, use_case: str | None, q: str | None) -> Select[Any]:
        stmt = self.select()
        if status:
            stmt = stmt.where(EvaluationTemplate.status == status)
        if use_case:
            stmt = stmt.where(EvaluationTemplate.use_case == use_case)
        if q:
            stmt = stmt.where(EvaluationTemplate.template_name.ilike(f"%{escape_like(q)}%", escape="\\"))
        return stmt


class StageRepository(WorkspaceRepository[EvaluationStage]):
    model = EvaluationStage

    def filtered(
        self, template_id: uuid.UUID | None, status: str | None, stage_type: str | None
    ) -> Select[Any]:
        stmt = self.select()
        if template_id:
            stmt = stmt.where(EvaluationStage.evaluation_template_id == template_id)
        if status:
            stmt = stmt.where(EvaluationStage.status == status)
        if stage_type:
            stmt = stmt.where(EvaluationStage.stage_type == stage_type)
        return stmt

    async def of_template(self, template_id: uuid.UUID) -> list[EvaluationStage]:
        rows = await self.db.execute(
            self.select()
            .where(EvaluationStage.evaluation_template_id == template_id)
            .order_by(EvaluationStage.stage_order, EvaluationStage.created_at, EvaluationStage.id)
        )
        return list(rows.scalars())

    async def active_using_profile(self, profile_id: uuid.UUID) -> list[EvaluationStage]:
        rows = await self.db.execute(
            self.select().where(
                EvaluationStage.agent_profile_id == profile_id, EvaluationStage.status == "active"
            )
        )
        return list(rows.scalars())
