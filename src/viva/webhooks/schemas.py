from __future__ import annotations

import uuid
from typing import Annotated, Literal, get_args

from pydantic import AnyUrl, BaseModel, Field, field_validator

from viva.kit.schemas import Clearable, Flag, LongText, StrictModel, Timestamp, UpdateModel

EventName = Literal[
    "session.created",
    "session.started",
    "session.completed",
    "session.scored",
    "session.failed",
    "session.cancelled",
    "session.review_required",
    "session.reviewed",
    "session.rescheduled",
    "participant.created",
    "participant.updated",
    "participant.deleted",
    "application.approved",
    "application.rejected",
    "endpoint.disabled",
]
EventType = Literal["*", EventName]  # what an endpoint subscribes to: "*" is every event
EVENT_TYPES: tuple[str, ...] = get_args(EventName)
Events = Annotated[
    list[EventType],
    Field(
        min_length=1,
        max_length=len(EVENT_TYPES) + 1,
        description='["*"] for every event, or a list of event types (repeats are ignored)',
        # "*" is all or nothing: either every entry is "*" or none is.
        json_schema_extra={"anyOf": [{"items": {"const": "*"}}, {"items": {"enum": list(EVENT_TYPES)}}]},
    ),
]


def _events(value: list[str] | None) -> list[str] | None:
    if value is not None:
        value = list(dict.fromkeys(value))
        if "*" in value and len(value) > 1:
            raise ValueError('Use either ["*"] or a list of event types, not both')
    return value


class EndpointCreate(StrictModel):
    url: AnyUrl = Field(description="https URL (http to loopback only when VIVA_ALLOW_PRIVATE_URLS)")
    events: Events = ["*"]
    description: LongText | None = None
    enabled: Flag = True

    _events = field_validator("events")(_events)


class EndpointUpdate(UpdateModel):
    url: AnyUrl | None = None
    events: Events | None = None
    description: Clearable[LongText] = None
    enabled: Flag | None = None

    _events = field_validator("events")(_events)


class EndpointRead(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None
    created_at: Timestamp
    updated_at: Timestamp


class EndpointWithSecret(EndpointRead):
    secret: str = Field(description="whsec_…; shown at creation and rotation")


class AttemptRead(BaseModel):
    attempt: int
    status_code: int | None
    response_excerpt: str | None
    error: str | None
    duration_ms: int
    attempted_at: Timestamp
    next_attempt_at: Timestamp | None
    request_headers: dict[str, str]


class DeliveryRead(BaseModel):
    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: str
    event: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    next_attempt_at: Timestamp | None
    last_status_code: int | None
    payload: str
    attempt_log: list[AttemptRead]
    created_at: Timestamp
    updated_at: Timestamp
