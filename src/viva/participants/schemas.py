from __future__ import annotations

import json
import math
import uuid
from typing import Annotated, Any, Literal, Self

from pydantic import AnyUrl, BaseModel, EmailStr, Field, field_validator, model_validator

from viva.errors import ValidationFailed
from viva.kit.schemas import (
    Clearable,
    Label,
    Medium,
    Name,
    Short,
    StrictModel,
    Text255,
    Timestamp,
    UpdateModel,
)

Status = Literal["active", "archived"]
ResumeStatus = Literal["none", "pending", "ready", "failed"]
PipelineStatus = Literal["in_progress", "recommended", "rejected", "withdrawn"]
MAX_METADATA_BYTES = 16 * 1024
MAX_BULK = 500

Tag = Label
Tags = Annotated[list[Tag], Field(max_length=50)]
Short = Short


class Profile(StrictModel):
    title: Short | None = None
    organization: Short | None = None
    experienceLevel: Short | None = None
    location: Short | None = None


class Background(StrictModel):
    skills: Annotated[list[Name], Field(max_length=100)] = []
    education: Medium | None = None
    languages: Annotated[list[Label], Field(max_length=50)] = []


def _check_resume_url(value: AnyUrl | None) -> AnyUrl | None:
    if value is not None and value.scheme != "https":
        raise ValueError("resume_url must be an https URL")
    return value


def _check_storable(value: Any) -> None:
    """Free-form JSON must be storable as jsonb on every backend: no NaN/Infinity (Python's
    parser accepts them, JSON does not), no NUL, no lone surrogates (not UTF-8)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("metadata numbers must be finite (no NaN or Infinity)")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("metadata must not contain the NUL character (\\u0000)")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("metadata must be valid Unicode (it has a lone surrogate)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key)
            _check_storable(item)
    elif isinstance(value, list):
        for item in value:
            _check_storable(item)


def _check_metadata(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None:
        _check_storable(value)
        size = len(json.dumps(value, separators=(",", ":")).encode())
        if size > MAX_METADATA_BYTES:
            raise ValueError(f"metadata is {size} bytes; the limit is {MAX_METADATA_BYTES} (16 KiB)")
    return value


PIPELINE_ID = (
    "The vendor's name for `evaluation_template_id`: in Viva a pipeline is an evaluation template "
    "and its ordered stages. Send either; when both are sent they must be the same id"
)


class PipelineAlias(StrictModel):
    """`pipeline_id`, accepted wherever `evaluation_template_id` is (participants)."""

    evaluation_template_id: uuid.UUID | None = None
    pipeline_id: uuid.UUID | None = Field(default=None, description=PIPELINE_ID)

    @model_validator(mode="after")
    def _one_template(self) -> Self:
        # Two names for one field: they may not name two templates. A null beside an id is the
        # id (so `"pipeline_id": null` next to a template id is not a contradiction).
        both = {"pipeline_id", "evaluation_template_id"} <= self.model_fields_set
        ids = (self.pipeline_id, self.evaluation_template_id)
        if both and None not in ids and ids[0] != ids[1]:
            raise ValidationFailed.at(
                ["pipeline_id"],
                "pipeline_id is the evaluation template; it differs from evaluation_template_id (send one)",
            )
        return self

    @property
    def template_field(self) -> str:
        """The request field that named the template, for errors about it."""
        sent = self.model_fields_set
        only_pipeline = "pipeline_id" in sent and (
            "evaluation_template_id" not in sent or self.evaluation_template_id is None
        )
        return "pipeline_id" if only_pipeline else "evaluation_template_id"

    @property
    def template_id(self) -> uuid.UUID | None:
        return self.pipeline_id or self.evaluation_template_id


class ParticipantFields(PipelineAlias):
    external_id: Text255 | None = None
    phone: Annotated[str, Field(pattern=r"^[0-9+()\-. ]{3,50}$")] | None = None
    tags: Tags = []
    profile: Profile = Profile()
    background: Background = Background()
    resume_url: AnyUrl | None = None
    metadata: dict[str, Any] = {}
    status: Status = "active"

    _resume = field_validator("resume_url")(_check_resume_url)
    _metadata = field_validator("metadata")(_check_metadata)


class ParticipantCreate(ParticipantFields):
    name: Name
    email: EmailStr


MERGED = (
    "Merged key by key into what is stored (JSON Merge Patch, RFC 7396): keys not sent stay, "
    "null for a key clears it, lists are replaced"
)


class ParticipantUpdate(UpdateModel, PipelineAlias):
    evaluation_template_id: Clearable[uuid.UUID] = None
    pipeline_id: Clearable[uuid.UUID] = Field(default=None, description=PIPELINE_ID)
    name: Name | None = None
    email: EmailStr | None = None
    external_id: Clearable[Text255] = None
    phone: Clearable[Annotated[str, Field(pattern=r"^[0-9+()\-. ]{3,50}$")]] = None
    tags: Tags | None = None
    profile: Profile | None = Field(default=None, description=MERGED)
    background: Background | None = Field(default=None, description=MERGED)
    resume_url: Clearable[AnyUrl] = None
    metadata: dict[str, Any] | None = Field(default=None, description=MERGED)
    status: Status | None = None
    pipeline_status: PipelineStatus | None = Field(
        default=None, description="Scoring and review move it; set `withdrawn` when the person withdraws"
    )

    _resume = field_validator("resume_url")(_check_resume_url)
    _metadata = field_validator("metadata")(_check_metadata)


class BulkCreate(StrictModel):
    accountSlug: str | None = Field(  # noqa: N815
        default=None,
        description="Accepted for compatibility: the key's workspace slug; another workspace's is a 403",
    )
    participants: Annotated[
        list[Any],  # rows are checked one by one, so a bad row is skipped, not fatal
        Field(
            min_length=1,
            max_length=MAX_BULK,
            description="Up to 500 participants; each is validated on its own and skipped if invalid",
        ),
    ]


class ParticipantRead(BaseModel):
    id: uuid.UUID
    name: str
    email: str
    evaluation_template_id: uuid.UUID | None
    pipeline_id: uuid.UUID | None = Field(
        description="The same id as evaluation_template_id (the vendor's name)"
    )
    external_id: str | None
    phone: str | None
    tags: list[str]
    profile: Profile
    background: Background
    resume_url: str | None
    resume_status: ResumeStatus
    resume_error: str | None
    metadata: dict[str, Any]
    status: str
    pipeline_status: PipelineStatus
    created_at: Timestamp
    updated_at: Timestamp


class Skipped(BaseModel):
    index: int
    email: str | None
    reason: str


class BulkResult(BaseModel):
    created: list[ParticipantRead]
    skipped: list[Skipped]
