"""Templates and their stages: defaults, derivations and the rules that keep them consistent."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from viva.agent_profiles import service as profiles_service
from viva.errors import Conflict, NotFound, ValidationFailed
from viva.kit.pagination import Page, PageRequest
from viva.models import EvaluationStage, EvaluationTemplate
from viva.templates.repository import StageRepository, TemplateRepository
from viva.templates.schemas import (
    DERIVED_OUTCOME,
    StageCreate,
    StageRead,
    StageUpdate,
    TemplateCreate,
    TemplateDetail,
    TemplateRead,
    TemplateUpdate,
)
from viva.workspaces import service as workspaces

# ---------------------------------------------------------------- templates


def template_to_read(template: EvaluationTemplate) -> TemplateRead:
    return TemplateRead.model_validate(template, from_attributes=True)


async def template_detail(db: AsyncSession, template: EvaluationTemplate) -> TemplateDetail:
    stages = await StageRepository(db, template.workspace_id).of_template(template.id)
    return TemplateDetail.model_validate(
        {**template_to_read(template).model_dump(), "stages": [stage_to_read(s) for s in stages]}
    )


async def create_template(
    db: AsyncSession, workspace_id: uuid.UUID, data: TemplateCreate
) -> EvaluationTemplate:
    """Create a template; `success_outcome` is derived from `use_case` when not given, and
    `language` is the workspace's default language when not given."""
    values = data.model_dump()
    values["success_outcome"] = data.success_outcome or DERIVED_OUTCOME[data.use_case]
    if "language" not in data.model_fields_set:
        values["language"] = (await workspaces.get_workspace_by_id(db, workspace_id)).default_language
    template = TemplateRepository(db, workspace_id).add(EvaluationTemplate(**values))
    await db.flush()
    return template


async def get_template(
    db: AsyncSession, workspace_id: uuid.UUID, template_id: uuid.UUID, param: str | None = None
) -> EvaluationTemplate:
    """A template of this workspace, or 404 (naming the request field `param` if given)."""
    template = await TemplateRepository(db, workspace_id).get(template_id)
    if template is None:
        raise NotFound("Evaluation template", **({"param": param} if param else {}))
    return template


async def list_templates(
    db: AsyncSession,
    workspace_id: uuid.UUID,
    request: PageRequest,
    status: str | None = None,
    use_case: str | None = None,
    q: str | None = None,
) -> Page[EvaluationTemplate]:
    repo = TemplateRepository(db, workspace_id)
    return await repo.paginate(repo.filtered(status, use_case, q), request)


async def update_template(
    db: AsyncSession, workspace_id: uuid.UUID, template_id: uuid.UUID, patch: TemplateUpdate
) -> EvaluationTemplate:
    """Apply a PATCH (null, where the schema allows it, clears an optional field)."""
    template = await get_template(db, workspace_id, template_id)
    changes = patch.model_dump(exclude_unset=True)
    for key, value in changes.items():
        setattr(template, key, value)
    await db.flush()
    return template


# How many participants / sessions use a template / stage: their owners (viva.participants,
# viva.sessions) depend on this module, so the caller passes their count function.
CountUsing = Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[int]]


async def delete_template(
    db: AsyncSession, workspace_id: uuid.UUID, template_id: uuid.UUID, participants_using: CountUsing
) -> None:
    """Delete a template and its stages, unless participants are evaluated against it
    (`participants_using` is `participants.service.count_for_template`)."""
    template = await get_template(db, workspace_id, template_id)
    count = await participants_using(db, workspace_id, template_id)
    if count:
        raise Conflict(
            f"This template has {count} participant(s); archive it instead (PATCH status: archived)",
            code="in_use",
            participants=count,
        )
    await TemplateRepository(db, workspace_id).delete(template)
    await db.flush()


# ---------------------------------------------------------------- stages


def stage_to_read(stage: EvaluationStage) -> StageRead:
    return StageRead.model_validate(stage, from_attributes=True)


def _check_attempts(allow_retake: bool, max_attempts: int, path: str) -> None:
    if max_attempts > 1 and not allow_retake:
        raise ValidationFailed.at([path], "max_attempts above 1 needs allow_retake: true")


async def _check_profile(db: AsyncSession, workspace_id: uuid.UUID, profile_id: uuid.UUID | None) -> None:
    if profile_id is not None:
        try:
            await profiles_service.get(db, workspace_id, profile_id)
        except NotFound:
            raise NotFound("Agent profile", param="agent_profile_id") from None


async def create_stage(db: AsyncSession, workspace_id: uuid.UUID, data: StageCreate) -> EvaluationStage:
    """Add a stage to a template; missing settings come from the template's defaults."""
    template = await get_template(db, workspace_id, data.evaluation_template_id, "evaluation_template_id")
    await _check_profile(db, workspace_id, data.agent_profile_id)
    values: dict[str, Any] = data.model_dump()
    values["stage_name"] = data.stage_name or data.type
    values["duration_minutes"] = data.duration_minutes or template.default_duration_minutes
    values["difficulty"] = data.difficulty or template.default_difficulty
    values["max_attempts"] = data.max_attempts or (3 if data.allow_retake else 1)
    _check_attempts(values["allow_retake"], values["max_attempts"], "max_attempts")
    stage = StageRepository(db, workspace_id).add(EvaluationStage(**values))
    await db.flush()
    return stage


async def get_stage(db: AsyncSession, workspace_id: uuid.UUID, stage_id: uuid.UUID) -> EvaluationStage:
    stage = await StageRepository(db, workspace_id).get(stage_id)
    if stage is None:
        raise NotFound("Evaluation stage")
    return stage


async def list_stages(
    db: AsyncSession,
    workspace_id: uuid.UUID,
    request: PageRequest,
    template_id: uuid.UUID | None = None,
    status: str | None = None,
    stage_type: str | None = None,
) -> Page[EvaluationStage]:
    repo = StageRepository(db, workspace_id)
    return await repo.paginate(repo.filtered(template_id, status, stage_type), request)


async def stages_of_template(
    db: AsyncSession, workspace_id: uuid.UUID, template_id: uuid.UUID
) -> list[EvaluationStage]:
    """Every stage of a template in pipeline order (stage_order, then creation)."""
    return await StageRepository(db, workspace_id).of_template(template_id)


async def update_stage(
    db: AsyncSession, workspace_id: uuid.UUID, stage_id: uuid.UUID, patch: StageUpdate
) -> EvaluationStage:
    stage = await get_stage(db, workspace_id, stage_id)
    changes = patch.model_dump(exclude_unset=True)
    moved = changes.pop("evaluation_template_id", stage.evaluation_template_id)
    if moved != stage.evaluation_template_id:
        raise ValidationFailed.at(
            ["evaluation_template_id"],
            "A stage cannot move to another template; create a stage there instead",
        )
    if "agent_profile_id" in changes:
        await _check_profile(db, workspace_id, changes["agent_profile_id"])
    if changes.get("allow_retake") and "max_attempts" not in changes and stage.max_attempts == 1:
        changes["max_attempts"] = 3  # the documented default when retakes are allowed
    if changes.get("allow_retake") is False and "max_attempts" not in changes:
        changes["max_attempts"] = 1
    _check_attempts(
        changes.get("allow_retake", stage.allow_retake),
        changes.get("max_attempts", stage.max_attempts),
        "max_attempts",
    )
    for key, value in changes.items():
        setattr(stage, key, value)
    await db.flush()
    return stage


async def delete_stage(
    db: AsyncSession, workspace_id: uuid.UUID, stage_id: uuid.UUID, sessions_in: CountUsing
) -> None:
    """Delete a stage, unless sessions were scheduled in it (409: archive it instead;
    `sessions_in` is `sessions.service.count_for_stage`)."""
    stage = await get_stage(db, workspace_id, stage_id)
    count = await sessions_in(db, workspace_id, stage_id)
    if count:
        raise Conflict(
            f"This stage has {count} session(s); archive it instead (PATCH status: archived)",
            code="in_use",
            sessions=count,
        )
    await StageRepository(db, workspace_id).delete(stage)
    await db.flush()


async def active_stages_using_profile(
    db: AsyncSession, workspace_id: uuid.UUID, profile_id: uuid.UUID
) -> list[EvaluationStage]:
    return await StageRepository(db, workspace_id).active_using_profile(profile_id)
