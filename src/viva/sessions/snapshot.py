"""What the interviewer was configured with when the interview started (`interview_snapshot`).

Taken once, when the candidate first joins (`interview.runner.build_snapshot`), so later edits
of the profile, template or stage change neither a running interview nor how it is scored. This
is the one place the stored JSON is parsed and its defaults live; the engine, the scorer and the
API read the typed object. `profile`, `template` and `stage` stay in their API shapes (what
`GET /agent-profiles/{id}` etc. return), which `core.InterviewConfig.from_data` and
`rubric.ScoringSpec.from_data` read.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from viva.models import InterviewSession
from viva.scoring.rubric import OutputFlags


class SnapshotParticipant(BaseModel):
    """The candidate as the interviewer knows them (no email: it is never shown to a model)."""

    name: str = ""
    profile: dict[str, Any] = Field(default_factory=dict)
    background: dict[str, Any] = Field(default_factory=dict)


class InterviewSnapshot(BaseModel):
    organization: str = ""
    profile: dict[str, Any]
    template: dict[str, Any] = Field(default_factory=dict)
    stage: dict[str, Any] = Field(default_factory=dict)
    participant: SnapshotParticipant = Field(default_factory=SnapshotParticipant)
    resume_excerpts: list[str] = Field(default_factory=list)
    seed: int = 0  # the question order and wording of this interview

    @property
    def output(self) -> OutputFlags:
        """The profile's `output` flags (each true unless the profile set it false)."""
        return OutputFlags.from_data(self.profile.get("output"))

    @property
    def duration_minutes(self) -> int:
        return int(self.stage.get("duration_minutes") or 0)

    def to_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def of(session: InterviewSession) -> InterviewSnapshot | None:
    """The session's snapshot, or None before the interview started (and for review tasks)."""
    data = session.interview_snapshot
    return InterviewSnapshot.model_validate(data) if data else None


def output_flags(session: InterviewSession) -> OutputFlags:
    """The profile's `output` flags for this session (all true when it was never interviewed)."""
    snap = of(session)
    return snap.output if snap else OutputFlags.from_data(None)
