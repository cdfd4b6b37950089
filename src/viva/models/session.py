from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from viva.kit.types import JSONType, UTCDateTime
from viva.models.base import Base, IdMixin, TimestampMixin, WorkspaceMixin

if TYPE_CHECKING:
    from viva.models.recording import SessionRecording

# The rows `uq_interview_sessions_one_open` covers; the statuses are sessions.service.OPEN. The
# predicate reads `status` itself, so a session leaves the index by changing status: no other
# column has to follow the lifecycle.
ONE_OPEN_WHERE = "status IN ('scheduled', 'in_progress') AND NOT forced AND NOT manual"


class InterviewSession(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """One interview of one participant in one stage (the API's "session")."""

    __tablename__ = "interview_sessions"
    __table_args__ = (
        Index("ix_interview_sessions_workspace_created", "workspace_id", "created_at", "id"),
        Index("ix_interview_sessions_open", "participant_id", "evaluation_stage_id", "status"),
        # At most one open interview per participant and stage, enforced by the database so
        # concurrent POST /sessions cannot both pass the check (SPEC §3.5). Forced sessions are
        # outside it by definition, and reviewer tasks (manual) are not interviews.
        Index(
            "uq_interview_sessions_one_open",
            "participant_id",
            "evaluation_stage_id",
            unique=True,
            sqlite_where=text(ONE_OPEN_WHERE),
            postgresql_where=text(ONE_OPEN_WHERE),
        ),
    )

    participant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    evaluation_template_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("evaluation_templates.id", ondelete="RESTRICT"), index=True
    )
    evaluation_stage_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("evaluation_stages.id", ondelete="RESTRICT"), index=True
    )
    stage: Mapped[str] = mapped_column(String(100))  # the label the caller asked for
    stage_name: Mapped[str] = mapped_column(String(200))  # snapshot at scheduling
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    join_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The join link is shown to the company again (GET /sessions/{id}), so the token is
    # also kept encrypted; lookups use the hash.
    join_token_encrypted: Mapped[str] = mapped_column(Text)
    invite_status: Mapped[str] = mapped_column(String(20), default="queued")
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    language: Mapped[str] = mapped_column(String(35), default="en")
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    duration_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    credit_debited: Mapped[bool] = mapped_column(Boolean, default=False)
    # Scoring and review (filled by the scoring issue).
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    scale: Mapped[str | None] = mapped_column(String(10), nullable=True)
    score_percent: Mapped[float | None] = mapped_column(Float, nullable=True)
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True, index=True)
    recommendation: Mapped[str | None] = mapped_column(String(50), nullable=True)
    evaluation_breakdown: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType, nullable=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    improvement_feedback: Mapped[str | None] = mapped_column(Text, nullable=True)
    authenticity_signals: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    review_status: Mapped[str] = mapped_column(String(20), default="not_required", index=True)
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The human decision (SPEC §6.1): {decision, reason, reviewer, reviewed_at, overrides_ai}.
    review: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    # A manual_review/final_review stage: no interview, no join link; a reviewer records the outcome.
    manual: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # Scheduled with `force: true`: allowed beside another open session of the stage.
    forced: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # The live room (interview/): when the candidate consented and was last heard from, and a
    # short lease so only one request at a time writes the interviewer's next turn.
    # What the interviewer was configured with when the interview started (profile, template,
    # stage, participant, resume excerpts): later edits do not change a running interview, and
    # the scorecard can say exactly what the candidate was assessed against.
    interview_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    hard_stop_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    turn_lock_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    turn_lock_owner: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # Consecutive provider failures; a good turn resets it.
    llm_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The interview's audio (viva.recordings owns the table). Loaded with the session, since
    # the session's API shape says whether there is a recording; None until recording starts.
    recording: Mapped[SessionRecording | None] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )
    # Per spoken answer: how long the candidate waited for the interviewer's voice (sessions.live).
    voice_metrics: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)


class IdempotencyKey(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """A POST /sessions idempotency key: the request's fingerprint and what it produced."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("interview_sessions.id", ondelete="CASCADE"), nullable=True
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class TranscriptTurn(IdMixin, WorkspaceMixin, Base):
    """One stored moment of an interview: a spoken turn (interviewer or candidate) or an event
    (joined, reconnected, code run, ...). `seq` orders them; `data` holds provenance such as
    the engine that produced an interviewer turn."""

    __tablename__ = "transcript_turns"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    session_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("interview_sessions.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(20))  # interviewer | candidate | system
    kind: Mapped[str] = mapped_column(String(20))  # core.TurnKind, or "event"
    text: Mapped[str] = mapped_column(Text, default="")
    dimension: Mapped[str | None] = mapped_column(String(200), nullable=True)
    event: Mapped[str | None] = mapped_column(String(40), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    at_seconds: Mapped[float] = mapped_column(Float, default=0.0)  # since started_at
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class Scorecard(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """One scoring of a session. Rescoring adds a version; earlier ones stay as history with
    the engine that produced them. The session's scoring fields mirror the current one."""

    __tablename__ = "scorecards"
    __table_args__ = (UniqueConstraint("session_id", "version"),)

    session_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("interview_sessions.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[str] = mapped_column(String(20))  # completed | rescore
    engine: Mapped[dict[str, Any]] = mapped_column(JSONType)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
