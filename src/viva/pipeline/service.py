"""What happens after a session is scored (SPEC §6.1): the stage's automation rule, the
reviewer's decision, and the participant's place in the pipeline."""

from __future__ import annotations

import uuid
from typing import Any, Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from viva.errors import ApiError, Conflict, ValidationFailed
from viva.kit import clock
from viva.models import EvaluationStage, InterviewSession
from viva.participants import service as participants
from viva.sessions import lifecycle
from viva.sessions import service as sessions
from viva.sessions.schemas import SessionCreate
from viva.templates import service as templates
from viva.templates.schemas import AI_STAGE_TYPES

log = structlog.get_logger(__name__)

Decision = Literal["approve", "reject"]


async def _next_stage(db: AsyncSession, session: InterviewSession) -> EvaluationStage | None:
    stages = await templates.stages_of_template(db, session.workspace_id, session.evaluation_template_id)
    current = next((s for s in stages if s.id == session.evaluation_stage_id), None)
    after = [
        s
        for s in stages
        if s.status == "active" and current is not None and s.stage_order > current.stage_order
    ]
    return min(after, key=lambda s: s.stage_order) if after else None


async def advance(db: AsyncSession, session: InterviewSession, deps: sessions.Deps) -> dict[str, Any]:
    """Move the participant on from a passed (or approved) stage: the next active stage gets a
    session (an interview with its invite, or a reviewer's task), or, after the last stage, the
    participant is `recommended`. Returns what happened, for the record."""
    nxt = await _next_stage(db, session)
    if nxt is None:
        await participants.set_pipeline_status(
            db, session.workspace_id, session.participant_id, "recommended"
        )
        return {"advanced": "recommended"}
    if nxt.stage_type not in AI_STAGE_TYPES:
        created = await sessions.open_manual_review(
            db, session.workspace_id, session.participant_id, nxt, deps
        )
        return {"advanced": "review", "session_id": str(created.id), "stage": nxt.stage_name}
    body = SessionCreate(
        candidate_id=session.participant_id,
        evaluation_template_id=session.evaluation_template_id,
        stage=nxt.type,
        interview_id=nxt.id,
    )
    try:
        async with db.begin_nested():
            created, _, _ = await sessions.schedule(db, session.workspace_id, body, deps)
    except ApiError as error:
        # Out of credits, a duplicate, a stage without a profile: the pipeline stops here and
        # says why on the session rather than failing the scoring that triggered it.
        log.warning("auto-advance failed", session_id=str(session.id), error=error.message)
        return {"advanced": "blocked", "stage": nxt.stage_name, "reason": error.message}
    return {"advanced": "scheduled", "session_id": str(created.id), "stage": nxt.stage_name}


async def after_scoring(db: AsyncSession, session: InterviewSession, deps: sessions.Deps) -> None:
    """Apply the stage's automation rule to a freshly scored session (first scoring only)."""
    stage = await templates.get_stage(db, session.workspace_id, session.evaluation_stage_id)
    required = stage.automation_rule == "require_reviewer_approval"
    lifecycle.require_review(session, required)
    if required:
        await sessions.emit_event(db, "session.review_required", session, deps)
    elif stage.automation_rule == "auto_advance" and session.passed:
        await advance(db, session, deps)


async def review(
    db: AsyncSession,
    workspace_id: uuid.UUID,
    session_id: uuid.UUID,
    decision: Decision,
    reason: str | None,
    reviewer: str,
    deps: sessions.Deps,
) -> InterviewSession:
    """A reviewer approves (advancing the participant) or rejects (`pipeline_status: rejected`).

    Allowed while the session awaits review. The reviewer may overrule the AI either way; the
    decision records whether it did (`overrides_ai`)."""
    if decision == "reject" and not reason:
        raise ValidationFailed.at(["reason"], "Give a reason when rejecting")
    session, _ = await sessions.get(db, workspace_id, session_id)
    if session.review_status != "pending":
        raise Conflict(
            f"This session is not awaiting review (review_status: {session.review_status})",
            code="review_not_pending",
        )
    if not session.manual and session.passed is None:
        raise Conflict("The session has not been scored yet", code="not_scored")
    approved = decision == "approve"
    record = {
        "decision": decision,
        "reason": reason,
        "reviewer": reviewer,
        "reviewed_at": clock.isoformat(clock.now()),
        "ai_passed": session.passed if not session.manual else None,
        "overrides_ai": (not session.manual) and approved != bool(session.passed),
    }
    lifecycle.record_review(session, approved, record)
    await sessions.emit_event(db, "session.reviewed", session, deps)
    if approved:
        lifecycle.note_on_review(session, await advance(db, session, deps))
    else:
        await participants.set_pipeline_status(db, workspace_id, session.participant_id, "rejected")
    return session
