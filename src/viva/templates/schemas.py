from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from viva.kit.schemas import (
    Clearable,
    Flag,
    Label,
    Language,
    LongText,
    Name,
    Short,
    StrictModel,
    StringList,
    Timestamp,
    UpdateModel,
)

UseCase = Literal["hiring", "admissions", "training", "custom_api"]
SuccessOutcome = Literal[
    "hire_no_hire",
    "admit_reject",
    "pass_fail",
    "ready_needs_training",
    "certified_not_certified",
    "custom",
]
Difficulty = Literal["beginner", "intermediate", "advanced", "expert", "adaptive"]
SessionMode = Literal[
    "live_ai_interview", "async_interview", "roleplay_simulation", "practice_session", "manual_review"
]
Visibility = Literal["private", "team", "organization", "public_template"]
Status = Literal["draft", "active", "archived"]
StageType = Literal[
    "ai_interview",
    "roleplay_simulation",
    "practice_session",
    "manual_review",
    "async_assessment",
    "final_review",
]
AutomationRule = Literal["none", "auto_advance", "require_reviewer_approval"]

Duration = Annotated[int, Field(ge=5, le=180)]

DERIVED_OUTCOME: dict[str, str] = {
    "hiring": "hire_no_hire",
    "admissions": "admit_reject",
    "training": "ready_needs_training",
    "custom_api": "pass_fail",
}
# Stage types that run an AI conversation and so need an agent profile to be scheduled.
AI_STAGE_TYPES = frozenset({"ai_interview", "roleplay_simulation", "practice_session", "async_assessment"})


class TemplateFields(StrictModel):
    description: LongText | None = None
    objective: LongText | None = None
    requirements: LongText | None = None
    industry: Short | None = None
    ai_context: LongText | None = None
    level: Short | None = None
    skills: StringList = []
    soft_skills: StringList = []
    default_duration_minutes: Duration = 30
    default_difficulty: Difficulty = "intermediate"
    session_mode: SessionMode = "live_ai_interview"
    visibility: Visibility = "team"
    language: Language = "en"
    status: Status = "active"


class TemplateCreate(TemplateFields):
    template_name: Name
    use_case: UseCase = "hiring"
    success_outcome: SuccessOutcome | None = Field(
        default=None, description="Derived from use_case when omitted"
    )


class TemplateUpdate(UpdateModel):
    template_name: Name | None = None
    use_case: UseCase | None = None
    success_outcome: SuccessOutcome | None = None
    description: Clearable[LongText] = None
    objective: Clearable[LongText] = None
    requirements: Clearable[LongText] = None
    industry: Clearable[Short] = None
    ai_context: Clearable[LongText] = None
    level: Clearable[Short] = None
    skills: StringList | None = None
    soft_skills: StringList | None = None
    default_duration_minutes: Duration | None = None
    default_difficulty: Difficulty | None = None
    session_mode: SessionMode | None = None
    visibility: Visibility | None = None
    language: Language | None = None
    status: Status | None = None


class StageCreate(StrictModel):
    evaluation_template_id: uuid.UUID
    type: Label
    stage_name: Name | None = Field(default=None, description="Defaults to `type`")
    stage_type: StageType = "ai_interview"
    agent_profile_id: uuid.UUID | None = None
    stage_order: int = Field(default=0, ge=0, le=1000)
    duration_minutes: Duration | None = Field(default=None, description="Defaults to the template's")
    difficulty: Difficulty | None = Field(default=None, description="Defaults to the template's")
    pass_threshold: float | None = Field(
        default=None, ge=0, le=100, description="Percent of the scale's maximum; absent: no bar"
    )
    allow_retake: Flag = False
    max_attempts: int | None = Field(default=None, ge=1, le=100, description="1, or 3 with allow_retake")
    automation_rule: AutomationRule = "none"
    status: Status = "active"


class StageUpdate(UpdateModel):
    evaluation_template_id: uuid.UUID | None = Field(default=None, description="Cannot change")
    type: Label | None = None
    stage_name: Name | None = None
    stage_type: StageType | None = None
    agent_profile_id: Clearable[uuid.UUID] = Field(default=None, description="null unassigns the profile")
    stage_order: int | None = Field(default=None, ge=0, le=1000)
    duration_minutes: Duration | None = None
    difficulty: Difficulty | None = None
    pass_threshold: Clearable[float] = Field(
        default=None, ge=0, le=100, description="null removes the stage's bar (the rubric's applies)"
    )
    allow_retake: Flag | None = None
    max_attempts: int | None = Field(default=None, ge=1, le=100)
    automation_rule: AutomationRule | None = None
    status: Status | None = None


class StageRead(BaseModel):
    id: uuid.UUID
    evaluation_template_id: uuid.UUID
    type: str
    stage_name: str
    stage_type: str
    agent_profile_id: uuid.UUID | None
    stage_order: int
    duration_minutes: int
    difficulty: str
    pass_threshold: float | None
    allow_retake: bool
    max_attempts: int
    automation_rule: str
    status: str
    created_at: Timestamp
    updated_at: Timestamp


class TemplateRead(BaseModel):
    id: uuid.UUID
    template_name: str
    use_case: str
    success_outcome: str
    description: str | None
    objective: str | None
    requirements: str | None
    industry: str | None
    ai_context: str | None
    level: str | None
    skills: list[str]
    soft_skills: list[str]
    default_duration_minutes: int
    default_difficulty: str
    session_mode: str
    visibility: str
    language: str
    status: str
    created_at: Timestamp
    updated_at: Timestamp


class TemplateDetail(TemplateRead):
    stages: list[StageRead] = Field(description="Ordered by stage_order")
