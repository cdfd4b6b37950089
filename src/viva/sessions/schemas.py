from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from viva.kit import timezones
from viva.kit.schemas import Flag, Label, NoNul, StrictModel, Timestamp, bounded

Status = Literal["scheduled", "in_progress", "completed", "failed", "cancelled"]
ReviewStatus = Literal["not_required", "pending", "approved", "rejected"]
# not_configured: no SMTP server, so the email waits in the outbox; none: a reviewer-only
# (manual_review/final_review) session, which sends no invite.
InviteStatus = Literal["queued", "sent", "failed", "not_configured", "none"]
IdempotencyKeyText = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[\x20-\x7E]+$")]
Language = Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", max_length=35)]


def aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("Include a timezone, e.g. 2026-06-02T07:48:31.200Z")
    return value


class SessionCreate(StrictModel):
    candidate_id: uuid.UUID
    evaluation_template_id: uuid.UUID
    stage: Label = Field(description='A stage label: its type or name, e.g. "screen"')
    interview_id: uuid.UUID | None = Field(default=None, description="A stage id; overrides `stage`")
    idempotency_key: IdempotencyKeyText | None = None
    scheduled_at: datetime | None = None
    timezone: str = Field(default="UTC", description="An IANA time zone name, e.g. Europe/Berlin")
    notes: Annotated[str, Field(max_length=1000), NoNul] | None = Field(
        default=None, description="Never shown to the candidate"
    )
    language: Language | None = Field(default=None, description="Defaults to the template's")
    force: Flag = Field(default=False, description="Schedule even if an open session exists")
    accountSlug: str | None = Field(default=None, description="Accepted for compatibility")  # noqa: N815

    _aware = field_validator("scheduled_at")(aware)
    _zone = field_validator("timezone")(timezones.check)


class Reschedule(StrictModel):
    scheduled_at: datetime

    _aware = field_validator("scheduled_at")(aware)


class ReviewBody(StrictModel):
    decision: Literal["approve", "reject"]
    reason: Annotated[str, bounded(2000, 0), NoNul] | None = Field(
        default=None, description="Why; required to reject"
    )


class SessionRead(BaseModel):
    id: uuid.UUID
    status: Status
    candidate_id: uuid.UUID
    evaluation_template_id: uuid.UUID
    evaluation_stage_id: uuid.UUID
    stage: str
    stage_name: str
    attempt: int
    join_url: str | None
    invite_status: InviteStatus = Field(
        description="What became of the newest invite: queued (waiting to be sent), sent, failed "
        "(gave up after retries), not_configured (no SMTP server is configured, so the email waits "
        "in the outbox, GET /outbox), or none (a reviewer-only stage: no interview, no invite)"
    )
    scheduled_at: Timestamp | None
    timezone: str
    language: str
    notes: str | None
    expires_at: Timestamp
    started_at: Timestamp | None
    ended_at: Timestamp | None
    duration_seconds: int | None
    end_reason: str | None
    external_id: str | None
    score: float | None
    scale: str | None
    score_percent: float | None
    passed: bool | None
    recommendation: str | None = None  # omitted when the profile's output flags say so
    evaluation_breakdown: list[dict[str, Any]] | None = None  # omitted when the profile's output flags say so
    summary: str | None
    improvement_feedback: str | None = None  # omitted when the profile's output flags say so
    authenticity_signals: dict[str, Any] | None
    review_status: ReviewStatus
    review: dict[str, Any] | None = Field(
        description="The reviewer's decision: {decision, reason, reviewer, reviewed_at, overrides_ai}"
    )
    transcript_url: str | None = None  # omitted when includeTranscript is false
    recording_url: str | None = Field(
        default=None,  # omitted with the transcript when includeTranscript is false
        description="The interview's audio (voice interviews): a signed link, valid one hour from now",
    )
    voice_metrics: dict[str, Any] | None = Field(
        default=None,
        description="Voice interviews: how fast the interviewer's voice answered spoken answers (ms, "
        "p50/p95/max): reply_latency_ms from the end of the candidate's speech to the first audio "
        "heard (measured by the room), server_latency_ms from the answer's arrival to its first "
        "audio sent, stt_ms, tts_first_sentence_ms",
    )
    scored_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class SessionCreated(SessionRead):
    idempotent: bool


class Success(BaseModel):
    success: bool


class TranscriptTurnRead(BaseModel):
    seq: int = Field(description="Order within the transcript, from 1")
    at: str = Field(description="When it was stored (ISO 8601, UTC)")
    at_seconds: float = Field(description="Seconds since the interview started")
    speaker: Literal["interviewer", "candidate", "system"]
    kind: str = Field(
        description="intro, question, follow_up, coding_task, reply, wrap_up, closing, answer; or event"
    )
    text: str
    dimension: str | None = Field(description="The evaluation dimension an interviewer turn is about")
    event: str | None = Field(description="For kind=event: joined, reconnected, ended, code_run, ...")
    data: dict[str, Any] = Field(
        description="Provenance and details: for interviewer turns the engine (builtin, or llm with "
        "provider and model); for answers the latency and `understanding` ({label, about}: how the "
        "interviewer read the turn, see docs/candidate-room.md); for events their details"
    )


class TranscriptRead(BaseModel):
    session_id: uuid.UUID
    status: Status
    engine: dict[str, Any] | None = Field(
        description="What produced the interviewer's words (from the last interviewer turn)"
    )
    turns: list[TranscriptTurnRead]


class OutboxMessage(BaseModel):
    id: uuid.UUID
    session_id: uuid.UUID | None
    kind: str
    to: str
    subject: str
    text: str
    html: str
    status: Literal["queued", "sent", "outbox", "failed"]
    error: str | None
    sent_at: Timestamp | None
    created_at: Timestamp
