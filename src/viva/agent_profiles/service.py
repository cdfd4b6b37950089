"""Agent profile rules: create, change, fork, delete (refused while an active stage uses it)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from viva.agent_profiles.repository import AgentProfileRepository
from viva.agent_profiles.schemas import (
    AgentProfileCreate,
    AgentProfileRead,
    AgentProfileUpdate,
)
from viva.errors import Conflict, NotFound
from viva.kit.merge import merge_patch
from viva.kit.pagination import Page, PageRequest
from viva.models import AgentProfile, EvaluationStage

# Who uses a profile is known by the stages' owner (viva.templates, which depends on this module):
# the caller passes its lookup, `templates.service.active_stages_using_profile`.
StagesUsing = Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[list[EvaluationStage]]]

# Model attribute ↔ API field, for the fields whose names differ.
_FIELD_TO_COLUMN = {
    "name": "name",
    "persona": "persona",
    "useCase": "use_case",
    "evaluationDimensions": "evaluation_dimensions",
    "interaction": "interaction",
    "scoring": "scoring",
    "context": "context",
    "output": "output",
    "additionalInstructions": "additional_instructions",
    "isPublic": "is_public",
}
_NESTED = ("interaction", "scoring", "context", "output")


def to_read(profile: AgentProfile, *, weights_normalized: bool = False) -> AgentProfileRead:
    """The API shape; `weights_normalized` says the request just served normalised the weights."""
    return AgentProfileRead.model_validate(
        {
            **{field: getattr(profile, column) for field, column in _FIELD_TO_COLUMN.items()},
            "weightsNormalized": weights_normalized,
            "id": profile.id,
            "forkedFromId": profile.forked_from_id,
            "created_at": profile.created_at,
            "updated_at": profile.updated_at,
        }
    )


def _as_create(profile: AgentProfile) -> dict[str, Any]:
    return {field: getattr(profile, column) for field, column in _FIELD_TO_COLUMN.items()}


def _apply(profile: AgentProfile, data: AgentProfileCreate) -> None:
    dumped = data.model_dump(mode="json")
    for field, column in _FIELD_TO_COLUMN.items():
        setattr(profile, column, dumped[field])


async def create(db: AsyncSession, workspace_id: uuid.UUID, data: AgentProfileCreate) -> AgentProfile:
    """Create a profile in the workspace."""
    repo = AgentProfileRepository(db, workspace_id)
    profile = AgentProfile()
    _apply(profile, data)
    repo.add(profile)
    await db.flush()
    return profile


async def get(db: AsyncSession, workspace_id: uuid.UUID, profile_id: uuid.UUID) -> AgentProfile:
    """A profile of this workspace, or 404. Everything that changes or uses a profile (PATCH,
    DELETE, a stage's agent_profile_id) goes through this: another workspace's is never writable."""
    profile = await AgentProfileRepository(db, workspace_id).get(profile_id)
    if profile is None:
        raise NotFound("Agent profile")
    return profile


async def get_readable(db: AsyncSession, workspace_id: uuid.UUID, profile_id: uuid.UUID) -> AgentProfile:
    """A profile this workspace may read: its own, or one in the public library (`isPublic`, any
    workspace; SPEC §1's deliberate exception, read-only), else 404."""
    profile = await AgentProfileRepository(db, workspace_id).get_readable(profile_id)
    if profile is None:
        raise NotFound("Agent profile")
    return profile


async def list_profiles(
    db: AsyncSession,
    workspace_id: uuid.UUID,
    request: PageRequest,
    *,
    public: bool = False,
    use_case: str | None = None,
    q: str | None = None,
) -> Page[AgentProfile]:
    """The workspace's profiles, or with `public` the public library of every workspace."""
    repo = AgentProfileRepository(db, workspace_id)
    if public:
        return await repo.public_library(request, use_case, q)
    return await repo.paginate(repo.filtered(use_case, q), request)


async def update(
    db: AsyncSession, workspace_id: uuid.UUID, profile_id: uuid.UUID, patch: AgentProfileUpdate
) -> AgentProfile:
    """Apply a PATCH: absent fields stay, nested objects merge key by key (recursively; null
    clears a key, `kit.merge.merge_patch`), lists are replaced; the result must pass every rule
    a new profile must pass."""
    profile = await get(db, workspace_id, profile_id)
    merged = _as_create(profile)
    changes = patch.model_dump(mode="json", exclude_unset=True)
    if changes.get("rubric") is not None:
        merged.pop("evaluationDimensions", None)  # the rubric replaces them
    for field, value in changes.items():
        merged[field] = merge_patch(merged.get(field), value) if field in _NESTED else value
    _apply(profile, AgentProfileCreate.model_validate(merged))
    await db.flush()
    return profile


async def fork(db: AsyncSession, workspace_id: uuid.UUID, source_id: uuid.UUID) -> AgentProfile:
    """Copy a public profile (or one of the workspace's own) into the workspace. The copy
    is private and independent of its source."""
    repo = AgentProfileRepository(db, workspace_id)
    source = await repo.get_readable(source_id)
    if source is None:
        raise NotFound("Agent profile", param="sourceId")
    data = AgentProfileCreate.model_validate({**_as_create(source), "isPublic": False})
    copy = AgentProfile(forked_from_id=source.id)
    _apply(copy, data)
    repo.add(copy)
    await db.flush()
    return copy


async def delete(
    db: AsyncSession, workspace_id: uuid.UUID, profile_id: uuid.UUID, stages_using: StagesUsing
) -> None:
    """Delete a profile unless an active stage uses it (409 `in_use` listing them)."""
    profile = await get(db, workspace_id, profile_id)
    stages = await stages_using(db, workspace_id, profile_id)
    if stages:
        raise Conflict(
            "This agent profile is used by active stages; archive or reassign them first",
            code="in_use",
            stages=[
                {
                    "id": str(s.id),
                    "stage_name": s.stage_name,
                    "evaluation_template_id": str(s.evaluation_template_id),
                }
                for s in stages
            ],
        )
    await AgentProfileRepository(db, workspace_id).delete(profile)
    await db.flush()
